/**
 * Benchmark 3: one alert delivered to 1,000 and to 5,000 WebSocket subscribers, all subscribed with
 * `alertRaised(filter: { licenseId, severity: CRITICAL })` to one license. A client application raises each alert
 * by reporting its storage at the limit (`recordUsage`), and re-arms the threshold by reporting 0 once every
 * subscriber has the alert. The latency of a delivery runs from the moment the report is sent to the moment a
 * subscriber receives the `next` message; every subscriber must get every alert exactly once. The floor is a bare
 * `ws` server that broadcasts a message of the same shape and size on the same report (bench/broadcast-floor.ts);
 * the same subscriber processes (bench/subscriber-pool.ts) measure both.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Measurement, SLOW_MS } from './load';
import { sized } from './smoke';
import { assertAlive, type ChildServer, startChild, startProject } from './process';
import { type BenchReport, exactly, fixed, type SummaryRow, type TargetCheck } from './report';
import { graphql, seedStorageLicense } from './seed';
import { type Receipts, wallClock } from './subscriber-messages';
import { type Delivery, type Opened, SubscriberPool } from './subscriber-pool';

const NAME = 'alertRaised';
const SIZES = sized([1000, 5000], [50]);
const WARMUP_ALERTS = sized(3, 1);
/** BENCH_ALERTS changes the number of measured alerts; 20 is what is reported. */
const ALERTS = Math.max(1, Math.floor(Number(process.env.BENCH_ALERTS) || sized(20, 2)));
/** Two client processes take the parsing of the messages off the generator and share the second core. */
const CLIENT_PROCESSES = 2;
/** How long a round waits for every subscriber before it gives the missing deliveries up as lost. */
const ROUND_TIMEOUT_MS = 10_000;
/** Time for late or duplicate deliveries to arrive after the last round, before the receipts are counted. */
const SETTLE_MS = 500;
/** The server has settled once it uses less than this share of a core over a sample. */
const IDLE_CORES = 0.1;
const IDLE_SAMPLE_MS = 250;
const IDLE_TIMEOUT_MS = 30_000;
/** Descriptors a process holds besides its sockets: stdio, the database, the event loop's own. */
const DESCRIPTOR_MARGIN = 100;
const STORAGE_LIMIT = 1000;

const ALERT_RAISED = `subscription($filter: AlertFilter) {
  alertRaised(filter: $filter) { id licenseId kind severity metric threshold value limit message raisedAt }
}`;

const RECORD_STORAGE = `mutation($key: String!, $value: SafeInt) {
  recordUsage(key: $key, metric: STORAGE_BYTES, value: $value) { usage { value } }
}`;

const CRITICAL_ALERTS = `query($filter: AlertFilter, $after: String) {
  alerts(filter: $filter, first: 200, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } }
}`;

/** A server under test, ready for subscribers, with the license whose storage raises the alerts. */
interface Target {
  server: ChildServer<{ url: string }>;
  key: string;
  connectionParams: Record<string, unknown>;
  filter: { licenseId: string; severity: 'CRITICAL' };
  /** The ids of the alerts every subscriber should have received, in the order they were raised. */
  raisedIds(): Promise<string[]>;
}

interface Round {
  sentAt: number;
  delivery: Delivery;
}

interface DeliveryRun {
  subscribers: number;
  opened: Opened;
  measured: Round[];
  receipts: Receipts;
  /** Latencies of the deliveries of the measured alerts, in ms, sorted. */
  latencies: Float64Array;
  /** Deliveries of the measured alerts later than {@link SLOW_MS}, and when the first few such alerts were raised. */
  slow: number;
  slowAt: number[];
  expected: number;
  lost: number;
  /** Deliveries of an alert that was not raised for this license at CRITICAL. */
  unexpected: number;
  /** Rounds, warm-up included, that ended on the timeout. */
  incompleteRounds: number;
  windowSeconds: number;
  serverCpuSeconds: number;
}

function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

const ms = (value: number) => Number(value.toFixed(1));
const wsUrlOf = (url: string) => url.replace(/^http/, 'ws');

/** `ulimit -n`, the open-files limit every process of the run inherits; NaN when the shell cannot tell. */
function openFilesLimit(): number {
  try {
    const limit = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    return limit === 'unlimited' ? Number.POSITIVE_INFINITY : Number(limit);
  } catch {
    return Number.NaN;
  }
}

/**
 * Every socket is a file descriptor on both ends: the server holds one per subscriber, each client process its
 * share. The sizes whose server would run out are skipped, and the output says how to raise the limit.
 */
