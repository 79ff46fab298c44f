import { Client } from 'pg';
import { expect, it, vi } from 'vitest';
import type { ScanScope } from '../src/modules/compliance/compliance-scanner';
import { UsageMetric } from '../src/modules/usage/usage.types';
import type { SqlValue } from '../src/db/sql';
import {
  AddFeatureDocument,
  AssignSeatDocument,
  type AuditLogQuery,
  AuditLogDocument,
  CheckFeatureDocument,
  CheckoutSeatDocument,
  type ComplianceEventLogQuery,
  ComplianceEventLogDocument,
  LicenseDocument,
  ReleaseSeatDocument,
  RenewLicenseDocument,
  RunComplianceCheckDocument,
  ValidateLicenseDocument,
  type ViolationFilter,
  type ViolationsQuery,
  ViolationsDocument,
  WaiveViolationDocument,
} from './generated/graphql';
import { issueToken, licensed, organization } from './support/factories';
import { describeEachDatabase, type TestServer } from './support/server';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** The advisory lock a compliance scan holds on PostgreSQL. */
const SCAN_LOCK = 4_711_002;

type Violation = ViolationsQuery['violations']['nodes'][number];
type AuditEvent = AuditLogQuery['auditLog']['nodes'][number];
type ComplianceEvent = ComplianceEventLogQuery['complianceEventLog']['nodes'][number];

/**
 * Changes the database behind the server's back, as a data migration would (a limit lowered, leases left to die):
 * no enforcement point sees it, only the scan can find it.
 */
const exec = (t: TestServer, statement: string, params: SqlValue[] = []) => t.server.db.write((sql) => sql.run(statement, params));

/** One scan, run directly as the periodic job does, at `now`. */
const scan = (t: TestServer, scope: ScanScope = {}, now = new Date()) =>
  t.server.services.complianceScanner.scan('compliance-scan-test', now, scope);

/** What a scan reports having done, without its timestamp. */
const did = (opened: number, resolved: number, reopened: number, licensesChecked?: number) => ({
  skipped: false,
  violationsOpened: opened,
  violationsResolved: resolved,
  violationsReopened: reopened,
  ...(licensesChecked === undefined ? {} : { licensesChecked }),
});

async function violationsOf(t: TestServer, filter: ViolationFilter): Promise<Violation[]> {
  const all: Violation[] = [];
  let after: string | null = null;
  for (;;) {
    const { violations }: ViolationsQuery = await t.ok(ViolationsDocument, { filter, first: 200, after });
    all.push(...violations.nodes);
    if (!violations.pageInfo.hasNextPage) return all;
    after = violations.pageInfo.endCursor;
  }
}

const violationOf = async (t: TestServer, licenseId: string, kind: string) => {
  const found = (await violationsOf(t, { licenseId })).filter((v) => v.kind === kind);
  expect(found).toHaveLength(1);
  return found[0]!;
};

async function auditOf(t: TestServer, organizationId: string | null): Promise<AuditEvent[]> {
  const all: AuditEvent[] = [];
  let after: string | null = null;
  for (;;) {
    const { auditLog }: AuditLogQuery = await t.ok(AuditLogDocument, {
      filter: organizationId ? { organizationId } : {},
      first: 200,
      after,
    });
    all.push(...auditLog.nodes);
    if (!auditLog.pageInfo.hasNextPage) return all;
    after = auditLog.pageInfo.endCursor;
  }
}

async function complianceLogOf(t: TestServer, organizationId: string): Promise<ComplianceEvent[]> {
  const all: ComplianceEvent[] = [];
  let after: string | null = null;
  for (;;) {
    const { complianceEventLog }: ComplianceEventLogQuery = await t.ok(ComplianceEventLogDocument, {
      filter: { organizationId },
      first: 200,
      after,
    });
    all.push(...complianceEventLog.nodes);
    if (!complianceEventLog.pageInfo.hasNextPage) return all;
    after = complianceEventLog.pageInfo.endCursor;
  }
}

const assignSeats = async (t: TestServer, licenseId: string, users: string[]) => {
  const seats: string[] = [];
  for (const user of users) {
    const { assignSeat } = await t.ok(AssignSeatDocument, { licenseId, userId: `${user}@example.com` });
    expect(assignSeat.outcome).toBe('ASSIGNED');
    seats.push(assignSeat.seat!.id);
  }
  return seats;
};

const checkout = async (t: TestServer, key: string, fingerprints: string[]) => {
  for (const fingerprint of fingerprints) {
    expect((await t.ok(CheckoutSeatDocument, { key, fingerprint }, null)).checkoutSeat.outcome).toBe('GRANTED');
  }
};

