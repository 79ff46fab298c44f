import type { EntityManager } from '@mikro-orm/knex';
import { print } from 'graphql';
import { Client as PgClient } from 'pg';
import { type Client, createClient } from 'graphql-ws';
import { afterEach, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { Principal } from '../src/auth/principal';
import type { Operation } from '../src/common/operation';
import { type SqlRunner, toDate, toDateOrNull } from '../src/db/sql';
import { ConflictStrategy, MigrationEffective } from '../src/modules/migration/migration.enums';
import type { MigrationTargetInput } from '../src/modules/migration/migration.types';
import {
  AlertsDocument,
  AssignSeatDocument,
  AuditLogDocument,
  CancelLicenseMigrationDocument,
  CheckinSeatDocument,
  CheckoutSeatDocument,
  ComplianceEventLogDocument,
  IssueLicenseDocument,
  LeasesDocument,
  LicenseMigrationsDocument,
  type LicenseType,
  type MigrateLicenseMutationVariables,
  MigrateLicenseDocument,
  type MigrationAlertRaisedSubscription,
  MigrationAlertRaisedDocument,
  MigrationLicenseStateDocument,
  MigrationViolationsDocument,
  PreviewLicenseMigrationDocument,
  RecordUsageDocument,
  RenewLicenseDocument,
  SeatsDocument,
  ViolationsDocument,
} from './generated/graphql';
import { licensed, organization, plan, product } from './support/factories';
import { describeEachDatabase, startTestServer, type TestServer } from './support/server';

const DAY = 86_400_000;
const TYPES: LicenseType[] = ['SUBSCRIPTION', 'USER', 'CONCURRENT', 'SITE', 'FEATURE'];

/** A service call as the system, like a job's. */
const op = (t: TestServer): Operation => ({
  principal: Principal.system('test'),
  requestId: 'test',
  em: t.server.orm.em.fork() as EntityManager,
});

/** Now, to the second, a minute ago: a fixed `now` for service calls that the term around it is built from. */
const aMinuteAgo = () => new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);

const stateOf = async (t: TestServer, licenseId: string) => (await t.ok(MigrationLicenseStateDocument, { id: licenseId })).license;

const alertsOf = async (t: TestServer, licenseId: string) =>
  (await t.ok(AlertsDocument, { filter: { licenseId }, first: 200 })).alerts.nodes;

const auditOf = async (t: TestServer, organizationId: string) =>
  (await t.ok(AuditLogDocument, { filter: { organizationId }, first: 200 })).auditLog.nodes;

const violationsOf = async (t: TestServer, licenseId: string) =>
  (await t.ok(MigrationViolationsDocument, { filter: { licenseId } })).violations.nodes;

const seatsOf = async (t: TestServer, licenseId: string) => (await t.ok(SeatsDocument, { filter: { licenseId }, first: 200 })).seats.nodes;

const leasesOf = async (t: TestServer, licenseId: string) =>
  (await t.ok(LeasesDocument, { filter: { licenseId }, first: 200 })).leases.nodes;

async function migrate(t: TestServer, variables: MigrateLicenseMutationVariables) {
  return (await t.ok(MigrateLicenseDocument, variables)).migrateLicense;
}

/**
 * Every row the organization (or its license) has in every table a migration could touch, sorted: what "nothing
 * changed" is compared on.
 */
async function everythingOf(t: TestServer, organizationId: string, licenseId: string) {
  const byOrganization = [
    'license',
    'seat',
    'lease',
    'violation',
    'compliance_event',
    'alert',
    'audit_event',
    'usage_meter',
    'usage_sample',
    'license_migration',
  ];
  const byLicense = ['license_feature', 'alert_threshold', 'alert_notice'];
  const sorted = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).sort();
  return t.server.db.read(async (sql) => {
    const tables: Record<string, string[]> = {};
    for (const table of byOrganization)
      tables[table] = sorted(await sql.all(`select * from ${table} where organization_id = ?`, [organizationId]));
    for (const table of byLicense) tables[table] = sorted(await sql.all(`select * from ${table} where license_id = ?`, [licenseId]));
    return tables;
  });
}

const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
});