function sizesWithinLimit(): number[] {
  const limit = openFilesLimit();
  const largest = Math.max(...SIZES);
  const needed = (subscribers: number) => subscribers + DESCRIPTOR_MARGIN;
  const fits = SIZES.filter((subscribers) => Number.isNaN(limit) || needed(subscribers) <= limit);
  const shown = Number.isNaN(limit) ? 'unknown' : String(limit);
  const verdict =
    fits.length === SIZES.length
      ? Number.isNaN(limit)
        ? 'could not be read; a limit that is too low shows as subscribers that failed to connect'
        : 'enough'
      : `too low: ${SIZES.filter((size) => !fits.includes(size)).join(' and ')} subscribers skipped; ` +
        `raise it (ulimit -n ${needed(largest) * 2}) before npm run bench`;
  console.log(
    `open files: ulimit -n ${shown} per process; ${largest} subscribers need about ${2 * largest} descriptors ` +
      `across server and clients, ${needed(largest)} in the server alone: ${verdict}`,
  );
  return fits;
}

const recordStorage = (target: Target, value: number) =>
  graphql<{ recordUsage: { usage: { value: number } } }>(target.server.info.url, RECORD_STORAGE, { key: target.key, value });

/**
 * Raises one alert and waits until every subscriber has it (or the timeout), then re-arms the threshold: the
 * next alert is raised only once this one is delivered, so that each is measured on its own.
 */
async function raiseOne(target: Target, pool: SubscriberPool, known: Set<string>): Promise<Round> {
  const sentAt = wallClock();
  const [delivery] = await Promise.all([pool.awaitDelivery(known, ROUND_TIMEOUT_MS), recordStorage(target, STORAGE_LIMIT)]);
  if (delivery.alertId) known.add(delivery.alertId);
  await recordStorage(target, 0);
  return { sentAt, delivery };
}

/**
 * Waits for the server to finish setting up the subscriptions (each replays the stored alerts first), so that the
 * rounds measure delivery only.
 */
async function untilIdle(server: ChildServer<unknown>): Promise<void> {
  const deadline = Date.now() + IDLE_TIMEOUT_MS;
  let before = server.cpuSeconds();
  while (!Number.isNaN(before) && Date.now() < deadline) {
    await sleep(IDLE_SAMPLE_MS);
    const now = server.cpuSeconds();
    if (now - before < (IDLE_CORES * IDLE_SAMPLE_MS) / 1000) return;
    before = now;
  }
}

/** Opens the subscribers, runs the warm-up and the measured rounds, and counts every receipt. */
async function deliver(target: Target, subscribers: number): Promise<DeliveryRun> {
  const { pool, opened } = await SubscriberPool.open({
    url: wsUrlOf(target.server.info.url),
    connectionParams: target.connectionParams,
    subscribe: { query: ALERT_RAISED, variables: { filter: target.filter } },
    subscribers,
    processes: CLIENT_PROCESSES,
  });
  try {
    if (opened.subscribed === 0) throw new Error(`no subscriber could subscribe: ${opened.firstError}`);
    await untilIdle(target.server);
    const known = new Set<string>();
    const warmup: Round[] = [];
    for (let i = 0; i < WARMUP_ALERTS; i += 1) warmup.push(await raiseOne(target, pool, known));

    pool.mark();
    const cpuAtOpen = target.server.cpuSeconds();
    const openedAt = wallClock();
    const measured: Round[] = [];
    for (let i = 0; i < ALERTS; i += 1) measured.push(await raiseOne(target, pool, known));
    const windowSeconds = (wallClock() - openedAt) / 1000;
    const serverCpuSeconds = target.server.cpuSeconds() - cpuAtOpen;

    await sleep(SETTLE_MS);
    assertAlive(target.server);
    const receipts = await pool.finish();
    const raised = await target.raisedIds();
    return {
      subscribers,
      opened,
      measured,
      receipts,
      ...latenciesOf(measured, receipts, openedAt),
      ...accountFor(raised, receipts, subscribers, WARMUP_ALERTS + ALERTS),
      incompleteRounds: [...warmup, ...measured].filter((round) => !round.delivery.complete).length,
      windowSeconds,
      serverCpuSeconds,
    };
  } finally {
    await pool.stop();
  }
}

