import fc from 'fast-check';
import { expect, it } from 'vitest';
import {
  CheckinSeatDocument,
  CheckoutSeatDocument,
  RecordUsageDocument,
  UsageReportCsvDocument,
  UsageReportDocument,
  UsageReportFiguresDocument,
  ValidateLicenseDocument,
} from './generated/graphql';
import { adminOperation, issueToken, licensed, moreLicenses } from './support/factories';
import { UsageMetric } from '../src/kernel/metrics';
import { toDate } from '../src/db/sql';
import { LEASE_GRANTS } from '../src/modules/seat/lease-ledger';
import { DemandLog } from '../src/modules/usage/demand-log';
import { describeEachDatabase, type TestServer } from './support/server';
import { deniedClients, denials, featureUses, type Sample, samples, seats } from './support/usage-history';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** A license's report by the hour, from two hours before `start` (epoch ms) to the server's now. */
async function hourlyReportSince(t: TestServer, licenseId: string, start: number) {
  const answer = await t.ok(UsageReportDocument, {
    filter: { licenseIds: [licenseId] },
    from: new Date(start - 2 * HOUR).toISOString(),
    to: t.clock.now().toISOString(),
    resolution: 'HOUR',
  });
  return answer.usageReport.licenses[0]!;
}

/** Midnight (UTC) of the server's today: the end of the hand-built histories' windows. */
const midnight = (t: TestServer) => Math.floor(t.clock.now().getTime() / DAY) * DAY;

const none = (metric: string, limit: number | null) => ({
  metric,
  limit,
  average: 0,
  peak: 0,
  p95DailyPeak: 0,
  utilization: limit === null ? null : 0,
  overThresholds: limit === null ? [] : [80, 90, 100].map((threshold) => ({ threshold, buckets: 0 })),
  denials: 0,
  retries: 0,
  unmetDemand: 0,
  clientsRefused: 0,
});

