import { expect, it } from 'vitest';
import { expiryPass } from '../src/server/jobs';
import {
  AlertsDocument,
  AssignSeatDocument,
  AuditLogDocument,
  CheckoutSeatDocument,
  IssueLicenseDocument,
  LicenseDocument,
  LicenseMigrationsDocument,
  LicenseUsageDocument,
  type MigrateLicenseMutationVariables,
  MigrateLicenseDocument,
  PreviewLicenseMigrationDocument,
  type PreviewLicenseMigrationQuery,
  RecordUsageDocument,
  SetLicenseAutoRenewDocument,
  SuspendLicenseDocument,
  ValidateLicenseDocument,
  ViolationsDocument,
} from './generated/graphql';
import { licensed } from './support/factories';
import { addPastCalls } from './support/usage-series';
import { describeEachDatabase, type TestServer } from './support/server';

/**
 * What is previewed, stored and promised is what happens: an automatic renewal at the end of a term, and the cases
 * where a migration's preview used to say something else than what applying it did.
 */

const DAY = 86_400_000;
const HOUR = 3_600_000;

type Preview = PreviewLicenseMigrationQuery['previewLicenseMigration'];
/** A preview without what depends on the moment it was made. */
const timeless = (p: Preview) => ({ ...p, effectiveAt: null, price: { ...p.price, prorationCents: null, remainingFraction: null } });

/** Previews, then migrates with the same variables: both answers. */
async function previewThenMigrate(t: TestServer, variables: MigrateLicenseMutationVariables) {
  const { previewLicenseMigration: preview } = await t.ok(PreviewLicenseMigrationDocument, variables);
  const { migrateLicense: result } = await t.ok(MigrateLicenseDocument, variables);
  expect(timeless(result.preview)).toEqual(timeless(preview));
  return { preview, result };
}

const alertsOf = async (t: TestServer, licenseId: string) =>
  (await t.ok(AlertsDocument, { filter: { licenseId }, first: 200 })).alerts.nodes;
const auditOf = async (t: TestServer, objectId: string) =>
  (await t.ok(AuditLogDocument, { filter: { objectId }, first: 200 })).auditLog.nodes;
const licenseOf = async (t: TestServer, id: string) => (await t.ok(LicenseDocument, { id })).license;