/** Each delivery of a measured alert, from the moment its report was sent. */
function latenciesOf(measured: Round[], receipts: Receipts, openedAt: number) {
  const latencies: number[] = [];
  const slowAt: number[] = [];
  let slow = 0;
  for (const { sentAt, delivery } of measured) {
    const roundLatencies = (receipts.byAlert.get(delivery.alertId ?? '') ?? []).map((receivedAt) => receivedAt - sentAt);
    const slowInRound = roundLatencies.filter((latency) => latency > SLOW_MS).length;
    latencies.push(...roundLatencies);
    slow += slowInRound;
    if (slowInRound && slowAt.length < 5) slowAt.push(Number(((sentAt - openedAt) / 1000).toFixed(2)));
  }
  return { latencies: Float64Array.from(latencies).sort(), slow, slowAt };
}

/**
 * Lost and unexpected deliveries against what the server says it raised: each raised alert once per subscriber
 * (one that failed to connect lost them all), and a round that raised nothing lost its alert for everyone.
 */
function accountFor(raised: string[], receipts: Receipts, subscribers: number, rounds: number) {
  const expected = Math.max(raised.length, rounds) * subscribers;
  const raisedSet = new Set(raised);
  let received = 0;
  let unexpected = 0;
  for (const [alertId, times] of receipts.byAlert) {
    if (raisedSet.has(alertId)) received += times.length;
    else unexpected += times.length;
  }
  return { expected, lost: expected - received, unexpected };
}