describeEachDatabase('usage reports', (server) => {
  it('reports 120 days of hand-built history field by field: averages, peaks, p95 of daily peaks, thresholds, denials, features, seats', async () => {
    const t = server();
    const T = midnight(t);
    const day = (n: number) => T - n * DAY;
    const a = await licensed(t, 'SUBSCRIPTION', { limits: { storageBytes: 1000, apiCallsPerPeriod: 1000 } });
    const b = await licensed(t, 'CONCURRENT', { organizationId: a.organizationId, limits: { concurrentSessions: 10 } });
    const c = await licensed(t, 'USER', { organizationId: a.organizationId, limits: { namedUsers: 5 } });

    // A's storage: 100 before the window, 100 then 200 on its first day, 900 on day 60, 500 from day 61 on.
    await samples(t, a, 'STORAGE_BYTES', [
      { day: day(130), samples: 1, sum: 100, max: 100, last: 100 },
      { day: day(120), samples: 2, sum: 300, max: 200, last: 200 },
      { day: day(60), samples: 1, sum: 900, max: 900, last: 900 },
      { day: day(59), samples: 1, sum: 500, max: 500, last: 500 },
    ]);
    // A's API calls: 300 ten days ago, 600 more the next day (the month's counter then at 900).
    await samples(t, a, 'API_CALLS', [
      { day: day(10), samples: 3, sum: 300, max: 300, last: 300 },
      { day: day(9), samples: 6, sum: 600, max: 900, last: 900 },
    ]);
    await denials(t, a, 'STORAGE_BYTES', [{ day: day(60), denials: 3, retries: 0 }]);
    await featureUses(t, a, [
      { feature: 'premium.analytics', day: day(5), uses: 7, denials: 0, last: day(5) + 10 * HOUR },
      { feature: 'premium.sso', day: day(3), uses: 0, denials: 2, last: null },
      { feature: 'core.inference', day: day(200), uses: 4, denials: 0, last: day(200) + HOUR },
      { feature: 'no.such.feature', day: day(2), uses: 0, denials: 1, last: null },
    ]);
    // B's sessions: none for 20 days, 10 at most on day 100 (8 at its end), 4 at most on day 30 (2 at its end).
    await samples(t, b, 'CONCURRENT_SESSIONS', [
      { day: day(100), samples: 4, sum: 20, max: 10, last: 8 },
      { day: day(30), samples: 2, sum: 6, max: 4, last: 2 },
    ]);
    await denials(t, b, 'CONCURRENT_SESSIONS', [
      { day: day(100), denials: 5, retries: 2 },
      { day: day(30), denials: 1, retries: 0 },
    ]);
    await deniedClients(t, b, 'CONCURRENT_SESSIONS', [
      { day: day(100), client: 'm1', denials: 3, retries: 0 },
      { day: day(100), client: 'm2', denials: 2, retries: 2 },
      { day: day(30), client: 'm1', denials: 1, retries: 0 },
    ]);
    // C's seats at the window's end: s4 was released before it.
    await seats(t, c, [
      { user: 's1', assigned: day(200), active: day(10) },
      { user: 's2', assigned: day(200), active: day(45) },
      { user: 's3', assigned: day(100), active: null },
      { user: 's4', assigned: day(20), active: day(6), released: day(5) },
      { user: 's5', assigned: day(150), active: day(80) },
    ]);

    const { usageReport } = await t.ok(UsageReportDocument, {
      filter: { organizationId: a.organizationId },
      from: new Date(day(120)).toISOString(),
      to: new Date(T).toISOString(),
    });
    expect(usageReport.from).toBe(new Date(day(120)).toISOString());
    expect(usageReport.resolution).toBe('DAY');
    const [ra, rb, rc] = [a, b, c].map((l) => usageReport.licenses.find((r) => r.licenseId === l.licenseId)!);
    const withoutSeries = (r: typeof ra) => r!.metrics.map(({ series: _, ...m }) => m);

    // Days: 1 at 150 on average (peak 200), 59 carrying 200, 900, 500, and 58 carrying 500.
    expect(withoutSeries(ra)).toEqual([
      none('ACTIVE_USERS', null),
      none('CONCURRENT_SESSIONS', null),
      {
        metric: 'STORAGE_BYTES',
        limit: 1000,
        average: (150 + 59 * 200 + 900 + 500 + 58 * 500) / 120,
        peak: 900,
        p95DailyPeak: 500,
        utilization: 0.9,
        overThresholds: [
          { threshold: 80, buckets: 1 },
          { threshold: 90, buckets: 1 },
          { threshold: 100, buckets: 0 },
        ],
        denials: 3,
        retries: 0,
        unmetDemand: 3,
        clientsRefused: 0,
      },
      {
        metric: 'API_CALLS',
        limit: 1000,
        average: 900 / 120,
        peak: 600,
        p95DailyPeak: 0,
        utilization: 0.9,
        overThresholds: [
          { threshold: 80, buckets: 1 },
          { threshold: 90, buckets: 1 },
          { threshold: 100, buckets: 0 },
        ],
        denials: 0,
        retries: 0,
        unmetDemand: 0,
        clientsRefused: 0,
      },
    ]);
    const storage = ra!.metrics[2]!.series;
    expect(storage).toHaveLength(120);
    expect(storage.slice(0, 2)).toEqual([
      { start: new Date(day(120)).toISOString(), average: 150, peak: 200, denials: 0 },
      { start: new Date(day(119)).toISOString(), average: 200, peak: 200, denials: 0 },
    ]);
    expect(storage.slice(59, 62)).toEqual([
      { start: new Date(day(61)).toISOString(), average: 200, peak: 200, denials: 0 },
      { start: new Date(day(60)).toISOString(), average: 900, peak: 900, denials: 3 },
      { start: new Date(day(59)).toISOString(), average: 500, peak: 500, denials: 0 },
    ]);
    expect(ra!.features).toEqual([
      { key: 'core.inference', tier: 'CORE', entitled: false, uses: 0, denials: 0, lastUsedAt: new Date(day(200) + HOUR).toISOString() },
      {
        key: 'premium.analytics',
        tier: 'PREMIUM',
        entitled: true,
        uses: 7,
        denials: 0,
        lastUsedAt: new Date(day(5) + 10 * HOUR).toISOString(),
      },
      { key: 'premium.sso', tier: 'PREMIUM', entitled: false, uses: 0, denials: 2, lastUsedAt: null },
    ]);
    expect(ra!.seats).toBeNull();

    // Days: 20 at 0, 10 (mean 5), 69 carrying 8, 4 (mean 3), 29 carrying 2.
    expect(withoutSeries(rb)[1]).toEqual({
      metric: 'CONCURRENT_SESSIONS',
      limit: 10,
      average: (5 + 69 * 8 + 3 + 29 * 2) / 120,
      peak: 10,
      p95DailyPeak: 8,
      utilization: 1,
      overThresholds: [
        { threshold: 80, buckets: 70 },
        { threshold: 90, buckets: 1 },
        { threshold: 100, buckets: 1 },
      ],
      denials: 6,
      retries: 2,
      unmetDemand: 4,
      clientsRefused: 2,
    });
    expect(rb!.metrics[1]!.series[20]).toEqual({ start: new Date(day(100)).toISOString(), average: 5, peak: 10, denials: 5 });

    expect(rc!.seats).toEqual({ assigned: 4, activeWithin30Days: 1, activeWithin60Days: 2, activeWithin90Days: 3 });
    expect(withoutSeries(rc)[0]).toEqual(none('ACTIVE_USERS', 5));

    expect(usageReport.totals).toEqual([
      { ...none('ACTIVE_USERS', 5), overThresholds: [] },
      { ...withoutSeries(rb)[1], overThresholds: [] },
      { ...withoutSeries(ra)[2], overThresholds: [] },
      { ...withoutSeries(ra)[3], overThresholds: [] },
    ]);
  });

  it('gives the same report as CSV', async () => {
    const t = server();
    const T = midnight(t);
    const c = await licensed(t, 'USER', { limits: { namedUsers: 4 } });
    await samples(t, c, 'ACTIVE_USERS', [
      { day: T - 3 * DAY, samples: 2, sum: 5, max: 3, last: 2 },
      { day: T - DAY, samples: 1, sum: 4, max: 4, last: 4 },
    ]);
    await denials(t, c, 'ACTIVE_USERS', [{ day: T - DAY, denials: 2, retries: 1 }]);
    await deniedClients(t, c, 'ACTIVE_USERS', [
      { day: T - DAY, client: 'eve', denials: 1, retries: 0 },
      { day: T - DAY, client: 'bob', denials: 1, retries: 1 },
    ]);
    await seats(t, c, [{ user: 'ana', assigned: T - 40 * DAY, active: T - 2 * DAY }]);
    const { usageReport } = await t.ok(UsageReportCsvDocument, {
      filter: { licenseIds: [c.licenseId] },
      from: new Date(T - 4 * DAY).toISOString(),
      to: new Date(T).toISOString(),
    });
    const of = `${c.licenseId},${c.organizationId},USER plan,USER`;
    // Days: 0, 2.5 (peak 3), 2 carried, 4: average 8.5 / 4, peaks 0, 3, 2, 4.
    expect(usageReport.csv).toBe(
      [
        'section,license_id,organization_id,plan,type,metric,feature,tier,entitled,limit,average,peak,p95_daily_peak,utilization,over_thresholds,denials,retries,unmet_demand,clients_refused,uses,last_used_at,assigned,active_30d,active_60d,active_90d',
        `METRIC,${of},ACTIVE_USERS,,,,4,2.125,4,4,1,80:1;90:1;100:1,2,1,1,1,,,,,,`,
        `METRIC,${of},CONCURRENT_SESSIONS,,,,,0,0,0,,,0,0,0,0,,,,,,`,
        `METRIC,${of},STORAGE_BYTES,,,,,0,0,0,,,0,0,0,0,,,,,,`,
        `METRIC,${of},API_CALLS,,,,,0,0,0,,,0,0,0,0,,,,,,`,
        `FEATURE,${of},,premium.analytics,PREMIUM,true,,,,,,,0,,,,0,,,,,`,
        `SEATS,${of},,,,,,,,,,,,,,,,,1,1,1,1`,
        'TOTAL,,,,,ACTIVE_USERS,,,,4,2.125,4,4,1,,2,1,1,1,,,,,,',
        'TOTAL,,,,,CONCURRENT_SESSIONS,,,,,0,0,0,,,0,0,0,0,,,,,,',
        'TOTAL,,,,,STORAGE_BYTES,,,,,0,0,0,,,0,0,0,0,,,,,,',
        'TOTAL,,,,,API_CALLS,,,,,0,0,0,,,0,0,0,0,,,,,,',
        '',
      ].join('\n'),
    );
  });

  it('counts denials where they happen, tells retries from unmet demand, and raises each hour’s peak with the grant', async () => {
    const t = server();
    const start = t.clock.now().getTime();
    const l = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 1 } });
    const checkout = (fingerprint: string) => t.ok(CheckoutSeatDocument, { key: l.key, fingerprint }, null);
    const lease = (await checkout('m1')).checkoutSeat.lease!;
    expect((await checkout('m2')).checkoutSeat.outcome).toBe('NO_SEAT_AVAILABLE');
    expect((await checkout('m3')).checkoutSeat.outcome).toBe('NO_SEAT_AVAILABLE');
    await t.ok(CheckinSeatDocument, { key: l.key, leaseId: lease.id }, null);
    // m2 tried again within the minute and got its seat: a retry. m3 never did.
    expect((await checkout('m2')).checkoutSeat.outcome).toBe('GRANTED');
    await t.ok(ValidateLicenseDocument, { key: l.key, fingerprint: 'm2', feature: 'premium.analytics' }, null);
    await t.ok(ValidateLicenseDocument, { key: l.key, fingerprint: 'm2', feature: 'premium.analytics' }, null);
    await t.ok(ValidateLicenseDocument, { key: l.key, fingerprint: 'm3', feature: 'premium.sso' }, null);

    const report = () => hourlyReportSince(t, l.licenseId, start);
    // Until the minute after the last denial has passed, no denial is written: a grant may still make it a retry.
    await t.server.services.demand.flush();
    expect((await report()).metrics[1]).toMatchObject({ metric: 'CONCURRENT_SESSIONS', peak: 1, denials: 0 });
    await t.clock.advance(61_000);
    await t.server.services.demand.flush();
    const r = await report();
    expect(r.metrics[1]).toMatchObject({
      metric: 'CONCURRENT_SESSIONS',
      peak: 1,
      denials: 2,
      retries: 1,
      unmetDemand: 1,
      clientsRefused: 1,
    });
    expect(r.features.map((f) => [f.key, f.entitled, f.uses, f.denials])).toEqual([
      ['premium.analytics', true, 2, 0],
      ['premium.sso', false, 0, 1],
    ]);

    // API calls refused past the limit are denials too (no client: none is refused by name).
    const s = await licensed(t, 'SUBSCRIPTION', { limits: { apiCallsPerPeriod: 100 } });
    await t.ok(RecordUsageDocument, { key: s.key, metric: 'API_CALLS', amount: 50 }, null);
    expect((await t.ok(RecordUsageDocument, { key: s.key, metric: 'API_CALLS', amount: 500 }, null)).recordUsage.outcome).toBe('DENIED');
    await t.clock.advance(61_000);
    await t.server.services.demand.flush();
    const calls = (await hourlyReportSince(t, s.licenseId, start)).metrics[3]!;
    expect(calls).toMatchObject({ metric: 'API_CALLS', peak: 50, utilization: 0.5, denials: 1, unmetDemand: 1, clientsRefused: 0 });
  });

  it('tells retries from unmet demand in a burst of 1,200 machines refused at once, more than one look-up of grants takes', async () => {
    const t = server();
    const start = t.clock.now().getTime();
    const l = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 500 } });
    const refusedAt = new Date(start - 1_000);
    const machines = Array.from({ length: 1_200 }, (_, i) => `burst-${String(i).padStart(4, '0')}`);
    for (const client of machines) {
      t.server.services.demand.denied({
        licenseId: l.licenseId,
        organizationId: l.organizationId,
        subject: UsageMetric.CONCURRENT_SESSIONS,
        client,
        at: refusedAt,
      });
    }
    // Every third machine tried again a second later and got its seat: 400 retries, 800 machines whose demand went unmet.
    const retried = machines.filter((_, i) => i % 3 === 0);
    for (let from = 0; from < retried.length; from += 50) {
      const outcomes = await Promise.all(
        retried.slice(from, from + 50).map(async (fingerprint) => {
          const answer = await t.ok(CheckoutSeatDocument, { key: l.key, fingerprint }, null);
          return answer.checkoutSeat.outcome;
        }),
      );
      expect(new Set(outcomes)).toEqual(new Set(['GRANTED']));
    }
    await t.clock.advance(61_000);
    await t.server.services.demand.flush();
    const report = await hourlyReportSince(t, l.licenseId, start);
    expect(report.metrics[1]).toMatchObject({
      metric: 'CONCURRENT_SESSIONS',
      denials: 1_200,
      retries: 400,
      unmetDemand: 800,
      clientsRefused: 800,
    });
  });

  it('writes a machine refused in two hours of a day, and a feature used in both, as one row of the day each', async () => {
    const t = server();
    const l = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 1 } });
    const yesterday = midnight(t) - DAY;
    const refused = (at: number) =>
      t.server.services.demand.denied({
        licenseId: l.licenseId,
        organizationId: l.organizationId,
        subject: UsageMetric.CONCURRENT_SESSIONS,
        client: 'twice',
        at: new Date(at),
      });
    refused(yesterday + 1.5 * HOUR);
    refused(yesterday + 2.5 * HOUR);
    refused(yesterday + 2.6 * HOUR);
    for (const at of [yesterday + HOUR, yesterday + 3 * HOUR]) {
      t.server.services.demand.used({
        licenseId: l.licenseId,
        organizationId: l.organizationId,
        feature: 'sso',
        allowed: true,
        at: new Date(at),
      });
    }
    // The two hours' facts are written in one flush: a statement of many rows must not name one row twice.
    // Two hourly buckets and a daily one, one machine's day, one feature's day.
    expect(await t.server.services.demand.flush()).toBe(5);
    const row = await t.server.db.read((sql) =>
      sql.get<{ denials: unknown; retries: unknown; last_denied_at: unknown }>(
        'select denials, retries, last_denied_at from usage_denial_client where license_id = ? and client = ?',
        [l.licenseId, 'twice'],
      ),
    );
    expect([Number(row?.denials), Number(row?.retries), toDate(row?.last_denied_at).getTime()]).toEqual([3, 0, yesterday + 2.6 * HOUR]);
    const day = await t.ok(UsageReportDocument, {
      filter: { licenseIds: [l.licenseId] },
      from: new Date(yesterday).toISOString(),
      to: new Date(yesterday + DAY).toISOString(),
      resolution: 'DAY',
    });
    const report = day.usageReport.licenses[0]!;
    expect(report.metrics.find((m) => m.metric === 'CONCURRENT_SESSIONS')).toMatchObject({ denials: 3, clientsRefused: 1 });
    const uses = await t.server.db.read((sql) =>
      sql.all<{ uses: unknown }>('select uses from feature_use where license_id = ? and feature_key = ?', [l.licenseId, 'sso']),
    );
    expect(uses.map((u) => Number(u.uses))).toEqual([2]);
  });

  it('keeps, when a flush fails part of the way, what it had not written, and writes it once at the next', async () => {
    const t = server();
    const l = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 1 } });
    let told = 0;
    let failing = true;
    const errors: unknown[] = [];
    const log = new DemandLog(
      t.server.db,
      { CONCURRENT_SESSIONS: LEASE_GRANTS },
      t.clock,
      { error: (e: unknown) => errors.push(e) },
      {
        async unmet() {
          told++;
          if (failing && told === 2) throw new Error('the database went away');
        },
      },
    );
    const at = new Date(t.clock.now().getTime() - 1_000);
    const machines = Array.from({ length: 2_500 }, (_, i) => `machine-${i}`);
    for (const client of machines) {
      log.denied({ licenseId: l.licenseId, organizationId: l.organizationId, subject: UsageMetric.CONCURRENT_SESSIONS, client, at });
    }
    const clientRows = () =>
      t.server.db.read((sql) =>
        sql.get<{ n: unknown; denials: unknown }>(
          'select count(*) as n, sum(denials) as denials from usage_denial_client where license_id = ?',
          [l.licenseId],
        ),
      );
    // A transaction a thousand denials: the first was written, the second failed, the third was not tried.
    const first = await log.flush({ all: true });
    expect(errors).toHaveLength(1);
    const written = await clientRows();
    expect([Number(written?.n), Number(written?.denials)]).toEqual([1_000, 1_000]);
    expect(first).toBe(2 + 1_000); // the hour's and the day's buckets, the thousand machines
    failing = false;
    await log.flush({ all: true });
    const all = await clientRows();
    expect([Number(all?.n), Number(all?.denials)]).toEqual([2_500, 2_500]);
    expect(await log.flush({ all: true })).toBe(0);
  });

  it('sums in the database each series with a bucket every day, to the figures read day by day', async () => {
    const t = server();
    const T = midnight(t);
    // 30 days: where SQLite's percentile_disc at 0.95 and the nearest rank part (0.95 · 30 is not whole).
    const DAYS = 30;
    const op = await adminOperation(t);
    const { usageReports } = t.server.services;
    // A series: a bucket every day of the window or with days missing, and a value before the window or not.
    const series = (top: number) =>
      fc.record({
        shape: fc.constantFrom('dense' as const, 'gaps' as const, 'none' as const),
        before: fc.option(fc.integer({ min: 0, max: top }), { nil: null }),
        days: fc.array(
          fc.record({
            present: fc.nat(9),
            samples: fc.integer({ min: 1, max: 4 }),
            max: fc.integer({ min: 0, max: top }),
            share: fc.double({ min: 0, max: 1, noNaN: true }),
          }),
          { minLength: DAYS, maxLength: DAYS },
        ),
      });
    const rows = (
      s: {
        shape: 'dense' | 'gaps' | 'none';
        before: number | null;
        days: { present: number; samples: number; max: number; share: number }[];
      },
      counter: boolean,
    ): Sample[] => [
      ...(s.before === null || counter ? [] : [{ day: T - (DAYS + 5) * DAY, samples: 1, sum: s.before, max: s.before, last: s.before }]),
      ...s.days.flatMap((d, i) => {
        if (s.shape === 'none' || (s.shape === 'gaps' && d.present < 3)) return [];
        const day = T - (DAYS - i) * DAY;
        // A gauge: the samples' sum at most their count times the highest; the counter: calls made, and the period's count.
        const sum = counter ? Math.round(d.share * 300) : Math.round(d.share * d.samples * d.max);
        return [{ day, samples: d.samples, sum, max: d.max, last: counter ? d.max : Math.round(d.share * d.max) }];
      }),
    ];
    await fc.assert(
      fc.asyncProperty(series(12), series(1200), series(1200), async (sessions, storage, calls) => {
        const a = await licensed(t, 'SUBSCRIPTION', { limits: { storageBytes: 1000, apiCallsPerPeriod: 1000 } });
        const b = await licensed(t, 'CONCURRENT', { organizationId: a.organizationId, limits: { concurrentSessions: 10 } });
        await samples(t, b, 'CONCURRENT_SESSIONS', rows(sessions, false));
        await samples(t, a, 'STORAGE_BYTES', rows(storage, false));
        await samples(t, a, 'API_CALLS', rows(calls, true));
        const args = {
          filter: { licenseIds: [a.licenseId, b.licenseId] },
          from: new Date(T - DAYS * DAY),
          to: new Date(T),
          resolution: 'DAY' as never,
        };
        const byDay = await usageReports.report(op, args, { series: true, thresholds: true });
        const summed = await usageReports.report(op, args, { series: false, thresholds: true });
        const inputs = new Map([
          [`${b.licenseId} CONCURRENT_SESSIONS`, sessions],
          [`${a.licenseId} STORAGE_BYTES`, storage],
          [`${a.licenseId} API_CALLS`, calls],
        ]);
        const figures = (m: (typeof byDay.totals)[number]) => ({
          limit: m.limit,
          peak: m.peak,
          p95DailyPeak: m.p95DailyPeak,
          utilization: m.utilization,
          overThresholds: m.overThresholds.map((o) => ({ ...o })),
          unmetDemand: m.unmetDemand,
        });
        for (const [i, license] of byDay.licenses.entries()) {
          for (const [j, m] of license.metrics.entries()) {
            const s = summed.licenses[i]!.metrics[j]!;
            expect(figures(s)).toEqual(figures(m));
            expect(s.average).toBeCloseTo(m.average, 9);
            const input = inputs.get(`${license.licenseId} ${m.metric}`);
            // The database summed exactly the series with a bucket every day: their buckets were not read.
            if (input?.shape === 'dense') expect(() => s.series).toThrow(/without series/);
            else expect(s.series).toEqual(m.series);
            // Without a bucket in the window, a gauge holds what it had before all through; the counter nothing.
            if (input?.shape === 'none') {
              const held = m.metric === 'API_CALLS' ? 0 : (input.before ?? 0);
              expect([m.average, m.peak, m.p95DailyPeak]).toEqual([held, held, held]);
              expect(m.series.every((p) => p.average === held && p.peak === held)).toBe(true);
            }
          }
        }
      }),
      { numRuns: 12 },
    );
  });

  it('reads as many statements for 30 licenses as for one', async () => {
    const t = server();
    const seed = await licensed(t, 'USER');
    const counter = t.server.queries;
    const statements = async (licenseIds: string[]) => {
      counter.statements.length = 0;
      counter.recording = true;
      try {
        const to = new Date(midnight(t));
        const variables = { filter: { licenseIds }, from: new Date(to.getTime() - 90 * DAY).toISOString(), to: to.toISOString() };
        await t.ok(UsageReportDocument, variables);
        await t.ok(UsageReportFiguresDocument, variables);
      } finally {
        counter.recording = false;
      }
      return counter.statements.length;
    };
    const more = await moreLicenses(t, seed, 29);
    const one = await statements([seed.licenseId]);
    expect(await statements([seed.licenseId, ...more.map((l) => l.licenseId)])).toBe(one);
  });

  it('refuses what it cannot answer, and licenses the caller may not read', async () => {
    const t = server();
    const l = await licensed(t, 'SUBSCRIPTION');
    const other = await licensed(t, 'SUBSCRIPTION');
    const now = t.clock.now().getTime();
    const iso = (at: number) => new Date(at).toISOString();
    const window = { from: iso(now - 10 * DAY), to: iso(now) };
    const code = async (variables: object, token?: string) => {
      const response = await t.request(UsageReportDocument, variables as never, token);
      return [response.errors?.[0]?.extensions?.code, response.errors?.[0]?.extensions?.field];
    };
    expect(await code({ filter: {}, ...window })).toEqual(['BAD_USER_INPUT', 'filter']);
    expect(await code({ filter: { organizationId: l.organizationId, licenseIds: [l.licenseId] }, ...window })).toEqual([
      'BAD_USER_INPUT',
      'filter',
    ]);
    expect(await code({ filter: { licenseIds: [l.licenseId] }, from: iso(now), to: iso(now - DAY) })).toEqual(['BAD_USER_INPUT', 'to']);
    expect(await code({ filter: { licenseIds: [l.licenseId] }, from: iso(now - DAY), to: iso(now + 10 * DAY) })).toEqual([
      'BAD_USER_INPUT',
      'to',
    ]);
    expect(await code({ filter: { licenseIds: [l.licenseId] }, from: iso(now - 500 * DAY), to: iso(now) })).toEqual([
      'BAD_USER_INPUT',
      'from',
    ]);
    expect(await code({ filter: { licenseIds: [l.licenseId] }, from: iso(now - 40 * DAY), to: iso(now), resolution: 'HOUR' })).toEqual([
      'BAD_USER_INPUT',
      'from',
    ]);
    const auditor = await issueToken(t, 'AUDITOR', l.organizationId);
    expect(await code({ filter: { licenseIds: [l.licenseId, other.licenseId] }, ...window }, auditor.secret)).toEqual([
      'NOT_FOUND',
      undefined,
    ]);
    expect(await code({ filter: { organizationId: other.organizationId }, ...window }, auditor.secret)).toEqual(['FORBIDDEN', undefined]);
    const own = await t.ok(UsageReportDocument, { filter: { productId: other.productId }, ...window }, auditor.secret);
    expect(own.usageReport.licenses).toEqual([]);
    const mine = await t.ok(UsageReportDocument, { filter: { licenseIds: [l.licenseId] }, ...window }, auditor.secret);
    expect(mine.usageReport.licenses.map((r) => r.licenseId)).toEqual([l.licenseId]);
  });
});
