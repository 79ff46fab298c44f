import { expect, it } from 'vitest';
import { AlertsDocument, AuditLogDocument, LicenseDocument, RenewLicenseDocument, SetExpiryNoticesDocument } from './generated/graphql';
import { licensed } from './support/factories';
import { describeEachDatabase, startTestServer, type TestServer } from './support/server';

const DAY = 86_400_000;

const expiryAlertsOf = async (t: TestServer, licenseId: string) =>
  (await t.ok(AlertsDocument, { filter: { licenseId }, first: 200 })).alerts.nodes.filter((a) => a.kind !== 'THRESHOLD');

/** One pass of the expiry watch, as if it ran at `now`. */
const scan = (t: TestServer, now: Date) => t.server.services.expiryWatch.scan('expiry-test', now);

/** A license whose term ends `days` from now, with a grace period of `grace` days. */
async function ending(t: TestServer, days: number, grace = 3) {
  const expiresAt = new Date(Math.floor(Date.now() / 1000) * 1000 + days * DAY);
  return { ...(await licensed(t, 'SUBSCRIPTION', { expiresAt: expiresAt.toISOString(), gracePeriodDays: grace })), expiresAt };
}

describeEachDatabase('expiry and renewal alerts', (server) => {
  it('reminds a license 90, 30, 7 and 1 days before its end, then of its grace period, then that it expired: once each', async () => {
    const t = server();
    const { licenseId, expiresAt } = await ending(t, 120);
    const end = expiresAt.getTime();
    // Each moment twice: the second pass finds nothing new.
    for (const moment of [-100, -90, -89, -30, -20, -7, -1, -0.5, 0.1, 1, 3, 4].map((d) => new Date(end + d * DAY))) {
      await scan(t, moment);
      await scan(t, moment);
    }
    const alerts = await expiryAlertsOf(t, licenseId);
    expect(alerts.map((a) => [a.kind, a.daysBefore, a.severity])).toEqual([
      ['EXPIRY_NOTICE', 90, 'INFO'],
      ['EXPIRY_NOTICE', 30, 'INFO'],
      ['EXPIRY_NOTICE', 7, 'WARNING'],
      ['EXPIRY_NOTICE', 1, 'CRITICAL'],
      ['GRACE_PERIOD_STARTED', null, 'CRITICAL'],
      ['LICENSE_EXPIRED', null, 'CRITICAL'],
    ]);
    for (const alert of alerts) expect(Date.parse(alert.expiresAt!)).toBe(end);
  });

  it('marks a license EXPIRED when its grace period ends, audited, and it no longer counts as a live term', async () => {
    const t = server();
    const { licenseId, expiresAt } = await ending(t, 2, 1);
    expect(await scan(t, new Date(expiresAt.getTime() + 1.5 * DAY))).toEqual({ notices: 1, expired: 1 });
    expect((await t.ok(LicenseDocument, { id: licenseId })).license.status).toBe('EXPIRED');
    const { auditLog } = await t.ok(AuditLogDocument, { filter: { objectId: licenseId } });
    expect(auditLog.nodes.map((e) => [e.action, e.actor.type, e.before, e.after])).toContainEqual([
      'license.expire',
      'SYSTEM',
      { status: 'ACTIVE' },
      { status: 'EXPIRED' },
    ]);
    // A license issued with its term almost over gets the nearest reminder only, not every one it skipped.
    const late = await ending(t, 5);
    await scan(t, new Date());
    expect((await expiryAlertsOf(t, late.licenseId)).map((a) => a.daysBefore)).toEqual([7]);
  });

  it("reminds each new term again after a renewal, following the license's own reminders", async () => {
    const t = server();
    const { licenseId, expiresAt } = await ending(t, 10);
    await t.ok(SetExpiryNoticesDocument, { input: { licenseId, daysBefore: [14, 2] } });
    await scan(t, new Date());
    const { renewLicense } = await t.ok(RenewLicenseDocument, { id: licenseId, input: { termDays: 30 } });
    const renewedEnd = Date.parse(renewLicense.term.expiresAt!);
    expect(renewedEnd).toBe(expiresAt.getTime() + 30 * DAY);
    await scan(t, new Date(renewedEnd - 13 * DAY));
    await scan(t, new Date(renewedEnd - 1 * DAY));
    expect((await expiryAlertsOf(t, licenseId)).map((a) => [a.daysBefore, Date.parse(a.expiresAt!)])).toEqual([
      [14, expiresAt.getTime()],
      [14, renewedEnd],
      [2, renewedEnd],
    ]);
  });

  it('raises a notice once also when two passes run at the same moment', async () => {
    const t = server();
    const { licenseId } = await ending(t, 20);
    const results = await Promise.all([scan(t, new Date()), scan(t, new Date()), scan(t, new Date())]);
    expect(results.reduce((sum, r) => sum + r.notices, 0)).toBe(1);
    expect((await expiryAlertsOf(t, licenseId)).map((a) => a.daysBefore)).toEqual([30]);
  });
});

it('remembers the notices it raised across a restart, and runs by itself every interval', async () => {
  const first = await startTestServer('sqlite');
  const { licenseId } = await ending(first, 6);
  await scan(first, new Date());
  await first.server.close();

  const second = await startTestServer('sqlite', { expiryWatchIntervalMs: 100 }, first);
  try {
    const { licenseId: fresh } = await ending(second, 25);
    // The job's own passes raise the new license's 30-day reminder, and nothing more for the first license.
    await second.clock.advance(100); // one interval: the job's next pass
    expect((await expiryAlertsOf(second, fresh)).map((a) => a.daysBefore)).toEqual([30]);
    expect((await expiryAlertsOf(second, licenseId)).map((a) => a.daysBefore)).toEqual([7]);
  } finally {
    await second.close();
    await first.close();
  }
});
