/**
 * Benchmark 4: `usageReport` over 10, 100 and 1,000 licenses of one organization with a year of daily usage
 * (sessions, storage and API calls each day, and denials every week), and `recommendations` for the organization.
 * The floor reads the same sample rows straight from the SQLite file with better-sqlite3, in the benchmark's own
 * process: what any report of those licenses must at least read. Each query runs a few times; the median is
 * reported, with the server's CPU time per call and per license.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { assertAlive, startProject } from './process';
import { type BenchReport, below, fixed, table } from './report';
import { graphql } from './seed';
import { sized } from './smoke';

const DAY_MS = 86_400_000;
const DAYS = sized(365, 7);
const SIZES = sized([10, 100, 1_000], [10]);
const RUNS = sized(5, 1);
const METRICS = ['ACTIVE_USERS', 'CONCURRENT_SESSIONS', 'STORAGE_BYTES', 'API_CALLS'];
/** The goal at 1,000 licenses on a quiet machine. */
const GOAL_MS = 500;

const USAGE_REPORT = `query($filter: UsageReportFilter!, $from: DateTimeISO!, $to: DateTimeISO!) {
  usageReport(filter: $filter, from: $from, to: $to) {
    licenses { licenseId metrics { metric average peak p95DailyPeak utilization denials unmetDemand clientsRefused } features { key uses } }
    totals { metric peak denials }
  }
}`;

const RECOMMENDATIONS = `query($organizationId: ID!) {
  recommendations(organizationId: $organizationId) { id kind licenseId yearlyCostChangeCents }
}`;

interface Timing {
  ms: number;
  cpuMs: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Issues `count` CONCURRENT licenses of one organization and plan; returns their ids. */
export async function seedLicenses(url: string, token: string, count: number): Promise<{ organizationId: string; licenseIds: string[] }> {
  const { createOrganization } = await graphql<{ createOrganization: { id: string } }>(
    url,
    'mutation { createOrganization(input: { name: "Reports Inc" }) { id } }',
    {},
    token,
  );
  const { createProduct } = await graphql<{ createProduct: { id: string } }>(
    url,
    `mutation { createProduct(input: { key: "suite", name: "Suite", features: [{ key: "core", name: "Core", tier: CORE }, { key: "ai", name: "AI", tier: PREMIUM }] }) { id } }`,
    {},
    token,
  );
  const { createPlan } = await graphql<{ createPlan: { id: string } }>(
    url,
    `mutation($productId: ID!) { createPlan(input: { productId: $productId, key: "floating", name: "Floating", licenseType: CONCURRENT, termDays: 730,
      limits: { concurrentSessions: 50, storageBytes: 1000000000 }, featureKeys: ["ai"], pricePerSeatCents: 1000, currency: "EUR" }) { id } }`,
    { productId: createProduct.id },
    token,
  );
  // Started before the year of history, on a two-year term: active all through it.
  const startsAt = new Date(Date.now() - (DAYS + 10) * DAY_MS).toISOString();
  const licenseIds: string[] = [];
  for (let i = 0; i < count; i++) {
    const { issueLicense } = await graphql<{ issueLicense: { license: { id: string } } }>(
      url,
      'mutation($input: IssueLicenseInput!) { issueLicense(input: $input) { license { id } } }',
      { input: { organizationId: createOrganization.id, planId: createPlan.id, startsAt } },
      token,
    );
    licenseIds.push(issueLicense.license.id);
  }
  return { organizationId: createOrganization.id, licenseIds };
}

/** A year of daily buckets for every license, written into the server's SQLite file as the meter and the daily carry would have. */
export function seedHistory(path: string, organizationId: string, licenseIds: string[]): number {
  const db = new Database(path);
  db.pragma('busy_timeout = 10000');
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const sample = db.prepare(
    `insert into usage_sample (license_id, metric, resolution, bucket_start, organization_id, samples, value_sum, value_max, value_last)
     values (?, ?, 'DAY', ?, ?, ?, ?, ?, ?)`,
  );
  const denial = db.prepare(
    `insert into usage_denial (license_id, subject, feature_key, resolution, bucket_start, organization_id, denials, retries)
     values (?, 'CONCURRENT_SESSIONS', '', 'DAY', ?, ?, ?, ?)`,
  );
  let rows = 0;
  db.transaction(() => {
    licenseIds.forEach((licenseId, n) => {
      for (let d = DAYS; d >= 1; d--) {
        const day = today - d * DAY_MS;
        const sessions = 10 + ((n + d) % 25);
        sample.run(licenseId, 'CONCURRENT_SESSIONS', day, organizationId, 8, sessions * 6, sessions, sessions - 2);
        sample.run(licenseId, 'STORAGE_BYTES', day, organizationId, 2, 2 * (1e6 + d * 1e3), 1e6 + d * 1e3, 1e6 + d * 1e3);
        sample.run(licenseId, 'API_CALLS', day, organizationId, 40, 400 + d, 400 * (d % 30) + d, 400 * (d % 30) + d);
        rows += 3;
        if (d % 7 === 0) {
          denial.run(licenseId, day, organizationId, 3, 1);
          rows++;
        }
      }
      // Today, before any sample: what the daily carry writes past midnight (a gauge's last value, no calls yet).
      const sessions = 10 + ((n + 1) % 25);
      sample.run(licenseId, 'CONCURRENT_SESSIONS', today, organizationId, 0, 0, sessions - 2, sessions - 2);
      sample.run(licenseId, 'STORAGE_BYTES', today, organizationId, 0, 0, 1e6 + 1e3, 1e6 + 1e3);
      sample.run(licenseId, 'API_CALLS', today, organizationId, 0, 0, 0, 0);
      rows += 3;
    });
  })();
  db.close();
  return rows;
}

/** What any report of the licenses must read: their sample rows of the window, straight from the file. */
function floorRead(path: string, licenseIds: string[], from: number): Timing {
  const db = new Database(path, { readonly: true });
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const rows = db
    .prepare(
      `select license_id, metric, bucket_start, samples, value_sum, value_max, value_last from usage_sample
        where license_id in (${licenseIds.map(() => '?').join(', ')}) and metric in (${METRICS.map(() => '?').join(', ')})
          and resolution = 'DAY' and bucket_start >= ?`,
    )
    .all(...licenseIds, ...METRICS, from);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const used = process.cpuUsage(cpu);
  db.close();
  if (!rows.length) throw new Error('the floor read no rows');
  return { ms, cpuMs: (used.user + used.system) / 1000 };
}

async function timed(call: () => Promise<unknown>, serverCpuSeconds: () => number): Promise<Timing> {
  const cpu = serverCpuSeconds();
  const started = process.hrtime.bigint();
  await call();
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, cpuMs: (serverCpuSeconds() - cpu) * 1000 };
}