describeEachDatabase('license lifecycle: what is promised happens', (server) => {
  // ---------------------------------------------------------------------------------------------------------------
  // autoRenew
  // ---------------------------------------------------------------------------------------------------------------

  it('renews an auto-renewing license once at the end of its term, audited and alerted, then applies the migration waiting for it once', async () => {
    const t = server();
    // A 30-day term ending tomorrow, renewing automatically, with a migration waiting for its renewal.
    const startsAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 29 * DAY);
    const l = await licensed(t, 'USER', { startsAt: startsAt.toISOString(), termDays: 30, autoRenew: true, limits: { namedUsers: 5 } });
    const end = new Date(startsAt.getTime() + 30 * DAY);
    expect((await licenseOf(t, l.licenseId)).term).toMatchObject({ expiresAt: end.toISOString(), termStartedAt: startsAt.toISOString() });
    const { migrateLicense } = await t.ok(MigrateLicenseDocument, {
      licenseId: l.licenseId,
      target: { limits: { namedUsers: 8 } },
      effective: 'AT_RENEWAL',
      onConflict: { strategy: 'REJECT' },
    });
    expect(migrateLicense.outcome).toBe('SCHEDULED');
    // And one that does not renew, ending at the same moment.
    const manual = await licensed(t, 'SUBSCRIPTION', { startsAt: startsAt.toISOString(), termDays: 30, gracePeriodDays: 3 });

    // Before the end: nothing.
    expect(await expiryPass(t.server.services, 'renewal-test', new Date(end.getTime() - HOUR))).toMatchObject({
      renewed: 0,
      migrationsApplied: 0,
    });
    // An hour past it, two passes at once (two instances): renewed once, the migration applied once.
    const at = new Date(end.getTime() + HOUR);
    const passes = await Promise.all([expiryPass(t.server.services, 'renewal-a', at), expiryPass(t.server.services, 'renewal-b', at)]);
    expect(passes.reduce((n, p) => n + p.renewed, 0)).toBe(1);
    expect(passes.reduce((n, p) => n + p.migrationsApplied, 0)).toBe(1);
    const next = new Date(end.getTime() + 30 * DAY);
    const license = await licenseOf(t, l.licenseId);
    expect(license).toMatchObject({ status: 'ACTIVE', limits: { namedUsers: 8 } });
    expect(license.term).toMatchObject({ expiresAt: next.toISOString(), termStartedAt: end.toISOString(), autoRenew: true });
    // Later passes find nothing more to do.
    expect(await expiryPass(t.server.services, 'renewal-c', new Date(end.getTime() + DAY))).toMatchObject({
      renewed: 0,
      migrationsApplied: 0,
    });

    const audit = await auditOf(t, l.licenseId);
    const renewals = audit.filter((e) => e.action === 'license.renew');
    expect(renewals).toHaveLength(1);
    expect(renewals[0]).toMatchObject({
      actor: { type: 'SYSTEM', label: 'automatic renewal' },
      before: { expiresAt: end.toISOString() },
      after: { expiresAt: next.toISOString(), termStartedAt: end.toISOString(), automatic: true, terms: 1 },
    });
    expect(audit.filter((e) => e.action === 'license.migrate')).toHaveLength(1);
    const alerts = await alertsOf(t, l.licenseId);
    expect(alerts.filter((a) => a.kind === 'LICENSE_RENEWED')).toEqual([
      expect.objectContaining({ severity: 'INFO', expiresAt: next.toISOString(), message: expect.stringContaining('one term of 30 days') }),
    ]);
    // Renewed before its grace period was looked at: no notice of one.
    expect(alerts.map((a) => a.kind)).not.toContain('GRACE_PERIOD_STARTED');
    expect(alerts.filter((a) => a.kind === 'LICENSE_MIGRATED')).toHaveLength(1);
    const [migration] = (await t.ok(LicenseMigrationsDocument, { id: l.licenseId })).license.migrations;
    expect(migration).toMatchObject({ status: 'APPLIED', appliedAt: at.toISOString() });

    // The license that does not renew automatically is in its grace period.
    expect((await licenseOf(t, manual.licenseId)).term.expiresAt).toBe(end.toISOString());
    expect((await alertsOf(t, manual.licenseId)).map((a) => a.kind)).toContain('GRACE_PERIOD_STARTED');
  });

  it('renews once for every term a stopped server missed, never a suspended license or one turned off, and no perpetual one', async () => {
    const t = server();
    const startsAt = new Date(Math.floor(Date.now() / 1000) * 1000 - DAY + HOUR);
    const daily = await licensed(t, 'SUBSCRIPTION', { startsAt: startsAt.toISOString(), termDays: 1, autoRenew: true });
    const suspended = await licensed(t, 'SUBSCRIPTION', { startsAt: startsAt.toISOString(), termDays: 1, autoRenew: true });
    await t.ok(SuspendLicenseDocument, { id: suspended.licenseId, reason: 'unpaid' });
    const cancelled = await licensed(t, 'SUBSCRIPTION', { startsAt: startsAt.toISOString(), termDays: 1, autoRenew: true });
    const { setLicenseAutoRenew } = await t.ok(SetLicenseAutoRenewDocument, { id: cancelled.licenseId, autoRenew: false });
    expect(setLicenseAutoRenew.term.autoRenew).toBe(false);
    // A perpetual license has no term to renew: asking for it is refused, on issue and after.
    const perpetual = await licensed(t, 'SITE', {}, { termDays: null });
    const refused = await t.request(SetLicenseAutoRenewDocument, { id: perpetual.licenseId, autoRenew: true });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'autoRenew' });
    const issued = await t.request(IssueLicenseDocument, {
      input: { organizationId: perpetual.organizationId, planId: perpetual.planId, autoRenew: true, site: { domains: ['example.com'] } },
    });
    expect(issued.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'autoRenew' });
    const end = startsAt.getTime() + DAY;
    // Three and a half days after the end: renewed once, for 4 terms, to the first end past now.
    const { renewed } = await expiryPass(t.server.services, 'missed', new Date(end + 3.5 * DAY));
    expect(renewed).toBe(1);
    expect((await licenseOf(t, daily.licenseId)).term).toMatchObject({
      expiresAt: new Date(end + 4 * DAY).toISOString(),
      termStartedAt: new Date(end + 3 * DAY).toISOString(),
    });
    const [renewal] = (await auditOf(t, daily.licenseId)).filter((e) => e.action === 'license.renew');
    expect(renewal?.after).toMatchObject({ terms: 4 });
    for (const other of [suspended, cancelled])
      expect((await licenseOf(t, other.licenseId)).term.expiresAt).toBe(new Date(end).toISOString());
  });

  // ---------------------------------------------------------------------------------------------------------------
  // Migrations: the preview says what applying does
  // ---------------------------------------------------------------------------------------------------------------

  it('lists the severity an open violation keeps when a migration counts it again, as applying leaves it', async () => {
    const t = server();
    const l = await licensed(t, 'SUBSCRIPTION', { limits: { storageBytes: 100 }, overage: { policy: 'ALWAYS' } });
    // 120 of 100: 20 % over, MEDIUM.
    await t.ok(RecordUsageDocument, { key: l.key, metric: 'STORAGE_BYTES', value: 120 }, null);
    const [open] = (await t.ok(ViolationsDocument, { filter: { licenseId: l.licenseId } })).violations.nodes;
    expect(open).toMatchObject({ kind: 'STORAGE_OVERAGE', severity: 'MEDIUM', occurrences: 1 });
    // 120 of 110 would be LOW by itself; counted on the open violation, it stays MEDIUM.
    const { preview } = await previewThenMigrate(t, { licenseId: l.licenseId, target: { limits: { storageBytes: 110 } } });
    expect(preview.violationsOpened).toEqual([
      expect.objectContaining({ kind: 'STORAGE_OVERAGE', value: 120, limit: 110, severity: 'MEDIUM', existingViolationId: open!.id }),
    ]);
    const [after] = (await t.ok(ViolationsDocument, { filter: { licenseId: l.licenseId } })).violations.nodes;
    expect(after).toMatchObject({ id: open!.id, severity: 'MEDIUM', occurrences: 2, value: 120, limit: 110 });
  });

  it('refuses the preview of a second AT_RENEWAL migration as migrateLicense does', async () => {
    const t = server();
    const l = await licensed(t, 'SUBSCRIPTION', { limits: { storageBytes: 100 } });
    const first = { licenseId: l.licenseId, target: { limits: { storageBytes: 500 } }, effective: 'AT_RENEWAL' as const };
    expect((await t.ok(MigrateLicenseDocument, first)).migrateLicense.outcome).toBe('SCHEDULED');
    const second = { ...first, target: { limits: { storageBytes: 600 } } };
    const previewed = await t.request(PreviewLicenseMigrationDocument, second);
    const migrated = await t.request(MigrateLicenseDocument, second);
    expect(previewed.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(migrated.errors?.map((e) => [e.extensions?.code, e.message])).toEqual(
      previewed.errors?.map((e) => [e.extensions?.code, e.message]),
    );
  });

  it('counts the calls already made in a new API call period, from the usage series, under REJECT too', async () => {
    const t = server();
    const l = await licensed(t, 'SUBSCRIPTION', { limits: { apiCallsPerPeriod: 100, apiCallPeriod: 'DAY' }, overage: { policy: 'NONE' } });
    await t.ok(RecordUsageDocument, { key: l.key, metric: 'API_CALLS', amount: 40 }, null);
    // Calls of other days of the series: 25 at the start of this month (today, on the 1st), 1,000 last month.
    await addPastCalls(t, l, { monthStart: 25, lastMonth: 1000 });
    // A month of 30 calls: 65 made this month already, REJECT refuses, and says so.
    const monthly = (limit: number) => ({ limits: { apiCallsPerPeriod: limit, apiCallPeriod: 'MONTH' as const } });
    const { preview, result } = await previewThenMigrate(t, {
      licenseId: l.licenseId,
      target: monthly(30),
      onConflict: { strategy: 'REJECT' },
    });
    expect(result.outcome).toBe('REJECTED');
    expect(preview).toMatchObject({ outcome: 'REJECTED', conflicts: true });
    expect(preview.limits.find((c) => c.metric === 'API_CALLS')).toMatchObject({ before: 100, after: 30, used: 65, over: 35 });
    expect((await licenseOf(t, l.licenseId)).limits).toMatchObject({ apiCallsPerPeriod: 100, apiCallPeriod: 'DAY' });
    // A month of 70 fits: the counter goes on from 65, and 6 more calls are refused (NONE).
    const applied = await previewThenMigrate(t, { licenseId: l.licenseId, target: monthly(70), onConflict: { strategy: 'REJECT' } });
    expect(applied.result.outcome).toBe('APPLIED');
    expect(applied.preview.limits.find((c) => c.metric === 'API_CALLS')).toMatchObject({ used: 65, over: 0, usedAfter: 65 });
    const { licenseUsage } = await t.ok(LicenseUsageDocument, { licenseId: l.licenseId });
    expect(licenseUsage.find((u) => u.metric === 'API_CALLS')).toMatchObject({ value: 65, limit: 70 });
    const { recordUsage } = await t.ok(RecordUsageDocument, { key: l.key, metric: 'API_CALLS', amount: 6 }, null);
    expect(recordUsage.outcome).toBe('DENIED');
  });

  it('warns of the named users kept past a new limit whose validations will fail, and they do', async () => {
    const t = server();
    const l = await licensed(t, 'USER', { limits: { namedUsers: 4 }, overage: { policy: 'NONE' } });
    for (const userId of ['ana', 'bob', 'cy', 'dee']) {
      await t.ok(AssignSeatDocument, { licenseId: l.licenseId, userId });
      await t.clock.advance(3);
    }
    const until = new Date(Date.now() + 7 * DAY).toISOString();
    const { preview } = await previewThenMigrate(t, {
      licenseId: l.licenseId,
      target: { limits: { namedUsers: 2 } },
      onConflict: { strategy: 'ALLOW_OVERAGE_UNTIL', until },
    });
    expect(preview.warnings).toEqual([
      expect.objectContaining({ code: 'USERS_FAIL_VALIDATION', metric: 'ACTIVE_USERS', userIds: ['cy', 'dee'] }),
    ]);
    expect(preview.warnings[0]!.message).toContain('USER_LIMIT_EXCEEDED');
    for (const user of ['ana', 'bob', 'cy', 'dee']) {
      const { validateLicense } = await t.ok(ValidateLicenseDocument, { key: l.key, user }, null);
      const failed = ['cy', 'dee'].includes(user);
      expect(validateLicense.valid).toBe(!failed);
      if (failed) expect(validateLicense.checks).toContainEqual(expect.objectContaining({ outcome: 'FAIL', code: 'USER_LIMIT_EXCEEDED' }));
    }
  });

  it("drops the old type's limit on a type change and says so; refuses a limit the type does not count, or removing the one it does", async () => {
    const t = server();
    const l = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 5 } });
    await t.ok(CheckoutSeatDocument, { key: l.key, fingerprint: 'm1', user: 'ana' }, null);
    const { preview } = await previewThenMigrate(t, { licenseId: l.licenseId, target: { type: 'USER', limits: { namedUsers: 3 } } });
    expect(preview.limits.find((c) => c.metric === 'CONCURRENT_SESSIONS')).toMatchObject({ before: 5, after: null });
    expect(preview.warnings).toEqual([
      expect.objectContaining({
        code: 'LIMIT_DROPPED',
        metric: 'CONCURRENT_SESSIONS',
        message: expect.stringContaining('concurrentSessions (5)'),
      }),
    ]);
    expect((await licenseOf(t, l.licenseId)).limits).toMatchObject({ namedUsers: 3, concurrentSessions: null });

    for (const [target, field, message] of [
      [{ limits: { concurrentSessions: 4 } }, 'target.limits.concurrentSessions', /applies to CONCURRENT licenses only/],
      [{ limits: { namedUsers: null } }, 'target.limits.namedUsers', /cannot be removed from a USER license/],
    ] as const) {
      const variables = { licenseId: l.licenseId, target };
      for (const answer of [
        await t.request(PreviewLicenseMigrationDocument, variables),
        await t.request(MigrateLicenseDocument, variables),
      ]) {
        expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
        expect(answer.errors?.[0]?.message).toMatch(message);
      }
    }
  });

  it('defaults onConflict alike on the preview and the migration, and names plans by name in the alert', async () => {
    const t = server();
    const l = await licensed(t, 'USER', { limits: { namedUsers: 3 } });
    for (const userId of ['ana', 'bob', 'cy']) {
      await t.ok(AssignSeatDocument, { licenseId: l.licenseId, userId });
      await t.clock.advance(3);
    }
    const { preview, result } = await previewThenMigrate(t, { licenseId: l.licenseId, target: { limits: { namedUsers: 2 } } });
    expect(result.outcome).toBe('APPLIED');
    expect(preview.strategy).toBe('RELEASE_LEAST_ACTIVE');
    expect(preview.seatsReleased.map((s) => s.userId)).toEqual(['ana']);
    const summary = 'Plan “USER plan” (USER) kept: namedUsers 3 → 2. 1 seat(s) released (ana).';
    expect(preview.summary).toBe(summary);
    const migrated = (await alertsOf(t, l.licenseId)).filter((a) => a.kind === 'LICENSE_MIGRATED');
    expect(migrated.map((a) => a.message)).toEqual([`The license migrated. ${summary}`]);
  });
});
