import { expect, it } from 'vitest';
import { AssignSeatDocument, CheckoutSeatDocument, LicenseUsageDocument, RecordUsageDocument } from './generated/graphql';
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
    const storage = (await t.ok(RecordUsageDocument, { key, metric: 'STORAGE_BYTES', value: 400 }, null)).recordUsage;
    expect(storage).toMatchObject({ metric: 'STORAGE_BYTES', value: 400, limit: 1000, utilization: 0.4, periodStart: null });

    await t.ok(RecordUsageDocument, { key, metric: 'API_CALLS' }, null);
    const calls = (await t.ok(RecordUsageDocument, { key, metric: 'API_CALLS', amount: 39 }, null)).recordUsage;
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
    expect((await meter.record(key, 'API_CALLS' as never, { amount: 60 }, 'r1', monday)).value).toBe(60);
    const next = await meter.record(key, 'API_CALLS' as never, { amount: 5 }, 'r2', tuesday);
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
      { metric: 'STORAGE_BYTES' as const, amount: 5 },
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
