import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import {
  AcknowledgeAlertDocument,
  AlertRepeatsDocument,
  AlertsDocument,
  AssignSeatDocument,
  CheckinSeatDocument,
  CheckoutSeatDocument,
  RecordUsageDocument,
  ReleaseSeatDocument,
  SetThresholdRuleDocument,
  type UsageMetric,
} from './generated/graphql';
import { DenialWatch } from '../src/modules/alert/denial-watch';
import { ThresholdWatch } from '../src/modules/alert/threshold-watch';
import { UsageSignals } from '../src/modules/usage/usage-signals';
import { UsageMetric as Metric } from '../src/kernel/metrics';
import { issueToken, licensed } from './support/factories';
import { describeEachDatabase, type TestServer } from './support/server';

const alertsOf = async (t: TestServer, licenseId: string) =>
  (await t.ok(AlertsDocument, { filter: { licenseId }, first: 200 })).alerts.nodes;

/** A little more than the default repeat interval (15 minutes) of an open alert. */
const REPEAT_MS = 16 * 60_000;

/** Sets a license's rule of a metric so that every crossing raises an alert: the default thresholds, repeats not counted. */
const everyCrossingRaises = (t: TestServer, licenseId: string, metric: UsageMetric) =>
  t.ok(SetThresholdRuleDocument, { input: { licenseId, metric, thresholds: [80, 90, 100], repeatIntervalMinutes: 0 } });

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
    for (const value of [820, 760, 830, 740]) await t.ok(RecordUsageDocument, { key, metric: 'STORAGE_BYTES', value }, null);
    // Past the repeat interval of the first alert, a crossing raises a new one.
    await t.clock.advance(REPEAT_MS);
    await t.ok(RecordUsageDocument, { key, metric: 'STORAGE_BYTES', value: 810 }, null);
    // 760 is within the 5-point margin (no re-arm); 740 is below it, so 810 fires again.
    expect((await alertsOf(t, licenseId)).map((a) => a.value)).toEqual([820, 810]);
  });

  it('watches named users and concurrent sessions as seats and leases change', async () => {
    const t = server();
    const user = await licensed(t, 'USER', { limits: { namedUsers: 5 } });
    await everyCrossingRaises(t, user.licenseId, 'ACTIVE_USERS');
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
    await everyCrossingRaises(t, concurrent.licenseId, 'CONCURRENT_SESSIONS');
    const first = (await t.ok(CheckoutSeatDocument, { key: concurrent.key, fingerprint: 'one' }, null)).checkoutSeat.lease!;
    await t.ok(CheckoutSeatDocument, { key: concurrent.key, fingerprint: 'two' }, null);
    await t.ok(CheckinSeatDocument, { key: concurrent.key, leaseId: first.id }, null);
    await t.ok(CheckoutSeatDocument, { key: concurrent.key, fingerprint: 'three' }, null);
    // 50 % → 100 % (80, 90, 100 fire) → 50 % → 100 %: one session is a whole session below 100 %, which re-arms and fires
    // again, but less than one below 80 and 90 % (1.6 and 1.8 sessions), which stay as they were.
    expect((await alertsOf(t, concurrent.licenseId)).map((a) => a.threshold)).toEqual([80, 90, 100, 100]);
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
  it('counts a 10 → 9 → 10 swing, a thousand times on a 10-seat license, on one alert per threshold', async () => {
    const t = server();
    const { key, licenseId } = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 10 } });
    const { leaseLedger } = t.server.services;
    const call = () => ({ requestId: `swing-${Math.random()}` });
    let last = '';
    for (let i = 0; i < 10; i++) last = (await leaseLedger.checkout(key, `machine-${i}`, null, call())).lease!.id;
    for (let swing = 0; swing < 1000; swing++) {
      await leaseLedger.checkin(key, last, call());
      last = (await leaseLedger.checkout(key, `machine-9-${swing}`, null, call())).lease!.id;
    }
    const repeated = async () => (await t.ok(AlertRepeatsDocument, { filter: { licenseId } })).alerts.nodes;
    const alerts = await repeated();
    expect(alerts.map((a) => [a.threshold, a.value, a.repeats])).toEqual([
      [80, 8, 0],
      [90, 9, 0],
      [100, 10, 1000],
    ]);
    expect(alerts[2]!.lastRepeatedAt).not.toBeNull();
    expect(alerts[0]!.lastRepeatedAt).toBeNull();

    // Acknowledged, the alert is closed: the next crossing raises a new one.
    await t.ok(AcknowledgeAlertDocument, { id: alerts[2]!.id });
    await leaseLedger.checkin(key, last, call());
    last = (await leaseLedger.checkout(key, 'after-acknowledgement', null, call())).lease!.id;
    expect((await repeated()).map((a) => [a.threshold, a.repeats])).toEqual([
      [80, 0],
      [90, 0],
      [100, 1000],
      [100, 0],
    ]);
  });

  it('sees, at a second change of a metric in one transaction, the thresholds the first one set', async () => {
    const t = server();
    const { licenseId, organizationId, planId } = await licensed(t, 'SUBSCRIPTION', { limits: { storageBytes: 1000 } });
    const signals = new UsageSignals([new ThresholdWatch(t.server.services.alertLog)], { publish: () => undefined });
    const observed = (value: number) => ({ licenseId, organizationId, planId, metric: Metric.STORAGE_BYTES, value, limit: 1000 });
    const now = new Date();
    await t.server.db.write(async (tx) => {
      await signals.observe(tx, observed(1000), now); // raises 80, 90 and 100, and disarms them
      await signals.observe(tx, observed(1000), now); // disarmed: nothing
      await signals.observe(tx, observed(0), now); // re-arms all three
      await signals.observe(tx, observed(850), now); // crosses 80 again while its alert is open: a repeat
    });
    const alerts = (await t.ok(AlertRepeatsDocument, { filter: { licenseId } })).alerts.nodes;
    expect(alerts.map((a) => [a.threshold, a.repeats])).toEqual([
      [80, 1],
      [90, 0],
      [100, 0],
    ]);
  });

  it('raises a new alert once the open one is older than the repeat interval, and takes the interval from the rule', async () => {
    const t = server();
    const { key, licenseId } = await licensed(t, 'SUBSCRIPTION', { limits: { storageBytes: 1000 } });
    await t.ok(SetThresholdRuleDocument, { input: { licenseId, metric: 'STORAGE_BYTES', thresholds: [80], repeatIntervalMinutes: 60 } });
    const swing = async () => {
      await t.ok(RecordUsageDocument, { key, metric: 'STORAGE_BYTES', value: 700 }, null);
      await t.ok(RecordUsageDocument, { key, metric: 'STORAGE_BYTES', value: 850 }, null);
    };
    await swing();
    await t.clock.advance(59 * 60_000);
    await swing(); // 59 minutes after the alert: a repeat
    await t.clock.advance(2 * 60_000);
    await swing(); // 61 minutes after it: a new alert
    await swing();
    const alerts = (await t.ok(AlertRepeatsDocument, { filter: { licenseId } })).alerts.nodes;
    expect(alerts.map((a) => [a.threshold, a.value, a.repeats])).toEqual([
      [80, 850, 1],
      [80, 850, 1],
    ]);
  });

  it('re-arms a threshold only a whole unit below it, however small the margin', async () => {
    const t = server();
    const { key, licenseId } = await licensed(t, 'SUBSCRIPTION', { limits: { storageBytes: 10 } });
    // 95 % of 10 is 9.5: 10 reaches it; 9 is below it, but by less than a unit; 8 is a unit below.
    await t.ok(SetThresholdRuleDocument, {
      input: { licenseId, metric: 'STORAGE_BYTES', thresholds: [95], rearmMargin: 0, repeatIntervalMinutes: 0 },
    });
    for (const value of [10, 9, 10, 9, 10, 8, 10]) await t.ok(RecordUsageDocument, { key, metric: 'STORAGE_BYTES', value }, null);
    const alerts = (await t.ok(AlertRepeatsDocument, { filter: { licenseId } })).alerts.nodes;
    expect(alerts.map((a) => [a.threshold, a.value, a.repeats])).toEqual([
      [95, 10, 0],
      [95, 10, 0],
    ]);
  });
  it('raises one DENIALS alert an hour when a limit turns away ten requests that no grant met', async () => {
    const t = server();
    const hour = 3_600_000;
    // At a minute past an hour, the clock held: every denial falls in one hour.
    await t.clock.jumpTo(new Date(Math.ceil(t.clock.now().getTime() / hour) * hour + 60_000));
    t.clock.freeze();
    try {
      const { key, licenseId } = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 1 } });
      const checkout = (fingerprint: string) => t.ok(CheckoutSeatDocument, { key, fingerprint }, null);
      await checkout('holder');
      const settle = async () => {
        await t.clock.advance(61_000);
        await t.server.services.demand.flush();
      };
      for (let i = 0; i < 9; i++) expect((await checkout(`turned-away-${i}`)).checkoutSeat.outcome).toBe('NO_SEAT_AVAILABLE');
      await settle();
      const denialsAlerts = async () => (await alertsOf(t, licenseId)).filter((a) => a.kind === 'DENIALS');
      expect(await denialsAlerts()).toEqual([]); // nine: not yet
      await checkout('turned-away-9');
      await settle();
      const [alert] = await denialsAlerts();
      expect(alert).toMatchObject({ kind: 'DENIALS', severity: 'WARNING', metric: 'CONCURRENT_SESSIONS', value: 10 });
      for (let i = 10; i < 25; i++) await checkout(`turned-away-${i}`);
      await settle();
      expect(await denialsAlerts()).toHaveLength(1); // once an hour
    } finally {
      t.clock.thaw();
    }
  });

  it('raises one DENIALS alert when two flushes (of two instances) find the hour over the rate at once', async () => {
    const t = server();
    const hour = 3_600_000;
    const now = t.clock.now();
    const start = new Date(Math.floor(now.getTime() / hour) * hour);
    const { licenseId, organizationId } = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 1 } });
    await t.server.db.write((sql) =>
      sql.run(
        `insert into usage_denial (license_id, subject, feature_key, resolution, bucket_start, organization_id, denials, retries)
         values (?, 'CONCURRENT_SESSIONS', '', 'HOUR', ?, ?, 12, 0)`,
        [licenseId, start, organizationId],
      ),
    );
    const watch = new DenialWatch(t.server.services.alertLog);
    const unmet = [{ licenseId, organizationId, subject: 'CONCURRENT_SESSIONS' as never, hour: start.getTime() }];
    // The first holds its transaction open a while after raising; the second checks meanwhile (on PostgreSQL, where
    // both may write at once) and must wait to find the first one's alert.
    const first = t.server.db.write(async (tx) => {
      await watch.unmet(tx, unmet, now);
      await sleep(300);
    });
    await sleep(100);
    await Promise.all([first, t.server.db.write((tx) => watch.unmet(tx, unmet, now))]);
    expect((await alertsOf(t, licenseId)).filter((a) => a.kind === 'DENIALS')).toHaveLength(1);
  });
});