export async function benchReports(workdir: string): Promise<BenchReport> {
  console.log(`\n== usageReport and recommendations: ${SIZES.join(', ')} licenses, ${DAYS} days of daily usage`);
  const path = join(workdir, 'reports.sqlite');
  const server = await startProject(path);
  try {
    const { url, token } = server.info;
    if (!token) throw new Error('the project printed no token');
    const { organizationId, licenseIds } = await seedLicenses(url, token, SIZES[SIZES.length - 1]);
    const rows = seedHistory(path, organizationId, licenseIds);
    console.log(`seeded ${licenseIds.length} licenses and ${rows} daily rows`);
    // Writing the history blocked this process past the server's keep-alive timeout: let the client see those closes.
    await sleep(100);
    const to = new Date();
    const from = new Date(to.getTime() - DAYS * DAY_MS);
    const lines: string[][] = [['licenses', 'report ms', 'server CPU ms', 'CPU ms a license', 'floor read ms', 'floor/report']];
    let atLargest = Number.NaN;
    for (const size of SIZES) {
      const ids = licenseIds.slice(0, size);
      const report = () =>
        graphql(url, USAGE_REPORT, { filter: { licenseIds: ids }, from: from.toISOString(), to: to.toISOString() }, token);
      // The floor first: it blocks this process, and the server may close the sockets left idle meanwhile.
      const floors = Array.from({ length: RUNS }, () => floorRead(path, ids, Math.floor(from.getTime() / DAY_MS) * DAY_MS));
      await sleep(100);
      await report(); // warm-up
      const runs: Timing[] = [];
      for (let i = 0; i < RUNS; i++) runs.push(await timed(report, server.cpuSeconds));
      const ms = median(runs.map((r) => r.ms));
      const cpuMs = median(runs.map((r) => r.cpuMs));
      const floorMs = median(floors.map((f) => f.ms));
      if (size === SIZES[SIZES.length - 1]) atLargest = ms;
      lines.push([String(size), fixed(ms), fixed(cpuMs), fixed(cpuMs / size, 2), fixed(floorMs), fixed(floorMs / ms, 3)]);
    }
    const recommend = () => graphql<{ recommendations: unknown[] }>(url, RECOMMENDATIONS, { organizationId }, token);
    const made = (await recommend()).recommendations.length;
    const recommendations: Timing[] = [];
    for (let i = 0; i < 3; i++) recommendations.push(await timed(recommend, server.cpuSeconds));
    lines.push([
      `recommendations (${licenseIds.length} licenses, ${made} made)`,
      fixed(median(recommendations.map((r) => r.ms))),
      fixed(median(recommendations.map((r) => r.cpuMs))),
      fixed(median(recommendations.map((r) => r.cpuMs)) / licenseIds.length, 2),
      '',
      '',
    ]);
    console.log(table(lines));
    assertAlive(server);
    return { rows: [], checks: [below(`usageReport of ${SIZES[SIZES.length - 1]} licenses, median`, atLargest, GOAL_MS, ' ms', 0)] };
  } finally {
    await server.stop();
  }
}