const waive = async (t: TestServer, id: string, until: Date | null) =>
  (await t.ok(WaiveViolationDocument, { input: { id, reason: 'Agreed with the customer', until: until?.toISOString() ?? null } }))
    .waiveViolation;

/** The license of a test: its term started a month ago and ended `daysAgo` days ago, with a grace period of a week. */
const lapsed = (daysAgo: number, grace = 7) => ({
  startsAt: new Date(Date.now() - 30 * DAY).toISOString(),
  expiresAt: new Date(Date.now() - daysAgo * DAY).toISOString(),
  gracePeriodDays: grace,
});

describeEachDatabase('compliance scan', (server) => {
  it('ACCEPTANCE: a scan right after one that opened and resolved violations changes nothing: same violations, no new audit events', async () => {
    const t = server();
    const org = await organization(t);
    // Over a limit that no request saw: 4 seats, then the limit lowered to 2 under them.
    const seats = await licensed(t, 'USER', { organizationId: org.id, limits: { namedUsers: 5 }, overage: { policy: 'ALWAYS' } });
    await assignSeats(t, seats.licenseId, ['ana', 'ben', 'cy', 'dee']);
    await exec(t, 'update license set named_users = ? where id = ?', [2, seats.licenseId]);
    // Two sessions on one, then both left to die without a checkin and without the reaper passing.
    const sessions = await licensed(t, 'CONCURRENT', {
      organizationId: org.id,
      limits: { concurrentSessions: 1 },
      overage: { policy: 'ALWAYS' },
    });
    await checkout(t, sessions.key, ['build-1', 'build-2']);
    await exec(t, 'update lease set expires_at = ? where license_id = ?', [new Date(Date.now() - MINUTE), sessions.licenseId]);
    // 150 of 100 API calls, yesterday: today's counter starts again from zero.
    const calls = await licensed(t, 'SUBSCRIPTION', {
      organizationId: org.id,
      limits: { apiCallsPerPeriod: 100, apiCallPeriod: 'DAY', storageBytes: null },
      overage: { policy: 'ALWAYS' },
    });
    await t.server.services.usageMeter.record(calls.key, UsageMetric.API_CALLS, { amount: 150 }, 'yesterday', new Date(Date.now() - DAY));
    // And one within every limit.
    const fine = await licensed(t, 'USER', { organizationId: org.id, limits: { namedUsers: 3 } });
    await assignSeats(t, fine.licenseId, ['eve']);

    const before = await violationsOf(t, { organizationId: org.id });
    expect(before.map((v) => [v.licenseId, v.kind, v.status])).toEqual([
      [sessions.licenseId, 'CONCURRENCY_OVERAGE', 'OPEN'],
      [calls.licenseId, 'API_OVERAGE', 'OPEN'],
    ]);
    const auditBefore = await auditOf(t, org.id);

    // The first run changes things: one opened, two resolved.
    const first = (await t.ok(RunComplianceCheckDocument, { organizationId: org.id })).runComplianceCheck;
    expect(first).toMatchObject(did(1, 2, 0, 4));
    const afterFirst = await violationsOf(t, { organizationId: org.id });
    expect(afterFirst.map((v) => [v.licenseId, v.kind, v.status])).toEqual([
      [sessions.licenseId, 'CONCURRENCY_OVERAGE', 'RESOLVED'],
      [calls.licenseId, 'API_OVERAGE', 'RESOLVED'],
      [seats.licenseId, 'SEAT_OVERAGE', 'OPEN'],
    ]);
    const [concurrency, api, seat] = afterFirst;
    expect(seat).toMatchObject({ severity: 'CRITICAL', occurrences: 1, value: 4, peakValue: 4, limit: 2, resolvedAt: null });
    expect(seat!.evidence).toEqual({
      metric: 'ACTIVE_USERS',
      value: 4,
      limit: 2,
      ceiling: null,
      policy: 'ALWAYS',
      overagePercent: null,
      source: 'scan',
    });
    expect(concurrency).toMatchObject({ resolvedBy: 'SYSTEM', resolution: 'CONCURRENT_SESSIONS is back within its limit: 0 of 1.' });
    expect(api).toMatchObject({ resolvedBy: 'SYSTEM', resolution: 'API_CALLS is back within its limit: 0 of 100.' });
    expect(Date.parse(concurrency!.resolvedAt!)).toBe(Date.parse(first.checkedAt));

    // Audited: exactly those three changes, by the token that asked for the scan, in one request.
    const auditAfterFirst = await auditOf(t, org.id);
    expect(auditAfterFirst.slice(0, auditBefore.length)).toEqual(auditBefore);
    const scanned = auditAfterFirst.slice(auditBefore.length);
    expect(scanned.map((e) => [e.action, e.objectId, e.after?.status])).toEqual([
      // License by license, in the order issued.
      ['violation.open', seat!.id, 'OPEN'],
      ['violation.resolve', concurrency!.id, 'RESOLVED'],
      ['violation.resolve', api!.id, 'RESOLVED'],
    ]);
    expect(new Set(scanned.map((e) => `${e.actor.type}:${e.requestId}`)).size).toBe(1);
    expect(scanned[0]!.actor.type).toBe('API_TOKEN');
    const logAfterFirst = await complianceLogOf(t, org.id);
    const everythingAfterFirst = await violationsOf(t, {});
    const wholeAuditAfterFirst = await auditOf(t, null);

    // The second run, by every way in: each finds nothing to do.
    expect((await t.ok(RunComplianceCheckDocument, { organizationId: org.id })).runComplianceCheck).toMatchObject(did(0, 0, 0, 4));
    expect(await scan(t, { organizationId: org.id })).toMatchObject(did(0, 0, 0, 4));
    expect(await scan(t)).toMatchObject(did(0, 0, 0));
    expect((await t.ok(RunComplianceCheckDocument, {})).runComplianceCheck).toMatchObject(did(0, 0, 0));
    expect(await scan(t, { licenseId: seats.licenseId })).toMatchObject(did(0, 0, 0, 1));

    // Same rows: same status, occurrences, values and updatedAt; no new audit events, no new compliance events.
    expect(await violationsOf(t, { organizationId: org.id })).toEqual(afterFirst);
    expect(await violationsOf(t, {})).toEqual(everythingAfterFirst);
    expect(await auditOf(t, org.id)).toEqual(auditAfterFirst);
    expect(await auditOf(t, null)).toEqual(wholeAuditAfterFirst);
    expect(await complianceLogOf(t, org.id)).toEqual(logAfterFirst);
  });

  it('opens a violation for each limit lowered under what a license uses, which the next request then counts on', async () => {
    const t = server();
    const org = await organization(t);
    const storage = await licensed(t, 'SUBSCRIPTION', { organizationId: org.id, limits: { storageBytes: 1000, apiCallsPerPeriod: null } });
    await t.server.services.usageMeter.record(storage.key, UsageMetric.STORAGE_BYTES, { value: 800 }, 'fill');
    const sessions = await licensed(t, 'CONCURRENT', {
      organizationId: org.id,
      limits: { concurrentSessions: 3 },
      overage: { policy: 'PERCENT', percent: 50 },
    });
    await checkout(t, sessions.key, ['a', 'b', 'c']);
    const users = await licensed(t, 'USER', { organizationId: org.id, limits: { namedUsers: 10 } });
    await assignSeats(
      t,
      users.licenseId,
      Array.from({ length: 10 }, (_, i) => `user-${i}`),
    );
    const calls = await licensed(t, 'SUBSCRIPTION', {
      organizationId: org.id,
      limits: { apiCallsPerPeriod: 1000, apiCallPeriod: 'MONTH', storageBytes: null },
      overage: { policy: 'ALWAYS' },
    });
    await t.server.services.usageMeter.record(calls.key, UsageMetric.API_CALLS, { amount: 105 }, 'fill');
    expect(await scan(t, { organizationId: org.id })).toMatchObject(did(0, 0, 0, 4));

    await exec(t, 'update license set storage_bytes = ? where id = ?', [500, storage.licenseId]);
    await exec(t, 'update license set concurrent_sessions = ? where id = ?', [2, sessions.licenseId]);
    await exec(t, 'update license set named_users = ? where id = ?', [8, users.licenseId]);
    await exec(t, 'update license set api_calls_per_period = ? where id = ?', [100, calls.licenseId]);

    expect(await scan(t, { organizationId: org.id })).toMatchObject(did(4, 0, 0, 4));
    const opened = await violationsOf(t, { organizationId: org.id });
    expect(opened.map((v) => [v.licenseId, v.kind, v.status, v.severity, v.value, v.limit, v.occurrences, v.evidence.ceiling])).toEqual([
      // 60 % over: CRITICAL; 50 %: HIGH (ceiling 2 + 50 %); 25 %: MEDIUM; 5 %: LOW.
      [storage.licenseId, 'STORAGE_OVERAGE', 'OPEN', 'CRITICAL', 800, 500, 1, 500],
      [sessions.licenseId, 'CONCURRENCY_OVERAGE', 'OPEN', 'HIGH', 3, 2, 1, 3],
      [users.licenseId, 'SEAT_OVERAGE', 'OPEN', 'MEDIUM', 10, 8, 1, 8],
      [calls.licenseId, 'API_OVERAGE', 'OPEN', 'LOW', 105, 100, 1, null],
    ]);
    for (const v of opened) {
      expect(v.evidence.source).toBe('scan');
      expect(v.detail).toContain(`over its limit of ${v.limit}`);
    }
    expect(await scan(t, { organizationId: org.id })).toMatchObject(did(0, 0, 0, 4));

    // A request past the limit afterwards counts another occurrence on the same violation: never a second one.
    await t.server.services.usageMeter.record(calls.key, UsageMetric.API_CALLS, { amount: 1 }, 'one-more');
    const counted = await violationsOf(t, { licenseId: calls.licenseId });
    expect(counted.map((v) => [v.id, v.status, v.occurrences, v.value])).toEqual([[opened[3]!.id, 'OPEN', 2, 106]]);
    expect(await scan(t, { organizationId: org.id })).toMatchObject(did(0, 0, 0, 4));
  });

  it('resolves overages whose cause cleared unseen: leases past their expiry that were not reaped, API calls of a past period', async () => {
    const t = server();
    const org = await organization(t);
    const sessions = await licensed(t, 'CONCURRENT', {
      organizationId: org.id,
      limits: { concurrentSessions: 1 },
      overage: { policy: 'ALWAYS' },
    });
    await checkout(t, sessions.key, ['m-1', 'm-2', 'm-3']);
    const calls = await licensed(t, 'SUBSCRIPTION', {
      organizationId: org.id,
      limits: { apiCallsPerPeriod: 100, apiCallPeriod: 'DAY', storageBytes: null },
      overage: { policy: 'ALWAYS' },
    });
    const yesterday = new Date(Date.now() - DAY);
    await t.server.services.usageMeter.record(calls.key, UsageMetric.API_CALLS, { amount: 99 }, 'yesterday', yesterday);
    await t.server.services.usageMeter.record(calls.key, UsageMetric.API_CALLS, { amount: 30 }, 'yesterday', yesterday);
    const concurrency = await violationOf(t, sessions.licenseId, 'CONCURRENCY_OVERAGE');
    const api = await violationOf(t, calls.licenseId, 'API_OVERAGE');
    expect([concurrency.occurrences, concurrency.value, api.occurrences, api.value, api.status]).toEqual([2, 3, 1, 129, 'OPEN']);

    // As of yesterday the counter was over: a scan then keeps it open, and the 3 live sessions keep theirs open.
    expect(await scan(t, { organizationId: org.id }, yesterday)).toMatchObject(did(0, 0, 0, 2));
    // Two of the three leases die without anyone telling.
    await exec(t, `update lease set expires_at = ? where license_id = ? and fingerprint in ('m-1', 'm-2')`, [
      new Date(Date.now() - MINUTE),
      sessions.licenseId,
    ]);
    expect(await scan(t, { organizationId: org.id })).toMatchObject(did(0, 2, 0, 2));
    expect(await violationOf(t, sessions.licenseId, 'CONCURRENCY_OVERAGE')).toMatchObject({
      id: concurrency.id,
      status: 'RESOLVED',
      resolvedBy: 'SYSTEM',
      resolution: 'CONCURRENT_SESSIONS is back within its limit: 1 of 1.',
      occurrences: 2,
    });
    expect(await violationOf(t, calls.licenseId, 'API_OVERAGE')).toMatchObject({
      id: api.id,
      status: 'RESOLVED',
      resolvedBy: 'SYSTEM',
      resolution: 'API_CALLS is back within its limit: 0 of 100.',
    });
    expect(await scan(t, { organizationId: org.id })).toMatchObject(did(0, 0, 0, 2));
    // The leases themselves are left to the reaper: the scan only judges.
    const live = await t.server.db.read((sql) =>
      sql.get<{ n: number | string }>('select count(*) as n from lease where license_id = ? and released_at is null', [sessions.licenseId]),
    );
    expect(Number(live!.n)).toBe(3);
  });

  it('resolves EXPIRED_USE once the license is renewed, in its grace period or after it', async () => {
    const t = server();
    const org = await organization(t);
    const inGrace = await licensed(t, 'SUBSCRIPTION', { organizationId: org.id, ...lapsed(1) });
    const validated = (await t.ok(ValidateLicenseDocument, { key: inGrace.key }, null)).validateLicense;
    expect([validated.valid, validated.code]).toEqual([true, 'IN_GRACE_PERIOD']);
    const graceUse = await violationOf(t, inGrace.licenseId, 'EXPIRED_USE');
    expect([graceUse.status, graceUse.severity]).toEqual(['OPEN', 'LOW']);

    // Past its grace period: the expiry watch marks it EXPIRED, and use of it is denied and recorded.
    const expired = await licensed(t, 'SUBSCRIPTION', { organizationId: org.id, ...lapsed(10, 1) });
    await t.server.services.expiryWatch.scan('compliance-scan-test', new Date());
    expect((await t.ok(LicenseDocument, { id: expired.licenseId })).license.status).toBe('EXPIRED');
    expect((await t.ok(ValidateLicenseDocument, { key: expired.key }, null)).validateLicense.valid).toBe(false);
    const deniedUse = await violationOf(t, expired.licenseId, 'EXPIRED_USE');
    expect([deniedUse.status, deniedUse.severity]).toEqual(['OPEN', 'HIGH']);

    // Still expired: the scan leaves both open.
    expect(await scan(t, { organizationId: org.id })).toMatchObject(did(0, 0, 0, 1));

    const renewed = (await t.ok(RenewLicenseDocument, { id: inGrace.licenseId, input: { termDays: 30 } })).renewLicense;
    const revived = (await t.ok(RenewLicenseDocument, { id: expired.licenseId, input: { termDays: 30 } })).renewLicense;
    expect(revived.status).toBe('ACTIVE');
    expect(await scan(t, { organizationId: org.id })).toMatchObject(did(0, 2, 0, 2));
    expect(await violationOf(t, inGrace.licenseId, 'EXPIRED_USE')).toMatchObject({
      id: graceUse.id,
      status: 'RESOLVED',
      resolvedBy: 'SYSTEM',
      resolution: `The license was renewed: its term ends ${new Date(renewed.term.expiresAt!).toISOString()}.`,
    });
    expect(await violationOf(t, expired.licenseId, 'EXPIRED_USE')).toMatchObject({
      id: deniedUse.id,
      status: 'RESOLVED',
      resolution: `The license was renewed: its term ends ${new Date(revived.term.expiresAt!).toISOString()}.`,
    });
    expect(await scan(t, { organizationId: org.id })).toMatchObject(did(0, 0, 0, 2));
  });

  it('resolves UNLICENSED_FEATURE once the license is entitled to the feature', async () => {
    const t = server();
    const org = await organization(t);
    const l = await licensed(t, 'SUBSCRIPTION', { organizationId: org.id, featureKeys: ['premium.analytics'] });
    const denied = (await t.ok(CheckFeatureDocument, { key: l.key, feature: 'premium.sso' }, null)).checkFeature;
    expect([denied.allowed, denied.code]).toEqual([false, 'FEATURE_NOT_ENTITLED']);
    const unknown = (await t.ok(CheckFeatureDocument, { key: l.key, feature: 'labs.preview' }, null)).checkFeature;
    expect([unknown.allowed, unknown.code]).toEqual([false, 'FEATURE_UNKNOWN']);
    const [sso, preview] = await violationsOf(t, { licenseId: l.licenseId });
    expect([sso!.kind, sso!.subject, sso!.severity, preview!.kind, preview!.subject, preview!.severity]).toEqual([
      'UNLICENSED_FEATURE',
      'premium.sso',
      'HIGH',
      'UNLICENSED_FEATURE',
      'labs.preview',
      'LOW',
    ]);
    expect(await scan(t, { organizationId: org.id })).toMatchObject(did(0, 0, 0, 1));

    // The product gains the feature as CORE: every license of it is entitled.
    await t.ok(AddFeatureDocument, { productId: l.productId, input: { key: 'labs.preview', name: 'Preview', tier: 'CORE' } });
    expect(await scan(t, { organizationId: org.id })).toMatchObject(did(0, 1, 0, 1));
    // The premium feature is granted to the license (as an entitlement migration would).
    await exec(
      t,
      `insert into license_feature (license_id, feature_id) select ?, id from feature where product_id = ? and key = 'premium.sso'`,
      [l.licenseId, l.productId],
    );
    expect(await scan(t, { organizationId: org.id })).toMatchObject(did(0, 1, 0, 1));
    expect((await violationsOf(t, { licenseId: l.licenseId })).map((v) => [v.id, v.status, v.resolvedBy, v.resolution])).toEqual([
      [sso!.id, 'RESOLVED', 'SYSTEM', 'The license entitles "premium.sso" now.'],
      [preview!.id, 'RESOLVED', 'SYSTEM', 'The license entitles "labs.preview" now.'],
    ]);
    expect((await t.ok(CheckFeatureDocument, { key: l.key, feature: 'premium.sso' }, null)).checkFeature.allowed).toBe(true);
    expect(await scan(t, { organizationId: org.id })).toMatchObject(did(0, 0, 0, 1));
    expect(await violationsOf(t, { licenseId: l.licenseId })).toHaveLength(2);
  });

  it('ends waivers that ran out: a scan after `until` reopens what still holds and resolves what cleared', async () => {
    const t = server();
    const org = await organization(t);
    const overUser = (n: number) =>
      licensed(t, 'USER', { organizationId: org.id, limits: { namedUsers: 1 }, overage: { policy: 'ALWAYS' } }).then(async (l) => ({
        ...l,
        seats: await assignSeats(
          t,
          l.licenseId,
          Array.from({ length: n }, (_, i) => `u${i}`),
        ),
      }));
    const until = new Date(Date.now() + HOUR);
    const later = new Date(Date.now() + 2 * HOUR);

    // Seats still over at the waiver's end.
    const held = await overUser(2);
    const heldSeat = await waive(t, (await violationOf(t, held.licenseId, 'SEAT_OVERAGE')).id, until);
    // Seats back within the limit during the waiver: the release leaves a waived violation as it is.
    const cleared = await overUser(2);
    const clearedSeat = await waive(t, (await violationOf(t, cleared.licenseId, 'SEAT_OVERAGE')).id, until);
    expect((await t.ok(ReleaseSeatDocument, { seatId: cleared.seats[1]! })).releaseSeat.outcome).toBe('RELEASED');
    expect((await violationOf(t, cleared.licenseId, 'SEAT_OVERAGE')).status).toBe('WAIVED');
    // Waived for good: never reopened.
    const forever = await overUser(2);
    const foreverSeat = await waive(t, (await violationOf(t, forever.licenseId, 'SEAT_OVERAGE')).id, null);
    // A feature still not entitled at the waiver's end.
    const feature = await licensed(t, 'SUBSCRIPTION', { organizationId: org.id });
    await t.ok(CheckFeatureDocument, { key: feature.key, feature: 'premium.sso' }, null);
    const featureUse = await waive(t, (await violationOf(t, feature.licenseId, 'UNLICENSED_FEATURE')).id, until);
    // Use in the grace period, renewed during the waiver.
    const renewed = await licensed(t, 'SUBSCRIPTION', { organizationId: org.id, ...lapsed(1) });
    await t.ok(ValidateLicenseDocument, { key: renewed.key }, null);
    const graceUse = await waive(t, (await violationOf(t, renewed.licenseId, 'EXPIRED_USE')).id, until);
    await t.ok(RenewLicenseDocument, { id: renewed.licenseId, input: { termDays: 30 } });

    // While the waivers run, a scan changes nothing.
    expect(await scan(t, { organizationId: org.id })).toMatchObject(did(0, 0, 0, 5));
    const statusOf = async (id: string) => (await violationsOf(t, { organizationId: org.id })).find((v) => v.id === id)!;
    for (const v of [heldSeat, clearedSeat, foreverSeat, featureUse, graceUse]) expect((await statusOf(v.id)).status).toBe('WAIVED');
    expect(await scan(t, { organizationId: org.id }, new Date(until.getTime() - MINUTE))).toMatchObject(did(0, 0, 0, 5));

    // After the waivers' end: reopened where the breach still holds, resolved where it cleared.
    expect(await scan(t, { organizationId: org.id }, later)).toMatchObject(did(0, 2, 2, 5));
    expect(await statusOf(heldSeat.id)).toMatchObject({
      status: 'OPEN',
      occurrences: 1,
      resolvedAt: null,
      waiverReason: 'Agreed with the customer',
    });
    expect(await statusOf(featureUse.id)).toMatchObject({ status: 'OPEN', subject: 'premium.sso' });
    expect(await statusOf(clearedSeat.id)).toMatchObject({
      status: 'RESOLVED',
      resolvedBy: 'SYSTEM',
      resolution: 'ACTIVE_USERS is back within its limit: 1 of 1.',
    });
    expect(Date.parse((await statusOf(clearedSeat.id)).resolvedAt!)).toBe(later.getTime());
    expect(await statusOf(graceUse.id)).toMatchObject({ status: 'RESOLVED', resolvedBy: 'SYSTEM' });
    expect((await statusOf(graceUse.id)).resolution).toMatch(/^The license was renewed/);
    expect(await statusOf(foreverSeat.id)).toMatchObject({ status: 'WAIVED', waivedUntil: null });

    const log = await complianceLogOf(t, org.id);
    expect(log.filter((e) => e.type === 'REOPENED').map((e) => e.violation.id)).toEqual([heldSeat.id, featureUse.id]);
    const audit = await auditOf(t, org.id);
    expect(audit.filter((e) => e.action === 'violation.reopen').map((e) => [e.objectId, e.actor.type, e.actor.label])).toEqual([
      [heldSeat.id, 'SYSTEM', 'compliance scan'],
      [featureUse.id, 'SYSTEM', 'compliance scan'],
    ]);

    // Done once: later scans find nothing more to do.
    expect(await scan(t, { organizationId: org.id }, later)).toMatchObject(did(0, 0, 0, 5));
    expect(await scan(t, { organizationId: org.id }, new Date(later.getTime() + HOUR))).toMatchObject(did(0, 0, 0, 5));
    expect((await complianceLogOf(t, org.id)).length).toBe(log.length);
  });

  it('runComplianceCheck is scoped: a license manager scans its organization only, a platform admin every one or the one given, an auditor none', async () => {
    const t = server();
    const over = async () => {
      const l = await licensed(t, 'USER', { limits: { namedUsers: 3 } });
      await assignSeats(t, l.licenseId, ['x', 'y', 'z']);
      await exec(t, 'update license set named_users = ? where id = ?', [1, l.licenseId]);
      return l;
    };
    const a = await over();
    const b = await over();
    const c = await over();
    const manager = await issueToken(t, 'LICENSE_MANAGER', a.organizationId);
    const orgAdmin = await issueToken(t, 'ORG_ADMIN', a.organizationId);
    const auditor = await issueToken(t, 'AUDITOR', a.organizationId);
    const integrator = await issueToken(t, 'INTEGRATOR', a.organizationId);
    const seatViolations = async (l: { licenseId: string }) =>
      (await violationsOf(t, { licenseId: l.licenseId })).filter((v) => v.kind === 'SEAT_OVERAGE');

    expect(await t.errorCode(RunComplianceCheckDocument, {}, auditor.secret)).toBe('FORBIDDEN');
    expect(await t.errorCode(RunComplianceCheckDocument, { organizationId: a.organizationId }, auditor.secret)).toBe('FORBIDDEN');
    expect(await t.errorCode(RunComplianceCheckDocument, {}, integrator.secret)).toBe('FORBIDDEN');
    expect(await t.errorCode(RunComplianceCheckDocument, { organizationId: b.organizationId }, manager.secret)).toBe('FORBIDDEN');
    expect(await t.errorCode(RunComplianceCheckDocument, {}, null)).toBe('UNAUTHENTICATED');
    for (const l of [a, b, c]) expect(await seatViolations(l)).toEqual([]);

    // The manager's scan, without an organization: its own, and nothing of the others.
    expect((await t.ok(RunComplianceCheckDocument, {}, manager.secret)).runComplianceCheck).toMatchObject(did(1, 0, 0, 1));
    expect((await seatViolations(a)).map((v) => v.status)).toEqual(['OPEN']);
    expect(await seatViolations(b)).toEqual([]);
    expect(await seatViolations(c)).toEqual([]);
    const opened = (await auditOf(t, a.organizationId)).filter((e) => e.action === 'violation.open');
    expect(opened.map((e) => [e.actor.type, e.actor.id])).toEqual([['API_TOKEN', manager.id]]);
    expect(
      (await t.ok(RunComplianceCheckDocument, { organizationId: a.organizationId }, orgAdmin.secret)).runComplianceCheck,
    ).toMatchObject(did(0, 0, 0, 1));

    // A platform admin's, of the organization given.
    expect((await t.ok(RunComplianceCheckDocument, { organizationId: b.organizationId })).runComplianceCheck).toMatchObject(
      did(1, 0, 0, 1),
    );
    expect((await seatViolations(b)).map((v) => v.status)).toEqual(['OPEN']);
    expect(await seatViolations(c)).toEqual([]);

    // And of every organization: every active license.
    const active = await t.server.db.read((sql) =>
      sql.get<{ n: number | string }>(`select count(*) as n from license where status = 'ACTIVE'`),
    );
    const all = (await t.ok(RunComplianceCheckDocument, {})).runComplianceCheck;
    expect(all.skipped).toBe(false);
    expect(all.licensesChecked).toBe(Number(active!.n));
    expect(all.violationsOpened).toBeGreaterThanOrEqual(1);
    for (const l of [a, b, c]) expect((await seatViolations(l)).map((v) => [v.status, v.occurrences])).toEqual([['OPEN', 1]]);
  });

  it('two scans started at the same time never open a violation twice', async () => {
    const t = server();
    const org = await organization(t);
    const licenses = [];
    for (let i = 0; i < 6; i++) {
      const l = await licensed(t, 'USER', { organizationId: org.id, limits: { namedUsers: 5 } });
      await assignSeats(t, l.licenseId, ['p', 'q', 'r']);
      licenses.push(l);
    }
    await exec(t, 'update license set named_users = ? where organization_id = ?', [2, org.id]);

    const results = await Promise.all([
      scan(t, { organizationId: org.id }),
      scan(t, { organizationId: org.id }),
      t.ok(RunComplianceCheckDocument, { organizationId: org.id }).then((r) => r.runComplianceCheck),
      scan(t, { organizationId: org.id }),
      t.ok(RunComplianceCheckDocument, { organizationId: org.id }).then((r) => r.runComplianceCheck),
      scan(t, { organizationId: org.id }),
    ]);
    // On PostgreSQL a scan that finds another running skips its turn; on SQLite they run one after the other.
    expect(results.some((r) => !r.skipped)).toBe(true);
    expect(results.reduce((sum, r) => sum + r.violationsOpened, 0)).toBe(licenses.length);
    for (const r of results) expect(r.violationsResolved + r.violationsReopened).toBe(0);
    const violations = await violationsOf(t, { organizationId: org.id });
    expect(violations.map((v) => [v.licenseId, v.kind, v.status, v.occurrences])).toEqual(
      licenses.map((l) => [l.licenseId, 'SEAT_OVERAGE', 'OPEN', 1]),
    );
    expect((await complianceLogOf(t, org.id)).filter((e) => e.type === 'OPENED')).toHaveLength(licenses.length);
    expect((await auditOf(t, org.id)).filter((e) => e.action === 'violation.open')).toHaveLength(licenses.length);
    expect(await scan(t, { organizationId: org.id })).toMatchObject(did(0, 0, 0, licenses.length));
  });

  it('PostgreSQL: one instance scans at a time; a scan that finds the lock taken skips its turn and changes nothing', async (ctx) => {
    const t = server();
    if (t.kind !== 'postgresql' || t.database.config.driver !== 'postgresql') {
      ctx.skip();
      return;
    }
    const org = await organization(t);
    const first = await licensed(t, 'USER', { organizationId: org.id, limits: { namedUsers: 5 } });
    const second = await licensed(t, 'USER', { organizationId: org.id, limits: { namedUsers: 5 } });
    for (const l of [first, second]) await assignSeats(t, l.licenseId, ['s', 't', 'u']);
    await exec(t, 'update license set named_users = ? where organization_id = ?', [2, org.id]);
    const auditBefore = await auditOf(t, null);

    // Another instance's scan, as far as this one can tell: the lock held by another connection to the database.
    const other = new Client({ connectionString: t.database.config.url });
    await other.connect();
    try {
      await other.query('select pg_advisory_lock($1)', [SCAN_LOCK]);
      const skipped = { skipped: true, licensesChecked: 0, violationsOpened: 0, violationsResolved: 0, violationsReopened: 0 };
      expect(await scan(t)).toMatchObject(skipped);
      expect(await scan(t, { organizationId: org.id })).toMatchObject(skipped);
      expect((await t.ok(RunComplianceCheckDocument, {})).runComplianceCheck).toMatchObject(skipped);
      expect((await t.ok(RunComplianceCheckDocument, { organizationId: org.id })).runComplianceCheck).toMatchObject(skipped);
      expect(await violationsOf(t, { organizationId: org.id })).toEqual([]);
      expect(await auditOf(t, null)).toEqual(auditBefore);

      // The evaluation of one license (after a remediation) waits its turn instead of skipping it.
      let settled = false;
      const waiting = scan(t, { licenseId: first.licenseId }).finally(() => {
        settled = true;
      });
      // Until its session waits for the other's (the activity view is a snapshot per transaction: cleared first).
      await vi.waitFor(
        async () => {
          await other.query('select pg_stat_clear_snapshot()');
          const { rows } = await other.query(
            'select count(*) as n from pg_stat_activity where pg_backend_pid() = any(pg_blocking_pids(pid))',
          );
          expect(Number(rows[0].n)).toBeGreaterThan(0);
        },
        { timeout: 10_000, interval: 10 },
      );
      expect(settled).toBe(false);
      await other.query('select pg_advisory_unlock($1)', [SCAN_LOCK]);
      expect(await waiting).toMatchObject(did(1, 0, 0, 1));
    } finally {
      await other.end();
    }

    // Free again: a full scan runs.
    const ran = await scan(t);
    expect(ran.skipped).toBe(false);
    expect(ran.violationsOpened).toBeGreaterThanOrEqual(1);
    expect((await violationsOf(t, { organizationId: org.id })).map((v) => [v.licenseId, v.kind, v.status])).toEqual([
      [first.licenseId, 'SEAT_OVERAGE', 'OPEN'],
      [second.licenseId, 'SEAT_OVERAGE', 'OPEN'],
    ]);
  });
});
