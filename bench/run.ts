/**
 * `npm run bench`: each benchmark against its floor, then a summary. Servers run as child processes on
 * 127.0.0.1 with fresh SQLite files in a temporary directory; autocannon drives the HTTP benchmarks from this
 * process, and the WebSocket subscribers run in client processes of their own. BENCH_ONLY picks benchmarks by name.
 * Exits non-zero only when something crashed: a missed target is reported, not fatal.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SETTINGS } from './load';
import { type BenchReport, fixed, table, verdictOf } from './report';
import { benchLogging } from './logging.bench';
import { benchReports } from './reports.bench';
import { benchSeats, benchSeatsPostgres } from './seats.bench';
import { benchSubscribers } from './subscribers.bench';
import { benchValidate, benchValidatePostgres } from './validate.bench';
import { SMOKE } from './smoke';

/** Every benchmark, by the name BENCH_ONLY selects it with, in the order they run. */
const BENCHMARKS: Record<string, (workdir: string) => Promise<BenchReport>> = {
  validate: benchValidate,
  'validate-pg': () => benchValidatePostgres(),
  seats: benchSeats,
  'seats-pg': () => benchSeatsPostgres(),
  subscribers: benchSubscribers,
  reports: benchReports,
  logging: benchLogging,
};

/** BENCH_ONLY=subscribers (or a comma-separated list) runs only those benchmarks; unset, all of them. */
function selectedBenchmarks(): string[] {
  const only =
    process.env.BENCH_ONLY?.split(',')
      .map((name) => name.trim())
      .filter(Boolean) ?? [];
  const unknown = only.filter((name) => !(name in BENCHMARKS));
  if (unknown.length) throw new Error(`BENCH_ONLY names no benchmark ${unknown.join(', ')}; known: ${Object.keys(BENCHMARKS).join(', ')}`);
  return only.length ? Object.keys(BENCHMARKS).filter((name) => only.includes(name)) : Object.keys(BENCHMARKS);
}

function summary(reports: BenchReport[]): string {
  const rows = reports.flatMap((report) => report.rows);
  const figures = table([
    ['benchmark', 'server', 'rate', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'client errors', 'server cores', 'server µs/resp'],
    ...rows.map((row) => [
      row.benchmark,
      row.server,
      `${fixed(row.rate)} ${row.rateUnit}`,
      fixed(row.measurement.perSecond),
      String(row.measurement.p50),
      String(row.measurement.p99),
      String(row.measurement.max),
      String(row.clientErrors),
      fixed(row.measurement.serverCores, 2),
      fixed(row.measurement.serverMicrosPerResponse, 0),
    ]),
  ]);
  const checks = table([
    ['target', 'actual', 'wanted', 'verdict'],
    ...reports
      .flatMap((report) => report.checks)
      .map((check) => [check.name, check.actual, check.target, SMOKE ? 'not judged (smoke run)' : verdictOf(check)]),
  ]);
  return `${figures}\n\n${checks}`;
}

/** Other processes on the machine skew both servers' figures: say how busy it was. */
const loadNote = (when: string) =>
  `load average ${when}: ${loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')} (1, 5, 15 min) on ${availableParallelism()} cores`;

async function main(): Promise<void> {
  const selected = selectedBenchmarks();
  const workdir = mkdtempSync(join(tmpdir(), 'license-bench-'));
  const started = Date.now();
  try {
    if (SMOKE) console.log('smoke run (BENCH_SMOKE=1): every benchmark at a token size; the figures mean nothing');
    console.log(`benchmarks in ${workdir}; autocannon, ${SETTINGS.connections} connections for project and floor alike`);
    console.log(loadNote('before'));
    const reports: BenchReport[] = [];
    for (const name of selected) reports.push(await BENCHMARKS[name]!(workdir));
    console.log(`\n== summary (${((Date.now() - started) / 1000).toFixed(0)} s)\n${summary(reports)}`);
    console.log(`\n${loadNote('after')}`);
  } finally {
    rmSync(workdir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`benchmark crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
