import { expect, it } from 'vitest';
import { RecordUsageDocument, RevokeLicenseDocument, UsageHistoryDocument } from './generated/graphql';
import { adminOperation, licensed } from './support/factories';
import { describeEachDatabase, type TestServer } from './support/server';
import { samples } from './support/usage-history';

const DAY = 86_400_000;
const HOUR = 3_600_000;

const midnight = (t: TestServer) => Math.floor(t.clock.now().getTime() / DAY) * DAY;

describeEachDatabase('daily carry', (server) => {
  it('gives each live series a bucket every day up to today: a gauge its value, the counter nothing', async () => {
    const t = server();
    const T = midnight(t);
    const live = await licensed(t, 'SUBSCRIPTION', { limits: { storageBytes: 1000, apiCallsPerPeriod: 1000 } });
    const revoked = await licensed(t, 'SUBSCRIPTION', { organizationId: live.organizationId, limits: { storageBytes: 1000 } });
    await samples(t, live, 'STORAGE_BYTES', [{ day: T - 3 * DAY, samples: 2, sum: 500, max: 300, last: 200 }]);
    await samples(t, live, 'API_CALLS', [{ day: T - 2 * DAY, samples: 4, sum: 40, max: 40, last: 40 }]);
    await samples(t, revoked, 'STORAGE_BYTES', [{ day: T - 3 * DAY, samples: 1, sum: 100, max: 100, last: 100 }]);
    // A series silent for longer than the look-back is left as it is.
    await samples(t, live, 'CONCURRENT_SESSIONS', [{ day: T - 40 * DAY, samples: 1, sum: 1, max: 1, last: 1 }]);
    await t.ok(RevokeLicenseDocument, { id: revoked.licenseId, reason: 'test' });

    const { dailyCarry } = t.server.services;
    expect(await dailyCarry.pass()).toBe(3 + 2);
    // Another pass, or another instance's at the same time, finds nothing left to carry.
    expect(await Promise.all([dailyCarry.pass(), dailyCarry.pass()])).toEqual([0, 0]);

    const history = async (licenseId: string, metric: 'STORAGE_BYTES' | 'API_CALLS') =>
      (
        await t.ok(UsageHistoryDocument, {
          licenseId,
          metric,
          resolution: 'DAY',
          from: new Date(T - 5 * DAY).toISOString(),
          to: new Date(T + DAY).toISOString(),
        })
      ).usageHistory.map((b) => [new Date(b.start).getTime(), b.samples, b.sum, b.max, b.last, b.average]);
    expect(await history(live.licenseId, 'STORAGE_BYTES')).toEqual([
      [T - 3 * DAY, 2, 500, 300, 200, 250],
      [T - 2 * DAY, 0, 0, 200, 200, 200],
      [T - DAY, 0, 0, 200, 200, 200],
      [T, 0, 0, 200, 200, 200],
    ]);
    expect(await history(live.licenseId, 'API_CALLS')).toEqual([
      [T - 2 * DAY, 4, 40, 40, 40, 10],
      [T - DAY, 0, 0, 0, 0, 0],
      [T, 0, 0, 0, 0, 0],
    ]);
    expect(await history(revoked.licenseId, 'STORAGE_BYTES')).toHaveLength(1);

    // Today's first report adds to its carried bucket: the day began at 200, so its peak is 200, its last 150.
    await t.ok(RecordUsageDocument, { key: live.key, metric: 'STORAGE_BYTES', value: 150 }, null);
    expect((await history(live.licenseId, 'STORAGE_BYTES')).at(-1)).toEqual([T, 1, 150, 200, 150, 150]);
  });

  it('fills in the days a report carries values through: the report stays as it was, and the database sums it', async () => {
    const t = server();
    const T = midnight(t);
    const carried = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 10 } });
    // Its twin has the same samples and is revoked: nothing is carried into its days.
    const twin = await licensed(t, 'CONCURRENT', { organizationId: carried.organizationId, limits: { concurrentSessions: 10 } });
    await t.ok(RevokeLicenseDocument, { id: twin.licenseId, reason: 'test' });
    const sessions = new Map([
      [T - 45 * DAY, { samples: 1, sum: 3, max: 3, last: 3 }],
      [T - 20 * DAY, { samples: 4, sum: 20, max: 9, last: 6 }],
      [T - 12 * DAY, { samples: 2, sum: 8, max: 7, last: 1 }],
      [T - 2 * DAY, { samples: 3, sum: 12, max: 8, last: 4 }],
    ]);
    // Day after day: the day's samples, then the pass that runs within the hour after midnight.
    for (let day = T - 45 * DAY; day <= T; day += DAY) {
      const s = sessions.get(day);
      if (s) for (const l of [carried, twin]) await samples(t, l, 'CONCURRENT_SESSIONS', [{ day, ...s }]);
      await t.server.services.dailyCarry.pass(new Date(day + HOUR));
    }
    const op = await adminOperation(t);
    const metricOf = async (licenseId: string) =>
      (
        await t.server.services.usageReports.report(
          op,
          { filter: { licenseIds: [licenseId] }, from: new Date(T - 30 * DAY), to: t.clock.now(), resolution: 'DAY' as never },
          { series: false, thresholds: true },
        )
      ).licenses[0]!.metrics[1]!;
    const [m, n] = [await metricOf(carried.licenseId), await metricOf(twin.licenseId)];
    // 31 days: 3 on ten days (carried from day 45), then 5 (peak 9), 6 on seven, 4 (peak 7), 1 on nine, 4 (peak 8), 4 on two.
    const expected = [102 / 31, 9, 8, 0.9, [2, 1, 0]];
    for (const r of [m, n])
      expect([r.average, r.peak, r.p95DailyPeak, r.utilization, r.overThresholds.map((o) => o.buckets)]).toEqual(expected);
    expect(() => m.series).toThrow(/without series/); // summed by the database
    expect(n.series).toHaveLength(31); // read day by day, through its gaps
  });
});
