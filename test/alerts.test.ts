import { expect, it } from 'vitest';
import {
  AcknowledgeAlertDocument,
  AlertsDocument,
  AssignSeatDocument,
  CheckinSeatDocument,
  CheckoutSeatDocument,
  RecordUsageDocument,
  ReleaseSeatDocument,
} from './generated/graphql';
import { issueToken, licensed } from './support/factories';
import { describeEachDatabase, type TestServer } from './support/server';

const alertsOf = async (t: TestServer, licenseId: string) =>
  (await t.ok(AlertsDocument, { filter: { licenseId }, first: 200 })).alerts.nodes;

describeEachDatabase('threshold alerts', (server) => {
  it('raises exactly one alert for each of 80, 90 and 100 % as usage crosses them', async () => {
    const t = server();
    const { key, licenseId } = await licensed(t, 'SUBSCRIPTION', { limits: { storageBytes: 1000 } });
    for (const value of [500, 790, 800, 850, 900, 950, 1000, 1200]) {
      await t.ok(RecordUsageDocument, { key, metric: 'STORAGE_BYTES', value }, null);
    }
    const alerts = await alertsOf(t, licenseId);
    expect(alerts.map((a) => [a.threshold, a.severity, a.value, a.limit])).toEqual([
      [80, 'INFO', 800, 1000],
      [90, 'WARNING', 900, 1000],
      [100, 'CRITICAL', 1000, 1000],
    ]);
    expect(alerts[0]).toMatchObject({ kind: 'THRESHOLD', metric: 'STORAGE_BYTES', acknowledgedAt: null });
    expect(alerts[0]?.message).toBe('STORAGE_BYTES reached 80 % of its limit (800 of 1000).');
  });

  it('raises one alert, not one a sample, for usage oscillating 50 times around 80 %', async () => {
    const t = server();
    const { key, licenseId } = await licensed(t, 'SUBSCRIPTION', { limits: { storageBytes: 1000 } });
    for (let i = 0; i < 50; i++) {
      await t.ok(RecordUsageDocument, { key, metric: 'STORAGE_BYTES', value: i % 2 ? 810 : 780 }, null);
    }
    expect((await alertsOf(t, licenseId)).map((a) => a.threshold)).toEqual([80]);
  });

  it('fires a threshold again only after usage fell back below it by the margin', async () => {
    const t = server();
    const { key, licenseId } = await licensed(t, 'SUBSCRIPTION', { limits: { storageBytes: 1000 } });
    for (const value of [820, 760, 830, 740, 810]) await t.ok(RecordUsageDocument, { key, metric: 'STORAGE_BYTES', value }, null);
    // 760 is within the 5-point margin (no re-arm); 740 is below it, so 810 fires again.
    expect((await alertsOf(t, licenseId)).map((a) => a.value)).toEqual([820, 810]);
  });

  it('watches named users and concurrent sessions as seats and leases change', async () => {
    const t = server();
    const user = await licensed(t, 'USER', { limits: { namedUsers: 5 } });
    const seatIds: string[] = [];
    for (const name of ['a', 'b', 'c', 'd']) {
      seatIds.push((await t.ok(AssignSeatDocument, { licenseId: user.licenseId, userId: name })).assignSeat.seat!.id);
    }
    expect((await alertsOf(t, user.licenseId)).map((a) => [a.metric, a.threshold, a.value])).toEqual([['ACTIVE_USERS', 80, 4]]);
    // A released seat (60 %) re-arms 80 %, so the next assignment raises it again.
    await t.ok(ReleaseSeatDocument, { seatId: seatIds[0]! });
    await t.ok(AssignSeatDocument, { licenseId: user.licenseId, userId: 'e' });
    expect((await alertsOf(t, user.licenseId)).map((a) => [a.threshold, a.value])).toEqual([
      [80, 4],
      [80, 4],
    ]);

    const concurrent = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 2 } });
    const first = (await t.ok(CheckoutSeatDocument, { key: concurrent.key, fingerprint: 'one' }, null)).checkoutSeat.lease!;
    await t.ok(CheckoutSeatDocument, { key: concurrent.key, fingerprint: 'two' }, null);
    await t.ok(CheckinSeatDocument, { key: concurrent.key, leaseId: first.id }, null);
    await t.ok(CheckoutSeatDocument, { key: concurrent.key, fingerprint: 'three' }, null);
    // 50 % → 100 % (80, 90, 100 fire) → 50 % (all re-arm) → 100 % (all fire again)
    expect((await alertsOf(t, concurrent.licenseId)).map((a) => a.threshold)).toEqual([80, 90, 100, 80, 90, 100]);
  });

  it('lets a license manager acknowledge an alert once, and nobody of another organization', async () => {
    const t = server();
    const { key, licenseId, organizationId } = await licensed(t, 'SUBSCRIPTION', { limits: { apiCallsPerPeriod: 10 } });
    await t.ok(RecordUsageDocument, { key, metric: 'API_CALLS', amount: 8 }, null);
    const [alert] = await alertsOf(t, licenseId);
    const manager = await issueToken(t, 'LICENSE_MANAGER', organizationId);
    const stranger = await licensed(t, 'SUBSCRIPTION');
    const integrator = await issueToken(t, 'INTEGRATOR', stranger.organizationId);
    expect(await t.errorCode(AcknowledgeAlertDocument, { id: alert!.id }, integrator.secret)).toBe('FORBIDDEN');
    const foreignManager = await issueToken(t, 'LICENSE_MANAGER', stranger.organizationId);
    expect(await t.errorCode(AcknowledgeAlertDocument, { id: alert!.id }, foreignManager.secret)).toBe('NOT_FOUND');
    const ack = (await t.ok(AcknowledgeAlertDocument, { id: alert!.id }, manager.secret)).acknowledgeAlert;
    expect(ack.acknowledgedBy).toMatch(/^token-license_manager-/); // the token's name
    expect(ack.acknowledgedAt).not.toBeNull();
    expect(await t.errorCode(AcknowledgeAlertDocument, { id: alert!.id }, manager.secret)).toBe('INVALID_STATE_TRANSITION');
    expect((await t.ok(AlertsDocument, { filter: { licenseId, acknowledged: false } })).alerts.nodes).toEqual([]);
    // An integrator of another organization lists none of these alerts.
    const theirs = (await t.ok(AlertsDocument, { first: 200 }, integrator.secret)).alerts.nodes;
    expect(theirs.some((a) => a.licenseId === licenseId)).toBe(false);
  });
});
