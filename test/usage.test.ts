import { expect, it } from 'vitest';
import {
  AssignSeatDocument,
  CheckoutSeatDocument,
  LicenseUsageDocument,
  RecordUsageDocument,
  UsageHistoryDocument,
} from './generated/graphql';
import { licensed } from './support/factories';
import { describeEachDatabase, type TestServer } from './support/server';

const usageOf = async (t: TestServer, licenseId: string) =>
  Object.fromEntries((await t.ok(LicenseUsageDocument, { licenseId })).licenseUsage.map((u) => [u.metric, u]));

describeEachDatabase('usage metering', (server) => {
  it('keeps storage as a gauge and API calls as a counter, each against its limit', async () => {
    const t = server();
    const { key, licenseId } = await licensed(t, 'SUBSCRIPTION', {
      limits: { storageBytes: 1000, apiCallsPerPeriod: 50, apiCallPeriod: 'MONTH' },
    });
    await t.ok(RecordUsageDocument, { key, metric: 'STORAGE_BYTES', value: 700 }, null);
    const storage = (await t.ok(RecordUsageDocument, { key, metric: 'STORAGE_BYTES', value: 400 }, null)).recordUsage.usage;
    expect(storage).toMatchObject({ metric: 'STORAGE_BYTES', value: 400, limit: 1000, utilization: 0.4, periodStart: null });

    await t.ok(RecordUsageDocument, { key, metric: 'API_CALLS' }, null);
    const calls = (await t.ok(RecordUsageDocument, { key, metric: 'API_CALLS', amount: 39 }, null)).recordUsage.usage;
    expect(calls).toMatchObject({ metric: 'API_CALLS', value: 40, limit: 50, utilization: 0.8 });
    const now = new Date();
    expect(calls.periodStart).toBe(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString());
    expect(calls.periodEnd).toBe(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString());

    const usage = await usageOf(t, licenseId);
    expect(usage.STORAGE_BYTES).toMatchObject({ value: 400, limit: 1000, utilization: 0.4 });
    expect(usage.API_CALLS).toMatchObject({ value: 40, limit: 50, utilization: 0.8 });
  });

  it('derives active users from seats and concurrent sessions from live leases', async () => {
    const t = server();
    const user = await licensed(t, 'USER', { limits: { namedUsers: 4 } });
    await t.ok(AssignSeatDocument, { licenseId: user.licenseId, userId: 'ada@example.com' });
    expect((await usageOf(t, user.licenseId)).ACTIVE_USERS).toMatchObject({ value: 1, limit: 4, utilization: 0.25 });
    const concurrent = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 2 } });
    await t.ok(CheckoutSeatDocument, { key: concurrent.key, fingerprint: 'host-1' }, null);
    expect((await usageOf(t, concurrent.licenseId)).CONCURRENT_SESSIONS).toMatchObject({ value: 1, limit: 2, utilization: 0.5 });
  });

  it('starts the API-call counter again in each period', async () => {
    const t = server();
    const { key, licenseId } = await licensed(t, 'SUBSCRIPTION', { limits: { apiCallsPerPeriod: 100, apiCallPeriod: 'DAY' } });
    const meter = t.server.services.usageMeter;
    const monday = new Date(Date.UTC(2026, 10, 30, 23, 30));
    const tuesday = new Date(Date.UTC(2026, 11, 1, 0, 30));
    expect((await meter.record(key, 'API_CALLS' as never, { amount: 60 }, 'r1', monday)).usage.value).toBe(60);
    const next = (await meter.record(key, 'API_CALLS' as never, { amount: 5 }, 'r2', tuesday)).usage;
    expect(next).toMatchObject({ value: 5, periodStart: new Date(Date.UTC(2026, 11, 1)), periodEnd: new Date(Date.UTC(2026, 11, 2)) });
    const license = {
      id: licenseId,
      apiCallPeriod: 'DAY' as never,
      storageBytes: null,
      apiCallsPerPeriod: 100,
      namedUsers: null,
      concurrentSessions: null,
    };
    const wednesday = (await meter.usageOf(license, new Date(Date.UTC(2026, 11, 2, 9)))).find((u) => u.metric === 'API_CALLS');
    expect(wednesday?.value).toBe(0);
  });

  it("answers a metric's history by hour or by day, and drops hourly buckets past their 35 days", async () => {
    const t = server();
    const { key, licenseId } = await licensed(t, 'SUBSCRIPTION', { limits: { storageBytes: 10_000 } });
    const meter = t.server.services.usageMeter;
    const day = Date.UTC(2026, 9, 1);
    // Two reports in the first hour of 1 October, one in its third hour, one on 2 October.
    const reports: [number, number][] = [
      [day + 60_000, 100],
      [day + 120_000, 300],
      [day + 2 * 3_600_000, 200],
      [day + 86_400_000, 50],
    ];
    for (const [at, value] of reports) await meter.record(key, 'STORAGE_BYTES' as never, { value }, 'r', new Date(at));
    const history = async (resolution: 'HOUR' | 'DAY', from: number, to: number) =>
      (
        await t.ok(UsageHistoryDocument, {
          licenseId,
          metric: 'STORAGE_BYTES',
          resolution,
          from: new Date(from).toISOString(),
          to: new Date(to).toISOString(),
        })
      ).usageHistory;
    expect(await history('HOUR', day, day + 86_400_000)).toEqual([
      { start: new Date(day).toISOString(), samples: 2, sum: 400, max: 300, last: 300, average: 200 },
      { start: new Date(day + 2 * 3_600_000).toISOString(), samples: 1, sum: 200, max: 200, last: 200, average: 200 },
    ]);
    expect((await history('DAY', day, day + 2 * 86_400_000)).map((b) => [b.samples, b.max, b.last])).toEqual([
      [3, 300, 200],
      [1, 50, 50],
    ]);

    // 36 days on, the hourly buckets of 1 October are gone and the 2 October one stays; the daily ones all stay.
    expect(await meter.prune(new Date(day + 36 * 86_400_000))).toBe(2);
    expect((await history('HOUR', day, day + 2 * 86_400_000)).map((b) => b.sum)).toEqual([50]);
    expect(await history('DAY', day, day + 2 * 86_400_000)).toHaveLength(2);

    const tooLong = {
      licenseId,
      metric: 'STORAGE_BYTES' as const,
      resolution: 'HOUR' as const,
      from: new Date(day).toISOString(),
      to: new Date(day + 50 * 86_400_000).toISOString(),
    };
    expect(await t.errorCode(UsageHistoryDocument, tooLong)).toBe('BAD_USER_INPUT');
    expect(await t.errorCode(UsageHistoryDocument, { ...tooLong, to: new Date(day - 1).toISOString() })).toBe('BAD_USER_INPUT');
  });

  it('rolls samples up into hourly and daily buckets, so the series stays small', async () => {
    const t = server();
    const { key, licenseId } = await licensed(t, 'SUBSCRIPTION');
    const meter = t.server.services.usageMeter;
    const start = Date.UTC(2026, 10, 28, 10);
    for (let i = 0; i < 30; i++) await meter.record(key, 'API_CALLS' as never, { amount: 2 }, `r${i}`, new Date(start + i * 4 * 60_000));
    const rows = await t.server.db.read((sql) =>
      sql.all<{ resolution: string; samples: number | string; value_sum: number | string }>(
        "select resolution, samples, value_sum from usage_sample where license_id = ? and metric = 'API_CALLS' order by resolution, bucket_start",
        [licenseId],
      ),
    );
    // 30 samples over two hours: one daily bucket and two hourly ones, each summing the calls it saw.
    expect(rows.map((r) => [r.resolution, Number(r.samples), Number(r.value_sum)])).toEqual([
      ['DAY', 30, 60],
      ['HOUR', 15, 30],
      ['HOUR', 15, 30],
    ]);
  });

  it('refuses reports that do not fit the metric, and records nothing', async () => {
    const t = server();
    const { key, licenseId } = await licensed(t, 'SUBSCRIPTION', { limits: { storageBytes: 1000 } });
    const refusals = [
      { metric: 'ACTIVE_USERS' as const, value: 3 },
      { metric: 'CONCURRENT_SESSIONS' as const, amount: 1 },
      { metric: 'STORAGE_BYTES' as const },
      { metric: 'STORAGE_BYTES' as const, value: -5 },
      { metric: 'STORAGE_BYTES' as const, amount: 0 },
      { metric: 'STORAGE_BYTES' as const, value: 5, amount: 5 },
      { metric: 'API_CALLS' as const, value: 5 },
      { metric: 'API_CALLS' as const, amount: 0 },
    ];
    for (const report of refusals) {
      expect(await t.errorCode(RecordUsageDocument, { key, ...report }, null), JSON.stringify(report)).toBe('BAD_USER_INPUT');
    }
    expect(await t.errorCode(RecordUsageDocument, { key: 'AINX-00000000-00000000-00000000-00000000', metric: 'API_CALLS' }, null)).toBe(
      'UNAUTHENTICATED',
    );
    const usage = await usageOf(t, licenseId);
    expect([usage.STORAGE_BYTES?.value, usage.API_CALLS?.value]).toEqual([0, 0]);
  });
});