/** The CRITICAL alerts the project stored for the license, page by page. */
async function storedCriticalAlerts(url: string, token: string, filter: Target['filter']): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (;;) {
    type Page = { alerts: { nodes: { id: string }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
    const { alerts }: Page = await graphql<Page>(url, CRITICAL_ALERTS, { filter, after }, token);
    ids.push(...alerts.nodes.map((node) => node.id));
    if (!alerts.pageInfo.hasNextPage) return ids;
    after = alerts.pageInfo.endCursor;
  }
}

async function measureProject(workdir: string, subscribers: number): Promise<DeliveryRun> {
  const server = await startProject(join(workdir, `subscribers-${subscribers}.sqlite`));
  try {
    const { url, token } = server.info;
    if (!token) throw new Error('the fresh database gave no bootstrap token');
    const license = await seedStorageLicense(url, token, STORAGE_LIMIT);
    const filter = { licenseId: license.licenseId, severity: 'CRITICAL' } as const;
    return await deliver(
      {
        server,
        key: license.key,
        connectionParams: { authorization: `Bearer ${token}` },
        filter,
        raisedIds: () => storedCriticalAlerts(url, token, filter),
      },
      subscribers,
    );
  } finally {
    await server.stop();
  }
}

async function measureFloor(subscribers: number): Promise<DeliveryRun> {
  const server = await startChild<{ url: string }>('floor', 'broadcast-floor.ts', [String(STORAGE_LIMIT)], {});
  const origin = new URL(server.info.url).origin;
  try {
    return await deliver(
      {
        server,
        key: 'AINX-FLOOR',
        connectionParams: { authorization: 'Bearer floor' },
        filter: { licenseId: 'floor-license', severity: 'CRITICAL' },
        raisedIds: async () => ((await (await fetch(`${origin}/alerts`)).json()) as { ids: string[] }).ids,
      },
      subscribers,
    );
  } finally {
    await server.stop();
  }
}

/** Failed connections, sockets closed early, protocol errors, duplicates and deliveries of foreign alerts. */
const problemsOf = (run: DeliveryRun) =>
  run.opened.failed + run.receipts.closed + run.receipts.protocolErrors + run.receipts.duplicates + run.unexpected;

function measurementOf(run: DeliveryRun): Measurement {
  const deliveries = run.latencies.length;
  return {
    responses: deliveries,
    seconds: Number(run.windowSeconds.toFixed(2)),
    perSecond: deliveries / run.windowSeconds,
    p50: ms(percentile(run.latencies, 0.5)),
    p99: ms(percentile(run.latencies, 0.99)),
    max: ms(run.latencies.at(-1) ?? 0),
    non2xx: 0,
    socketErrors: run.opened.failed + run.receipts.closed,
    slow: run.slow,
    slowAt: run.slowAt,
    serverCores: run.serverCpuSeconds / run.windowSeconds,
    serverMicrosPerResponse: (run.serverCpuSeconds / deliveries) * 1e6,
    generatorCores: run.receipts.cpuSeconds / run.windowSeconds,
  };
}

function describe(run: DeliveryRun): string {
  const m = measurementOf(run);
  const { opened, receipts: r } = run;
  return [
    `${opened.subscribed} of ${run.subscribers} subscribed in ${opened.seconds.toFixed(1)} s` +
      (opened.failed ? ` (${opened.failed} failed; first: ${opened.firstError})` : ''),
    `${run.measured.length} alerts: p50 ${m.p50} ms, p99 ${m.p99} ms, max ${m.max} ms, over ${SLOW_MS} ms: ${m.slow}` +
      (m.slowAt.length ? ` (first in the alerts raised at ${m.slowAt.join(', ')} s)` : '') +
      `, ${m.perSecond.toFixed(0)} deliveries/s, ${r.messageBytes} B a message`,
    `deliveries of ${WARMUP_ALERTS + ALERTS} alerts (${WARMUP_ALERTS} warm-up): expected ${run.expected}, lost ${run.lost}, ` +
      `duplicates ${r.duplicates}, unexpected ${run.unexpected}, protocol errors ${r.protocolErrors}, sockets closed ${r.closed}, ` +
      `rounds timed out ${run.incompleteRounds}` +
      (r.firstProblem ? `; first problem: ${r.firstProblem}` : ''),
    `server CPU ${m.serverCores.toFixed(2)} cores, ${m.serverMicrosPerResponse.toFixed(1)} µs/delivery, ` +
      `subscriber processes CPU ${m.generatorCores.toFixed(2)} cores`,
  ].join('\n        ');
}

/** `actual <= limit`, for a ratio whose target includes its bound. */
function atMost(name: string, actual: number, limit: number): TargetCheck {
  return {
    name,
    actual: fixed(actual, 2),
    target: `<= ${limit}`,
    met: actual <= limit,
    missedBy: `${fixed(actual - limit, 2)} (${fixed(((actual - limit) / limit) * 100, 0)}%)`,
  };
}

const notRun = (name: string, target: string): TargetCheck => ({ name, actual: 'not run', target, met: false, missedBy: 'not run' });

function checksOf(label: string, subscribers: number, project: DeliveryRun | null, floor: DeliveryRun | null): TargetCheck[] {
  if (!project || !floor) {
    return [notRun(`${label} lost deliveries (project)`, '= 0'), notRun(`${label} p99`, 'see the open-files note')];
  }
  // 1,000 subscribers within twice the bare broadcast; 5,000 within 1.5 times, and subscribed within twice its time.
  const p99 = measurementOf(project).p99 / Math.max(measurementOf(floor).p99, 0.1);
  const checks = [
    exactly(`${label} lost deliveries (project)`, project.lost, 0),
    exactly(`${label} duplicate or unexpected deliveries (project)`, project.receipts.duplicates + project.unexpected, 0),
    exactly(`${label} lost, duplicate or unexpected (floor)`, floor.lost + floor.receipts.duplicates + floor.unexpected, 0),
    atMost(`${label} p99 project/floor`, p99, subscribers >= 5000 ? 1.5 : 2),
  ];
  if (subscribers >= 5000) {
    checks.push(atMost(`${label} time to subscribe project/floor`, project.opened.seconds / Math.max(floor.opened.seconds, 0.1), 2));
  }
  return checks;
}

function rowOf(label: string, server: 'project' | 'floor', run: DeliveryRun): SummaryRow {
  const measurement = measurementOf(run);
  return {
    benchmark: label,
    server,
    measurement,
    rate: measurement.perSecond,
    rateUnit: 'deliveries/s',
    clientErrors: run.lost + problemsOf(run),
  };
}

export async function benchSubscribers(workdir: string): Promise<BenchReport> {
  console.log(
    `\n== ${NAME}: ${SIZES.join(' and ')} WebSocket subscribers over ${CLIENT_PROCESSES} client processes, ` +
      `${WARMUP_ALERTS} warm-up + ${ALERTS} measured alerts, one at a time`,
  );
  const sizes = sizesWithinLimit();
  const report: BenchReport = { rows: [], checks: [] };
  for (const subscribers of SIZES) {
    const label = `${NAME} ×${subscribers}`;
    if (!sizes.includes(subscribers)) {
      report.checks.push(...checksOf(label, subscribers, null, null));
      continue;
    }
    console.log(`-- ${subscribers} subscribers`);
    const floor = await measureFloor(subscribers);
    console.log(`floor   ${describe(floor)}`);
    const project = await measureProject(workdir, subscribers);
    console.log(`project ${describe(project)}`);
    report.rows.push(rowOf(label, 'project', project), rowOf(label, 'floor', floor));
    report.checks.push(...checksOf(label, subscribers, project, floor));
  }
  return report;
}