/** A graphql-ws subscriber of alertRaised, collecting what it receives. */
function subscribeAlerts(t: TestServer, licenseId: string) {
  const client = createClient({
    url: t.url.replace('http', 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${t.admin}` },
  });
  clients.push(client);
  const received: MigrationAlertRaisedSubscription['alertRaised'][] = [];
  const errors: unknown[] = [];
  client.subscribe<MigrationAlertRaisedSubscription>(
    { query: print(MigrationAlertRaisedDocument), variables: { filter: { licenseId } } },
    {
      next: (r) => (r.data ? received.push(r.data.alertRaised) : errors.push(r.errors)),
      error: (e) => errors.push(e),
      complete: () => undefined,
    },
  );
  /** Waits until `predicate` holds, or `ms` passed: what is missing, the test's expectations show. */
  const until = async (predicate: () => boolean, ms = 10_000) => {
    await vi.waitFor(() => expect(predicate()).toBe(true), { timeout: ms, interval: 20 }).catch(() => undefined);
  };
  return { received, errors, until };
}

describeEachDatabase('license migrations', (server) => {
  it('downgrades a USER license, releasing the seats of the users inactive longest, as previewed', async () => {
    const t = server();
    const l = await licensed(t, 'USER', { limits: { namedUsers: 5 } });
    for (const user of ['a', 'b', 'c', 'd', 'e']) await t.ok(AssignSeatDocument, { licenseId: l.licenseId, userId: user });
    const target = { limits: { namedUsers: 3 } };
    const preview = (await t.ok(PreviewLicenseMigrationDocument, { licenseId: l.licenseId, target })).previewLicenseMigration;
    expect(preview.outcome).toBe('APPLIED');
    expect(preview.seatsReleased.map((s) => s.userId)).toEqual(['a', 'b']);
    const applied = (
      await t.ok(MigrateLicenseDocument, { licenseId: l.licenseId, target, onConflict: { strategy: 'RELEASE_LEAST_ACTIVE' } })
    ).migrateLicense;
    expect(applied.outcome).toBe('APPLIED');
    expect(applied.preview.seatsReleased.map((s) => s.userId)).toEqual(['a', 'b']);
    const license = (await t.ok(LicenseMigrationsDocument, { id: l.licenseId })).license;
    expect(license.limits.namedUsers).toBe(3);
    expect(license.migrations).toHaveLength(1);
    expect(license.migrations[0]).toMatchObject({ status: 'APPLIED', strategy: 'RELEASE_LEAST_ACTIVE' });

    const rejected = (
      await t.ok(MigrateLicenseDocument, {
        licenseId: l.licenseId,
        target: { limits: { namedUsers: 1 } },
        onConflict: { strategy: 'REJECT' },
      })
    ).migrateLicense;
    expect(rejected).toMatchObject({ outcome: 'REJECTED', migration: null });
  });

  it('allows an overage until a date, with a violation that has that deadline', async () => {
    const t = server();
    const l = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 4 } });
    for (const f of ['m1', 'm2', 'm3', 'm4']) await t.ok(CheckoutSeatDocument, { key: l.key, fingerprint: f }, null);
    const until = new Date(Date.now() + 7 * 86_400_000).toISOString();
    const applied = (
      await t.ok(MigrateLicenseDocument, {
        licenseId: l.licenseId,
        target: { limits: { concurrentSessions: 2 } },
        onConflict: { strategy: 'ALLOW_OVERAGE_UNTIL', until },
      })
    ).migrateLicense;
    expect(applied.preview.violationsOpened).toMatchObject([{ kind: 'CONCURRENCY_OVERAGE', value: 4, limit: 2, deadline: until }]);
    const [violation] = (await t.ok(ViolationsDocument, { filter: { licenseId: l.licenseId } })).violations.nodes;
    expect(violation).toMatchObject({ kind: 'CONCURRENCY_OVERAGE', value: 4, limit: 2 });
  });

  // ---------------------------------------------------------------------------------------------------------------
  // 1. REJECT changes nothing at all.
  // ---------------------------------------------------------------------------------------------------------------

  it('REJECT that does not fit changes nothing, not even the audit log, and the preview says what was over', async () => {
    const t = server();
    const l = await licensed(t, 'USER', { limits: { namedUsers: 5, storageBytes: 1000 } });
    for (const user of ['a', 'b', 'c', 'd', 'e']) await t.ok(AssignSeatDocument, { licenseId: l.licenseId, userId: user });
    await t.ok(RecordUsageDocument, { key: l.key, metric: 'STORAGE_BYTES', value: 900 }, null);
    // A smaller plan of the same product, without the premium feature: 3 users, 500 bytes.
    const smaller = await plan(t, l.productId, 'USER', { limits: { namedUsers: 3, storageBytes: 500 }, featureKeys: [] });

    const before = await everythingOf(t, l.organizationId, l.licenseId);
    const auditBefore = await auditOf(t, l.organizationId);
    const alertsBefore = await alertsOf(t, l.licenseId);
    expect(alertsBefore.length).toBeGreaterThan(0); // threshold alerts of the seats: they must stay as they are

    const target = { planId: smaller.id };
    const preview = (await t.ok(PreviewLicenseMigrationDocument, { licenseId: l.licenseId, target, onConflict: { strategy: 'REJECT' } }))
      .previewLicenseMigration;
    const result = await migrate(t, { licenseId: l.licenseId, target, onConflict: { strategy: 'REJECT' } });
    expect(result.outcome).toBe('REJECTED');
    expect(result.migration).toBeNull();
    for (const p of [preview, result.preview]) {
      expect(p).toMatchObject({
        outcome: 'REJECTED',
        conflicts: true,
        strategy: 'REJECT',
        featuresLost: ['premium.analytics'],
        featuresGained: [],
        seatsReleased: [],
        seatsAssigned: [],
        leasesEnded: [],
        violationsOpened: [],
        violationsResolved: [],
        alerts: [],
      });
      expect(p.to).toMatchObject({ planId: smaller.id, limits: { namedUsers: 3, storageBytes: 500 }, features: [] });
      const over = Object.fromEntries(p.limits.map((c) => [c.metric, [c.used, c.after, c.over]]));
      expect(over.ACTIVE_USERS).toEqual([5, 3, 2]);
      expect(over.STORAGE_BYTES).toEqual([900, 500, 400]);
      expect(over.CONCURRENT_SESSIONS?.[2]).toBe(0);
    }

    expect(await everythingOf(t, l.organizationId, l.licenseId)).toEqual(before);
    expect(await auditOf(t, l.organizationId)).toEqual(auditBefore);
    expect(await alertsOf(t, l.licenseId)).toEqual(alertsBefore);
    const state = await stateOf(t, l.licenseId);
    expect(state).toMatchObject({ planId: l.planId, seatsInUse: 5, limits: { namedUsers: 5, storageBytes: 1000 }, migrations: [] });
    expect(state.features.map((f) => f.key)).toContain('premium.analytics');
  });

  it('REJECT of a type change that does not fit (CONCURRENT → USER with too few users) keeps every lease', async () => {
    const t = server();
    const l = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 5 } });
    for (const [fingerprint, user] of [
      ['r1', 'ann'],
      ['r2', 'ben'],
      ['r3', 'cat'],
    ])
      await t.ok(CheckoutSeatDocument, { key: l.key, fingerprint, user }, null);
    const before = await everythingOf(t, l.organizationId, l.licenseId);
    const auditBefore = await auditOf(t, l.organizationId);
    const result = await migrate(t, {
      licenseId: l.licenseId,
      target: { type: 'USER', limits: { namedUsers: 2 } },
      onConflict: { strategy: 'REJECT' },
    });
    expect(result).toMatchObject({
      outcome: 'REJECTED',
      migration: null,
      preview: { conflicts: true, leasesEnded: [], seatsAssigned: [] },
    });
    expect(result.preview.limits.find((c) => c.metric === 'ACTIVE_USERS')).toMatchObject({ used: 3, after: 2, over: 1 });
    expect(await everythingOf(t, l.organizationId, l.licenseId)).toEqual(before);
    expect(await auditOf(t, l.organizationId)).toEqual(auditBefore);
    expect((await leasesOf(t, l.licenseId)).filter((x) => x.live)).toHaveLength(3);
  });

  // ---------------------------------------------------------------------------------------------------------------
  // 2. A migration down and checkouts at the same time: never more than the limit in force.
  // ---------------------------------------------------------------------------------------------------------------

  for (const round of [1, 2, 3]) {
    it(`concurrent migrateLicense (20 → 10 sessions) and 100 checkouts never exceed the limit in force (round ${round})`, async () => {
      const t = server();
      const l = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 20 } });
      for (let i = 0; i < 15; i++) await t.ok(CheckoutSeatDocument, { key: l.key, fingerprint: `live-${i}` }, null);

      // The migration goes out among the checkouts, at a different place each round.
      const at = [10, 40, 75][round - 1]!;
      const checkout = (i: number) => t.request(CheckoutSeatDocument, { key: l.key, fingerprint: `burst-${i}` }, null);
      const checkouts: ReturnType<typeof checkout>[] = [];
      let migration: Promise<Awaited<ReturnType<typeof migrate>>> | undefined;
      for (let i = 0; i < 100; i++) {
        if (i === at)
          migration = migrate(t, {
            licenseId: l.licenseId,
            target: { limits: { concurrentSessions: 10 } },
            onConflict: { strategy: 'RELEASE_LEAST_ACTIVE' },
          });
        checkouts.push(checkout(i));
      }
      const [migrated, answers] = await Promise.all([migration!, Promise.all(checkouts)]);
      expect(migrated.outcome).toBe('APPLIED');

      for (const answer of answers) {
        expect(answer.errors).toBeUndefined();
        const c = answer.data!.checkoutSeat;
        if (c.outcome === 'GRANTED') {
          expect(c.seatsInUse).toBeLessThanOrEqual(c.seatLimit);
        } else {
          // Refused only when full, against the limit it saw.
          expect(c.outcome).toBe('NO_SEAT_AVAILABLE');
          expect(c.seatsInUse).toBe(c.seatLimit);
          expect([10, 20]).toContain(c.seatLimit);
        }
      }
      const granted = answers.filter((a) => a.data!.checkoutSeat.outcome === 'GRANTED');
      expect(granted.length).toBeLessThanOrEqual(5);
      // Once the migration committed, 10 were live: none could be granted after it.
      for (const a of granted) expect(a.data!.checkoutSeat.seatLimit).toBe(20);

      const { migrations } = await stateOf(t, l.licenseId);
      expect(migrations).toHaveLength(1);
      const appliedAt = Date.parse(migrations[0]!.appliedAt!);

      // Replay the leases as the database has them against the limit in force at each instant.
      const leases = await t.server.db.read((sql: SqlRunner) =>
        sql.all<{ id: string; checked_out_at: unknown; released_at: unknown; release_reason: string | null }>(
          'select id, checked_out_at, released_at, release_reason from lease where license_id = ?',
          [l.licenseId],
        ),
      );
      expect(leases).toHaveLength(15 + granted.length);
      const intervals = leases.map((x) => ({
        from: toDate(x.checked_out_at).getTime(),
        to: toDateOrNull(x.released_at)?.getTime() ?? Number.POSITIVE_INFINITY,
      }));
      const instants = [...new Set(intervals.flatMap((i) => [i.from, i.to]).filter(Number.isFinite))].sort((a, b) => a - b);
      for (const instant of instants) {
        const live = intervals.filter((i) => i.from <= instant && instant < i.to).length;
        const limit = instant >= appliedAt ? 10 : 20;
        expect(live, `${live} live leases at ${new Date(instant).toISOString()} under a limit of ${limit}`).toBeLessThanOrEqual(limit);
      }

      // What the migration ended is what it said, ended as migrated, at its time; 10 remain.
      const ended = leases.filter((x) => x.release_reason === 'LICENSE_MIGRATED');
      expect(ended.map((x) => x.id).sort()).toEqual(migrated.preview.leasesEnded.map((x) => x.leaseId).sort());
      expect(migrated.preview.leasesEnded.every((x) => x.fate === 'OVER_LIMIT')).toBe(true);
      for (const x of ended) expect(toDate(x.released_at).getTime()).toBe(appliedAt);
      expect(leases.filter((x) => x.released_at === null)).toHaveLength(10);
      expect((await stateOf(t, l.licenseId)).seatsInUse).toBe(10);
      expect(migrated.preview.limits.find((c) => c.metric === 'CONCURRENT_SESSIONS')).toMatchObject({ after: 10, usedAfter: 10 });
    });
  }

  // ---------------------------------------------------------------------------------------------------------------
  // 3. AT_RENEWAL: applied exactly once at renewal, across a restart; cancelled ones never.
  // ---------------------------------------------------------------------------------------------------------------

  it('applies an AT_RENEWAL migration exactly once at renewal, also when the server restarted in between', async () => {
    const kind = server().kind;
    const first = await startTestServer(kind);
    let second: TestServer | undefined;
    try {
      const l = await licensed(first, 'USER', { limits: { namedUsers: 8 } });
      for (const user of ['u1', 'u2', 'u3', 'u4', 'u5', 'u6']) {
        await first.ok(AssignSeatDocument, { licenseId: l.licenseId, userId: user });
        await first.clock.advance(3);
      }
      const target = { limits: { namedUsers: 5 } };
      const scheduled = await migrate(first, {
        licenseId: l.licenseId,
        target,
        effective: 'AT_RENEWAL',
        onConflict: { strategy: 'RELEASE_LEAST_ACTIVE' },
      });
      const initial = await stateOf(first, l.licenseId);
      expect(scheduled.outcome).toBe('SCHEDULED');
      expect(scheduled.migration).toMatchObject({
        status: 'SCHEDULED',
        effective: 'AT_RENEWAL',
        appliedAt: null,
        appliedBy: null,
        to: null,
        outcome: null,
      });
      expect(Date.parse(scheduled.migration!.dueTermEndsAt!)).toBe(Date.parse(initial.term.expiresAt!));
      expect(scheduled.preview.effectiveAt && Date.parse(scheduled.preview.effectiveAt)).toBe(Date.parse(initial.term.expiresAt!));
      // What it would do with today's usage: the least active user's seat.
      expect(scheduled.preview.seatsReleased.map((s) => s.userId)).toEqual(['u1']);
      expect(initial.scheduledMigration).toMatchObject({ id: scheduled.migration!.id, status: 'SCHEDULED' });
      // Nothing changed yet.
      expect(initial).toMatchObject({ seatsInUse: 6, limits: { namedUsers: 8 } });
      expect((await alertsOf(first, l.licenseId)).filter((a) => a.kind === 'LICENSE_MIGRATED')).toEqual([]);
      expect((await auditOf(first, l.organizationId)).map((e) => e.action)).not.toContain('license.migrate');
      expect((await auditOf(first, l.organizationId)).map((e) => e.action)).toContain('licenseMigration.schedule');

      // Another one while it waits: a conflict.
      expect(
        await first.errorCode(MigrateLicenseDocument, {
          licenseId: l.licenseId,
          target: { limits: { namedUsers: 6 } },
          effective: 'AT_RENEWAL',
          onConflict: { strategy: 'RELEASE_LEAST_ACTIVE' },
        }),
      ).toBe('CONFLICT');

      // Before the renewal: nothing is due, not even after the term's end.
      expect(await first.server.services.migrations.applyDue('test')).toEqual({ applied: 0, rejected: 0 });
      const end = Date.parse(initial.term.expiresAt!);
      expect(await first.server.services.migrations.applyDue('test', new Date(end + DAY))).toEqual({ applied: 0, rejected: 0 });
      expect(await stateOf(first, l.licenseId)).toMatchObject({
        seatsInUse: 6,
        limits: { namedUsers: 8 },
        scheduledMigration: { status: 'SCHEDULED' },
      });

      await first.server.close();
      second = await startTestServer(kind, {}, first);
      const s = second;
      expect((await stateOf(s, l.licenseId)).scheduledMigration).toMatchObject({ id: scheduled.migration!.id });
      await s.ok(RenewLicenseDocument, { id: l.licenseId, input: { termDays: 365 } });

      const applyDue = () => s.server.services.migrations.applyDue('renewal-test');
      const runs = kind === 'postgresql' ? await Promise.all([applyDue(), applyDue()]) : [await applyDue(), await applyDue()];
      runs.push(await applyDue());
      expect(runs.reduce((n, r) => n + r.applied, 0)).toBe(1);
      expect(runs.reduce((n, r) => n + r.rejected, 0)).toBe(0);

      const after = await stateOf(s, l.licenseId);
      expect(after).toMatchObject({ seatsInUse: 5, limits: { namedUsers: 5 }, scheduledMigration: null });
      expect(after.migrations).toHaveLength(1);
      expect(after.migrations[0]).toMatchObject({
        id: scheduled.migration!.id,
        status: 'APPLIED',
        appliedBy: 'migration scheduler',
        requestedBy: expect.any(String),
        cancelledAt: null,
        detail: null,
      });
      expect(after.migrations[0]!.outcome!.seatsReleased.map((x) => [x.userId, x.fate])).toEqual([['u1', 'OVER_LIMIT']]);
      expect(
        (await seatsOf(s, l.licenseId))
          .filter((x) => x.live)
          .map((x) => x.userId)
          .sort(),
      ).toEqual(['u2', 'u3', 'u4', 'u5', 'u6']);
      expect((await alertsOf(s, l.licenseId)).filter((a) => a.kind === 'LICENSE_MIGRATED')).toHaveLength(1);
      const migrateEvents = (await auditOf(s, l.organizationId)).filter((e) => e.action === 'license.migrate');
      expect(migrateEvents).toHaveLength(1);
      expect(migrateEvents[0]!.actor).toMatchObject({ type: 'SYSTEM', label: 'migration scheduler' });
      expect(migrateEvents[0]!.after).toMatchObject({ migrationId: scheduled.migration!.id, seatsReleased: 1 });
      // Nothing left to apply.
      expect(await applyDue()).toEqual({ applied: 0, rejected: 0 });
    } finally {
      await second?.close();
      await first.close();
    }
  });

  it('never applies a cancelled migration; cancelling twice is an invalid transition; AT_RENEWAL needs a term', async () => {
    const t = server();
    const l = await licensed(t, 'USER', { limits: { namedUsers: 8 } });
    const scheduled = await migrate(t, {
      licenseId: l.licenseId,
      target: { limits: { namedUsers: 4 } },
      effective: 'AT_RENEWAL',
      onConflict: { strategy: 'RELEASE_LEAST_ACTIVE' },
    });
    expect(scheduled.outcome).toBe('SCHEDULED');
    const id = scheduled.migration!.id;
    const cancelled = (await t.ok(CancelLicenseMigrationDocument, { id })).cancelLicenseMigration;
    expect(cancelled).toMatchObject({ id, status: 'CANCELLED', appliedAt: null });
    expect(cancelled.cancelledAt).not.toBeNull();
    expect(cancelled.cancelledBy).toEqual(expect.any(String));
    expect(await t.errorCode(CancelLicenseMigrationDocument, { id })).toBe('INVALID_STATE_TRANSITION');
    expect((await stateOf(t, l.licenseId)).scheduledMigration).toBeNull();

    await t.ok(RenewLicenseDocument, { id: l.licenseId, input: { termDays: 365 } });
    await t.server.services.migrations.applyDue('test');
    await t.server.services.migrations.applyDue('test');
    const state = await stateOf(t, l.licenseId);
    expect(state.limits.namedUsers).toBe(8);
    expect(state.migrations.map((m) => [m.id, m.status, m.appliedAt])).toEqual([[id, 'CANCELLED', null]]);
    expect((await alertsOf(t, l.licenseId)).filter((a) => a.kind === 'LICENSE_MIGRATED')).toEqual([]);
    expect((await auditOf(t, l.organizationId)).map((e) => e.action)).not.toContain('license.migrate');
    expect(await t.errorCode(CancelLicenseMigrationDocument, { id })).toBe('INVALID_STATE_TRANSITION');

    // Once cancelled, another can wait; an applied one cannot be cancelled.
    const next = await migrate(t, {
      licenseId: l.licenseId,
      target: { limits: { namedUsers: 6 } },
      effective: 'AT_RENEWAL',
      onConflict: { strategy: 'REJECT' },
    });
    expect(next.outcome).toBe('SCHEDULED');
    const now = await migrate(t, { licenseId: l.licenseId, target: { limits: { namedUsers: 9 } }, onConflict: { strategy: 'REJECT' } });
    expect(now.outcome).toBe('APPLIED');
    expect(await t.errorCode(CancelLicenseMigrationDocument, { id: now.migration!.id })).toBe('INVALID_STATE_TRANSITION');

    // A perpetual license has no renewal to wait for.
    const perpetual = await licensed(t, 'USER', { limits: { namedUsers: 3 } }, { termDays: null });
    expect((await stateOf(t, perpetual.licenseId)).term.expiresAt).toBeNull();
    expect(
      await t.errorCode(MigrateLicenseDocument, {
        licenseId: perpetual.licenseId,
        target: { limits: { namedUsers: 4 } },
        effective: 'AT_RENEWAL',
        onConflict: { strategy: 'REJECT' },
      }),
    ).toBe('BAD_USER_INPUT');
    expect(
      await t.errorCode(PreviewLicenseMigrationDocument, {
        licenseId: perpetual.licenseId,
        target: { limits: { namedUsers: 4 } },
        effective: 'AT_RENEWAL',
      }),
    ).toBe('BAD_USER_INPUT');
    expect((await stateOf(t, perpetual.licenseId)).migrations).toEqual([]);
  });

  it('REJECT decides at renewal: a scheduled migration that no longer fits is refused then, changing nothing', async () => {
    const t = server();
    const l = await licensed(t, 'USER', { limits: { namedUsers: 8 } });
    for (const user of ['a', 'b', 'c']) await t.ok(AssignSeatDocument, { licenseId: l.licenseId, userId: user });
    const scheduled = await migrate(t, {
      licenseId: l.licenseId,
      target: { limits: { namedUsers: 3 } },
      effective: 'AT_RENEWAL',
      onConflict: { strategy: 'REJECT' },
    });
    expect(scheduled.outcome).toBe('SCHEDULED');
    await t.ok(AssignSeatDocument, { licenseId: l.licenseId, userId: 'd' }); // now 4 > 3
    await t.ok(RenewLicenseDocument, { id: l.licenseId, input: { termDays: 365 } });
    await t.server.services.migrations.applyDue('test');
    const state = await stateOf(t, l.licenseId);
    expect(state).toMatchObject({ seatsInUse: 4, limits: { namedUsers: 8 }, scheduledMigration: null });
    expect(state.migrations[0]).toMatchObject({ status: 'REJECTED', appliedBy: 'migration scheduler' });
    expect(state.migrations[0]!.detail).toMatch(/over the new limits/);
    expect((await alertsOf(t, l.licenseId)).filter((a) => a.kind === 'LICENSE_MIGRATED')).toEqual([]);
  });

  it('never applies a migration cancelled while the scheduler is applying it', async () => {
    const t = server();
    const l = await licensed(t, 'USER', { limits: { namedUsers: 8 } });
    for (const user of ['a', 'b', 'c', 'd', 'e', 'f']) {
      await t.ok(AssignSeatDocument, { licenseId: l.licenseId, userId: user });
      await t.clock.advance(3);
    }
    const scheduled = await migrate(t, {
      licenseId: l.licenseId,
      target: { limits: { namedUsers: 4 } },
      effective: 'AT_RENEWAL',
      onConflict: { strategy: 'RELEASE_LEAST_ACTIVE' },
    });
    const id = scheduled.migration!.id;
    await t.ok(RenewLicenseDocument, { id: l.licenseId, input: { termDays: 365 } });
    const migrations = t.server.services.migrations;
    const cancelled = (promise: Promise<unknown>) =>
      promise.then(
        () => 'CANCELLED',
        (error: { code?: string }) => error.code ?? String(error),
      );

    let cancel: string;
    const config = t.database.config;
    if (config.driver === 'postgresql') {
      // Another connection holds the seats the migration is to release: the scheduler, having found the migration
      // SCHEDULED and begun to apply it, waits there; the cancel comes then, and the seats are let go.
      const other = new PgClient({ connectionString: config.url });
      await other.connect();
      try {
        await other.query('begin');
        await other.query('select id from seat where license_id = $1 and released_at is null for update', [l.licenseId]);
        const applying = migrations.applyDue('race');
        // Whether a session waits for this one (the activity view is a snapshot per transaction: cleared first).
        const waiting = async () => {
          await other.query('select pg_stat_clear_snapshot()');
          const { rows } = await other.query(
            'select count(*) as n from pg_stat_activity where pg_backend_pid() = any(pg_blocking_pids(pid))',
          );
          return Number(rows[0].n) > 0;
        };
        // How many sessions of this database wait for a lock.
        const blocked = async () => {
          await other.query('select pg_stat_clear_snapshot()');
          const { rows } = await other.query(
            'select count(*) as n from pg_stat_activity where datname = current_database() and cardinality(pg_blocking_pids(pid)) > 0',
          );
          return Number(rows[0].n);
        };
        await vi.waitFor(async () => expect(await waiting()).toBe(true), { timeout: 10_000, interval: 10 }).catch(() => undefined);
        expect(await waiting(), 'the scheduler waits on the seats it releases').toBe(true);
        // The cancel comes while the scheduler applies: it must wait for it (the migration is locked), not slip in.
        const cancelling = cancelled(migrations.cancel(op(t), id));
        await vi
          .waitFor(async () => expect(await blocked()).toBeGreaterThanOrEqual(2), { timeout: 10_000, interval: 10 })
          .catch(() => undefined); // the outcome below says whether the cancel slipped in
        await other.query('rollback');
        await applying;
        cancel = await cancelling;
      } finally {
        await other.end();
      }
    } else {
      // One writer at a time: the two cannot interleave, either goes first.
      [, cancel] = await Promise.all([migrations.applyDue('race'), cancelled(migrations.cancel(op(t), id))]);
    }
    await migrations.applyDue('after-race');

    const state = await stateOf(t, l.licenseId);
    const seen = {
      cancel,
      status: state.migrations[0]!.status,
      namedUsers: state.limits.namedUsers,
      liveSeats: state.seatsInUse,
      migratedAlerts: (await alertsOf(t, l.licenseId)).filter((a) => a.kind === 'LICENSE_MIGRATED').length,
      migrateAuditEvents: (await auditOf(t, l.organizationId)).filter((e) => e.action === 'license.migrate').length,
    };
    // Either the cancel won and nothing was applied, or the scheduler did and the cancel was refused: never both.
    expect(seen).toEqual(
      seen.cancel === 'CANCELLED'
        ? { cancel: 'CANCELLED', status: 'CANCELLED', namedUsers: 8, liveSeats: 6, migratedAlerts: 0, migrateAuditEvents: 0 }
        : { cancel: 'INVALID_STATE_TRANSITION', status: 'APPLIED', namedUsers: 4, liveSeats: 4, migratedAlerts: 1, migrateAuditEvents: 1 },
    );
  });

  // ---------------------------------------------------------------------------------------------------------------
  // 4. Proration, exact to the cent.
  // ---------------------------------------------------------------------------------------------------------------

  it('prorates an annual and a monthly term to the cent, upgrades and downgrades (credits), and nothing at renewal', async () => {
    const t = server();
    const org = await organization(t);
    const prod = await product(t);
    const migrations = t.server.services.migrations;
    const RELEASE = { strategy: ConflictStrategy.RELEASE_LEAST_ACTIVE };

    // Annual plans (365-day terms).
    //   Team:    12,000 ¢ a seat, 10 seats → 120,000 ¢ a term.
    //   Starter: 30,000 ¢ a term + 9,000 ¢ a seat, 5 seats → 30,000 + 45,000 = 75,000 ¢ a term.
    const team = await plan(t, prod.id, 'USER', { termDays: 365, limits: { namedUsers: 10 }, pricePerSeatCents: 12_000 });
    const starter = await plan(t, prod.id, 'USER', {
      termDays: 365,
      limits: { namedUsers: 5 },
      pricePerPeriodCents: 30_000,
      pricePerSeatCents: 9_000,
    });
    // Monthly plans (30-day terms).
    //   Sessions:      4,995 ¢ a term + 1,599 ¢ a session, 10 sessions → 4,995 + 15,990 = 20,985 ¢ a term.
    //   Sessions lite: 2,995 ¢ a term + 1,299 ¢ a session,  5 sessions → 2,995 +  6,495 =  9,490 ¢ a term.
    const sessions = await plan(t, prod.id, 'CONCURRENT', {
      termDays: 30,
      limits: { concurrentSessions: 10 },
      pricePerPeriodCents: 4_995,
      pricePerSeatCents: 1_599,
    });
    const lite = await plan(t, prod.id, 'CONCURRENT', {
      termDays: 30,
      limits: { concurrentSessions: 5 },
      pricePerPeriodCents: 2_995,
      pricePerSeatCents: 1_299,
    });
    const euro = await plan(t, prod.id, 'USER', { termDays: 365, limits: { namedUsers: 15 }, pricePerSeatCents: 11_000, currency: 'EUR' });

    /** A license of the plan whose term (of `termDays`) has exactly `daysLeft` days left at `now`. */
    const issue = async (planId: string, termDays: number, daysLeft: number, now: Date) => {
      const expiresAt = new Date(now.getTime() + daysLeft * DAY);
      const startsAt = new Date(expiresAt.getTime() - termDays * DAY);
      const { issueLicense } = await t.ok(IssueLicenseDocument, {
        input: { organizationId: org.id, planId, startsAt: startsAt.toISOString(), expiresAt: expiresAt.toISOString() },
      });
      expect(issueLicense.license.term.termDays).toBe(termDays);
      return issueLicense.license.id;
    };
    const priceOf = async (licenseId: string, target: MigrationTargetInput, now: Date, effective = MigrationEffective.NOW) => {
      const preview = await migrations.preview(op(t), licenseId, target, effective, RELEASE, now);
      const result = await migrations.migrate(op(t), licenseId, target, effective, RELEASE, now);
      expect(result.preview.price).toEqual(preview.price);
      return result.preview.price;
    };

    // Annual upgrade, 10 → 15 seats on Team, with exactly 200 of 365 days left:
    //   per term 120,000 → 180,000 ¢, a difference of 60,000 ¢;
    //   60,000 × 200 / 365 = 32,876.712… → 32,877 ¢ to pay.
    const now = aMinuteAgo();
    const annualUp = await issue(team.id, 365, 200, now);
    expect(await priceOf(annualUp, { limits: { namedUsers: 15 } }, now)).toEqual({
      currency: 'USD',
      currencyBefore: 'USD',
      currencyAfter: 'USD',
      termDays: 365,
      perPeriodBefore: 120_000,
      perPeriodAfter: 180_000,
      differencePerPeriod: 60_000,
      prorationCents: 32_877,
      remainingFraction: 200 / 365,
    });

    // Annual downgrade, Team (10 seats) → Starter, with exactly 100 of 365 days left:
    //   per term 120,000 → 75,000 ¢, a difference of −45,000 ¢;
    //   −45,000 × 100 / 365 = −12,328.767… → −12,329 ¢: a credit.
    const annualDown = await issue(team.id, 365, 100, now);
    expect(await priceOf(annualDown, { planId: starter.id }, now)).toEqual({
      currency: 'USD',
      currencyBefore: 'USD',
      currencyAfter: 'USD',
      termDays: 365,
      perPeriodBefore: 120_000,
      perPeriodAfter: 75_000,
      differencePerPeriod: -45_000,
      prorationCents: -12_329,
      remainingFraction: 100 / 365,
    });

    // Monthly upgrade, 10 → 15 sessions on Sessions, with exactly 15 of 30 days left:
    //   per term 20,985 → 4,995 + 15 × 1,599 = 28,980 ¢, a difference of 7,995 ¢;
    //   7,995 × 15 / 30 = 3,997.5 → 3,998 ¢ (half away from zero).
    const monthlyUp = await issue(sessions.id, 30, 15, now);
    expect(await priceOf(monthlyUp, { limits: { concurrentSessions: 15 } }, now)).toEqual({
      currency: 'USD',
      currencyBefore: 'USD',
      currencyAfter: 'USD',
      termDays: 30,
      perPeriodBefore: 20_985,
      perPeriodAfter: 28_980,
      differencePerPeriod: 7_995,
      prorationCents: 3_998,
      remainingFraction: 0.5,
    });

    // Monthly downgrade, Sessions → Sessions lite, with exactly 11 of 30 days left:
    //   per term 20,985 → 9,490 ¢, a difference of −11,495 ¢;
    //   −11,495 × 11 / 30 = −4,214.833… → −4,215 ¢: a credit.
    const monthlyDown = await issue(sessions.id, 30, 11, now);
    expect(await priceOf(monthlyDown, { planId: lite.id }, now)).toEqual({
      currency: 'USD',
      currencyBefore: 'USD',
      currencyAfter: 'USD',
      termDays: 30,
      perPeriodBefore: 20_985,
      perPeriodAfter: 9_490,
      differencePerPeriod: -11_495,
      prorationCents: -4_215,
      remainingFraction: 11 / 30,
    });

    // The same downgrade with exactly half the month left: −11,495 × 15 / 30 = −5,747.5 → −5,748 ¢ (half away from zero).
    const monthlyHalf = await issue(sessions.id, 30, 15, now);
    expect((await priceOf(monthlyHalf, { planId: lite.id }, now)).prorationCents).toBe(-5_748);

    // A whole term left, to the millisecond: the whole difference. 10 → 11 seats on Team: 12,000 ¢.
    const whole = await issue(team.id, 365, 365, now);
    expect(await priceOf(whole, { limits: { namedUsers: 11 } }, now)).toMatchObject({ prorationCents: 12_000, remainingFraction: 1 });

    // At renewal nothing is prorated (the difference per term is still shown), and the same when it is applied.
    const atRenewal = await issue(team.id, 365, 200, now);
    expect(await priceOf(atRenewal, { limits: { namedUsers: 15 } }, now, MigrationEffective.AT_RENEWAL)).toEqual({
      currency: 'USD',
      currencyBefore: 'USD',
      currencyAfter: 'USD',
      termDays: 365,
      perPeriodBefore: 120_000,
      perPeriodAfter: 180_000,
      differencePerPeriod: 60_000,
      prorationCents: 0,
      remainingFraction: 0,
    });
    await t.ok(RenewLicenseDocument, { id: atRenewal, input: { termDays: 365 } });
    await migrations.applyDue('test');
    const [applied] = (await stateOf(t, atRenewal)).migrations;
    expect(applied).toMatchObject({ status: 'APPLIED', outcome: { price: { prorationCents: 0, remainingFraction: 0 } } });

    // Another currency: each price in its own, and no difference can be told.
    const other = await issue(team.id, 365, 200, now);
    expect(await priceOf(other, { planId: euro.id }, now)).toMatchObject({
      currencyBefore: 'USD',
      currencyAfter: 'EUR',
      perPeriodBefore: 120_000,
      perPeriodAfter: 165_000,
      differencePerPeriod: null,
      prorationCents: null,
    });

    // The license's own term, not its plan's: a 30-day license on the annual Team plan, 20 days left, 10 → 11 seats:
    //   12,000 × 20 / 30 = 8,000 ¢ (the plan's 365 days would make it 658 ¢).
    const monthEnd = new Date(now.getTime() + 20 * DAY);
    const { issueLicense: short } = await t.ok(IssueLicenseDocument, {
      input: {
        organizationId: org.id,
        planId: team.id,
        startsAt: new Date(monthEnd.getTime() - 30 * DAY).toISOString(),
        expiresAt: monthEnd.toISOString(),
      },
    });
    expect(await priceOf(short.license.id, { limits: { namedUsers: 11 } }, now)).toMatchObject({
      termDays: 30,
      prorationCents: 8_000,
      remainingFraction: 20 / 30,
    });

    // Renewed ahead: 265 days of the term left and the next term paid, 630 days in all; 10 → 15 seats on Team:
    //   60,000 × 630 / 365 = 103,561.64… → 103,562 ¢, more than one term's difference.
    const ahead = await issue(team.id, 365, 265, now);
    await t.ok(RenewLicenseDocument, { id: ahead, input: { termDays: 365 } });
    expect(await priceOf(ahead, { limits: { namedUsers: 15 } }, now)).toMatchObject({
      termDays: 365,
      prorationCents: 103_562,
      remainingFraction: 630 / 365,
    });

    // And over the API, the stored migration keeps the proration it was applied with.
    const [kept] = (await stateOf(t, annualUp)).migrations;
    expect(kept!.outcome!.price).toEqual({ prorationCents: 32_877, remainingFraction: 200 / 365 });
  });

  // ---------------------------------------------------------------------------------------------------------------
  // 5. Type changes: all 20 ordered pairs.
  // ---------------------------------------------------------------------------------------------------------------

  /** The target that moves a license to a type: each type with what it needs. */
  const targetFor = (type: LicenseType) => {
    switch (type) {
      case 'USER':
        return { type, limits: { namedUsers: 5 } };
      case 'CONCURRENT':
        return { type, limits: { concurrentSessions: 5 } };
      case 'SITE':
        return { type, site: { domains: ['migrated.example.com'], cidrs: ['10.99.0.0/16'] } };
      case 'FEATURE':
        return { type, featureKeys: ['premium.analytics', 'premium.sso'] };
      case 'SUBSCRIPTION':
        return { type };
    }
  };

  for (const from of TYPES) {
    for (const to of TYPES.filter((x) => x !== from)) {
      it(`migrates a ${from} license to ${to}, doing with its seats and leases what the preview says`, async () => {
        const t = server();
        const limits =
          from === 'USER'
            ? { namedUsers: 5 }
            : from === 'CONCURRENT'
              ? { concurrentSessions: 5 }
              : from === 'SUBSCRIPTION'
                ? undefined
                : {};
        const l = await licensed(t, from, limits ? { limits } : {});
        if (from === 'USER') {
          for (const user of ['alice', 'bob', 'carol']) {
            await t.ok(AssignSeatDocument, { licenseId: l.licenseId, userId: user });
            await t.clock.advance(3);
          }
        }
        if (from === 'CONCURRENT') {
          for (const [fingerprint, user] of [
            ['m1', 'alice'],
            ['m2', 'dave'],
            ['m3', null],
            ['m4', 'alice'],
          ] as const) {
            await t.ok(CheckoutSeatDocument, { key: l.key, fingerprint, user }, null);
            await t.clock.advance(3);
          }
        }
        const seatsBefore = (await seatsOf(t, l.licenseId)).filter((s) => s.live);
        const leasesBefore = (await leasesOf(t, l.licenseId)).filter((x) => x.live);

        const target = targetFor(to);
        const preview = (
          await t.ok(PreviewLicenseMigrationDocument, { licenseId: l.licenseId, target, onConflict: { strategy: 'RELEASE_LEAST_ACTIVE' } })
        ).previewLicenseMigration;
        const result = await migrate(t, { licenseId: l.licenseId, target, onConflict: { strategy: 'RELEASE_LEAST_ACTIVE' } });
        expect(result.outcome).toBe('APPLIED');
        expect(result.migration).toMatchObject({ status: 'APPLIED', from: { type: from }, to: { type: to } });
        const done = result.preview;
        for (const p of [preview, done]) {
          expect(p).toMatchObject({ outcome: 'APPLIED', from: { type: from }, to: { type: to }, violationsOpened: [] });
          expect(p.alerts.map((a) => a.kind)).toContain('LICENSE_MIGRATED');
        }
        // The preview is what was done.
        for (const key of ['seatsReleased', 'leasesEnded', 'seatsAssigned', 'limits', 'violationsOpened', 'alerts'] as const) {
          expect(done[key], key).toEqual(preview[key]);
        }

        // The defined outcome of the pair.
        const expectedReleased = from === 'USER' ? ['alice', 'bob', 'carol'] : [];
        const expectedEnded = from === 'CONCURRENT' ? ['m1', 'm2', 'm3', 'm4'] : [];
        const expectedAssigned = from === 'CONCURRENT' && to === 'USER' ? ['alice', 'dave'] : [];
        expect(done.seatsReleased.map((s) => [s.userId, s.fate])).toEqual(expectedReleased.map((u) => [u, 'TYPE_CHANGE']));
        expect(done.leasesEnded.map((x) => [x.fingerprint, x.fate])).toEqual(expectedEnded.map((f) => [f, 'TYPE_CHANGE']));
        expect(done.seatsAssigned).toEqual(expectedAssigned);
        expect(done.seatsReleased.map((s) => s.seatId).sort()).toEqual(from === 'USER' ? seatsBefore.map((s) => s.id).sort() : []);
        expect(done.leasesEnded.map((x) => x.leaseId).sort()).toEqual(from === 'CONCURRENT' ? leasesBefore.map((x) => x.id).sort() : []);

        // The effect matches.
        const seats = await seatsOf(t, l.licenseId);
        for (const s of done.seatsReleased) expect(seats.find((x) => x.id === s.seatId)?.live, s.userId).toBe(false);
        expect(
          seats
            .filter((s) => s.live)
            .map((s) => s.userId)
            .sort(),
        ).toEqual([...expectedAssigned].sort());
        const leases = await leasesOf(t, l.licenseId);
        expect(leases.filter((x) => x.live)).toEqual([]);
        for (const x of done.leasesEnded) {
          expect(leases.find((y) => y.id === x.leaseId)).toMatchObject({ live: false, releaseReason: 'LICENSE_MIGRATED' });
        }
        const state = await stateOf(t, l.licenseId);
        expect(state.type).toBe(to);
        expect(state.seatsInUse).toBe(expectedAssigned.length);
        if (to === 'SITE') expect(state.site).toEqual({ domains: ['migrated.example.com'], cidrs: ['10.99.0.0/16'] });
        if (to === 'FEATURE')
          expect(state.features.map((f) => f.key)).toEqual(expect.arrayContaining(['premium.analytics', 'premium.sso']));
        expect(state.migrations).toHaveLength(1);
        expect(state.migrations[0]!.outcome).toMatchObject({
          seatsReleased: done.seatsReleased.map((s) => ({ seatId: s.seatId, userId: s.userId, fate: s.fate })),
          leasesEnded: done.leasesEnded.map((x) => ({ leaseId: x.leaseId, fate: x.fate })),
          seatsAssigned: done.seatsAssigned,
        });
        expect((await alertsOf(t, l.licenseId)).filter((a) => a.kind === 'LICENSE_MIGRATED')).toHaveLength(1);
        const audit = await auditOf(t, l.organizationId);
        expect(audit.filter((e) => e.action === 'license.migrate')).toHaveLength(1);
        expect(audit.filter((e) => e.action === 'seat.release')).toHaveLength(expectedReleased.length);
        expect(audit.filter((e) => e.action === 'lease.end')).toHaveLength(expectedEnded.length);
      });
    }
  }

  it('needs a site to move to SITE, features to move to FEATURE, and the limit of the new type', async () => {
    const t = server();
    const bare = await licensed(t, 'SUBSCRIPTION', { featureKeys: [] });
    const attempt = (target: Record<string, unknown>) =>
      t.errorCode(MigrateLicenseDocument, { licenseId: bare.licenseId, target, onConflict: { strategy: 'RELEASE_LEAST_ACTIVE' } });
    expect(await attempt({ type: 'SITE' })).toBe('BAD_USER_INPUT');
    expect(await attempt({ type: 'SITE', site: { domains: [], cidrs: [] } })).toBe('BAD_USER_INPUT');
    expect(await attempt({ type: 'FEATURE' })).toBe('BAD_USER_INPUT');
    expect(await attempt({ type: 'FEATURE', featureKeys: [] })).toBe('BAD_USER_INPUT');
    expect(await attempt({ type: 'FEATURE', featureKeys: ['no.such.feature'] })).toBe('BAD_USER_INPUT');
    expect(await attempt({ type: 'USER' })).toBe('BAD_USER_INPUT');
    expect(await attempt({ type: 'CONCURRENT' })).toBe('BAD_USER_INPUT');
    expect(await attempt({})).toBe('BAD_USER_INPUT'); // nothing would change
    const state = await stateOf(t, bare.licenseId);
    expect(state).toMatchObject({ type: 'SUBSCRIPTION', migrations: [] });

    expect(
      (
        await migrate(t, {
          licenseId: bare.licenseId,
          target: { type: 'FEATURE', featureKeys: ['premium.sso'] },
          onConflict: { strategy: 'REJECT' },
        })
      ).outcome,
    ).toBe('APPLIED');
    expect((await stateOf(t, bare.licenseId)).features.map((f) => f.key)).toContain('premium.sso');
    expect(
      (
        await migrate(t, {
          licenseId: bare.licenseId,
          target: { type: 'SITE', site: { domains: ['example.net'], cidrs: [] } },
          onConflict: { strategy: 'REJECT' },
        })
      ).outcome,
    ).toBe('APPLIED');
    expect((await stateOf(t, bare.licenseId)).site.domains).toEqual(['example.net']);
  });

  it('keeps a SUBSCRIPTION license termed: a perpetual license cannot become a SUBSCRIPTION (as it cannot be issued one)', async () => {
    const t = server();
    const perpetual = await licensed(t, 'USER', { limits: { namedUsers: 3 } }, { termDays: null });
    expect(
      await t.errorCode(IssueLicenseDocument, {
        input: { organizationId: perpetual.organizationId, planId: perpetual.planId, type: 'SUBSCRIPTION' },
      }),
    ).toBe('BAD_USER_INPUT');
    const result = await t.request(MigrateLicenseDocument, {
      licenseId: perpetual.licenseId,
      target: { type: 'SUBSCRIPTION' },
      onConflict: { strategy: 'RELEASE_LEAST_ACTIVE' },
    });
    const state = await stateOf(t, perpetual.licenseId);
    // Refused, and the license stays what it was; not a SUBSCRIPTION license without an end of term.
    expect({ code: result.errors?.[0]?.extensions?.code, type: state.type, expiresAt: state.term.expiresAt }).toEqual({
      code: 'BAD_USER_INPUT',
      type: 'USER',
      expiresAt: null,
    });
  });

  // ---------------------------------------------------------------------------------------------------------------
  // 6. ALLOW_OVERAGE_UNTIL deadlines, and LICENSE_MIGRATED reaching subscribers.
  // ---------------------------------------------------------------------------------------------------------------

  it('ALLOW_OVERAGE_UNTIL: still over at the deadline, the scan escalates the violation to CRITICAL, once', async () => {
    const t = server();
    // 11 users on a license moved to 10: 10 % over, a LOW violation until its deadline.
    const l = await licensed(t, 'USER', { limits: { namedUsers: 11 } });
    for (let i = 0; i < 11; i++) await t.ok(AssignSeatDocument, { licenseId: l.licenseId, userId: `user-${i}` });
    const now = new Date();
    const until = new Date(Math.floor(now.getTime() / 1000) * 1000 + 7 * DAY);
    const result = await t.server.services.migrations.migrate(
      op(t),
      l.licenseId,
      { limits: { namedUsers: 10 } },
      MigrationEffective.NOW,
      { strategy: ConflictStrategy.ALLOW_OVERAGE_UNTIL, until },
      now,
    );
    expect(result.outcome).toBe('APPLIED');
    expect(result.preview.seatsReleased).toEqual([]);
    expect(result.preview.violationsOpened).toMatchObject([
      { kind: 'SEAT_OVERAGE', value: 11, limit: 10, severity: 'LOW', deadline: until },
    ]);
    const [opened] = await violationsOf(t, l.licenseId);
    expect(opened).toMatchObject({
      kind: 'SEAT_OVERAGE',
      status: 'OPEN',
      severity: 'LOW',
      value: 11,
      limit: 10,
      deadline: until.toISOString(),
    });
    expect(opened!.evidence).toMatchObject({
      strategy: 'ALLOW_OVERAGE_UNTIL',
      deadline: until.toISOString(),
      migrationId: result.migration!.id,
    });
    expect((await stateOf(t, l.licenseId)).seatsInUse).toBe(11);

    const scan = (at: Date) => t.server.services.complianceScanner.scan('test', at, { licenseId: l.licenseId });
    // Before the deadline: nothing.
    expect(await scan(new Date(until.getTime() - DAY))).toMatchObject({
      violationsEscalated: 0,
      violationsResolved: 0,
      violationsOpened: 0,
    });
    expect((await violationsOf(t, l.licenseId))[0]).toMatchObject({ status: 'OPEN', severity: 'LOW', deadline: until.toISOString() });
    // After it, still over: CRITICAL, and the deadline is spent.
    expect(await scan(new Date(until.getTime() + 60_000))).toMatchObject({ violationsEscalated: 1 });
    expect(await scan(new Date(until.getTime() + 120_000))).toMatchObject({ violationsEscalated: 0 });
    const [escalated] = await violationsOf(t, l.licenseId);
    expect(escalated).toMatchObject({ id: opened!.id, status: 'OPEN', severity: 'CRITICAL', deadline: null });
    const events = (await t.ok(ComplianceEventLogDocument, { filter: { licenseId: l.licenseId }, first: 100 })).complianceEventLog.nodes;
    expect(events.map((e) => e.type)).toEqual(['OPENED', 'ESCALATED']);
  });

  it('ALLOW_OVERAGE_UNTIL: back within the limit, the violation resolves at once and never escalates', async () => {
    const t = server();
    // Leases live a week: still live when the 3-day deadline has passed, had nobody checked in.
    const l = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 7 }, leaseTtlSeconds: 7 * 86_400 });
    const leases: string[] = [];
    for (let i = 0; i < 7; i++)
      leases.push((await t.ok(CheckoutSeatDocument, { key: l.key, fingerprint: `m${i}` }, null)).checkoutSeat.lease!.id);
    const until = new Date(Math.floor(Date.now() / 1000) * 1000 + 3 * DAY);
    await migrate(t, {
      licenseId: l.licenseId,
      target: { limits: { concurrentSessions: 5 } },
      onConflict: { strategy: 'ALLOW_OVERAGE_UNTIL', until: until.toISOString() },
    });
    const [opened] = await violationsOf(t, l.licenseId);
    expect(opened).toMatchObject({ kind: 'CONCURRENCY_OVERAGE', status: 'OPEN', value: 7, limit: 5, deadline: until.toISOString() });

    await t.ok(CheckinSeatDocument, { key: l.key, leaseId: leases[0]! }, null);
    expect((await violationsOf(t, l.licenseId))[0]).toMatchObject({ status: 'OPEN' }); // 6 of 5: still over
    await t.ok(CheckinSeatDocument, { key: l.key, leaseId: leases[1]! }, null);
    const [resolved] = await violationsOf(t, l.licenseId);
    expect(resolved).toMatchObject({ id: opened!.id, status: 'RESOLVED' });
    expect(resolved!.resolution).toMatch(/back within its limit: 5 of 5/);

    // The deadline passes: nothing to escalate.
    expect(
      await t.server.services.complianceScanner.scan('test', new Date(until.getTime() + 60_000), { licenseId: l.licenseId }),
    ).toMatchObject({ violationsEscalated: 0, violationsOpened: 0 });
    const after = await violationsOf(t, l.licenseId);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ status: 'RESOLVED', severity: opened!.severity });
    const events = (await t.ok(ComplianceEventLogDocument, { filter: { licenseId: l.licenseId }, first: 100 })).complianceEventLog.nodes;
    expect(events.map((e) => e.type)).toEqual(['OPENED', 'RESOLVED']);
  });

  it('ALLOW_OVERAGE_UNTIL needs a date in the future, and other strategies take none', async () => {
    const t = server();
    const l = await licensed(t, 'USER', { limits: { namedUsers: 5 } });
    const target = { limits: { namedUsers: 3 } };
    expect(
      await t.errorCode(MigrateLicenseDocument, { licenseId: l.licenseId, target, onConflict: { strategy: 'ALLOW_OVERAGE_UNTIL' } }),
    ).toBe('BAD_USER_INPUT');
    const past = new Date(Date.now() - DAY).toISOString();
    expect(
      await t.errorCode(MigrateLicenseDocument, {
        licenseId: l.licenseId,
        target,
        onConflict: { strategy: 'ALLOW_OVERAGE_UNTIL', until: past },
      }),
    ).toBe('BAD_USER_INPUT');
    const future = new Date(Date.now() + DAY).toISOString();
    expect(
      await t.errorCode(MigrateLicenseDocument, { licenseId: l.licenseId, target, onConflict: { strategy: 'REJECT', until: future } }),
    ).toBe('BAD_USER_INPUT');
    expect((await stateOf(t, l.licenseId)).migrations).toEqual([]);
  });

  it('delivers the LICENSE_MIGRATED alert to an alertRaised subscriber', async () => {
    const t = server();
    const l = await licensed(t, 'USER', { limits: { namedUsers: 5 } });
    // Without a cursor, the subscription replays the license's stored alerts from the start: it needs no head start.
    const sub = subscribeAlerts(t, l.licenseId);
    const result = await migrate(t, {
      licenseId: l.licenseId,
      target: { type: 'CONCURRENT', limits: { concurrentSessions: 7 } },
      onConflict: { strategy: 'REJECT' },
    });
    expect(result.outcome).toBe('APPLIED');
    await sub.until(() => sub.received.some((a) => a.kind === 'LICENSE_MIGRATED'));
    expect(sub.errors).toEqual([]);
    const delivered = sub.received.filter((a) => a.kind === 'LICENSE_MIGRATED');
    expect(delivered).toHaveLength(1);
    const [stored] = (await alertsOf(t, l.licenseId)).filter((a) => a.kind === 'LICENSE_MIGRATED');
    expect(delivered[0]).toMatchObject({ id: stored!.id, licenseId: l.licenseId, organizationId: l.organizationId, severity: 'INFO' });
    // Plans by name, and what changed.
    expect(delivered[0]!.message).toBe(
      'The license migrated. Plan “USER plan” (USER) → plan “USER plan” (CONCURRENT): namedUsers 5 → none; concurrentSessions none → 7.',
    );
  });
});
