/**
 * Benchmark 2: 50 clients contending for the 10 seats of one CONCURRENT license. Each client loops: check a seat
 * out; when GRANTED, check it back in. The floor does the same rule with better-sqlite3 prepared statements in
 * `BEGIN IMMEDIATE` transactions behind a bare `node:http` server. Besides speed, it proves the invariant: never
 * more than 10 live leases, and no error ever reaching a client.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import type autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { load, type Measurement, MeasuredWindow, SETTINGS, cpuNote, slowNote } from './load';
import { assertAlive, type ChildServer, startFloor, startProject } from './process';
import { atLeast, type BenchReport, exactly } from './report';
import { CHECKIN, CHECKOUT, seedConcurrentLicense } from './seed';

const NAME = 'checkout+checkin';
const SEAT_LIMIT = 10;
/** How often the parent counts live leases in the server's database while the load runs. */
const SAMPLE_EVERY_MS = 20;
/** Time for the requests cut off when autocannon stops to finish on the server, before its leases are counted. */
const SETTLE_MS = 300;

/** Where the parent reads a server's leases: straight from its SQLite file (WAL lets it read beside the writer). */
interface LeaseStore {
  path: string;
  liveCount: string;
  params: string[];
  /** Lease events in commit order, when the server keeps them: replaying them gives the exact peak. */
  events?: string;
}

interface Tally {
  checkouts: number;
  granted: number;
  denied: number;
  released: number;
  /** Outcomes other than GRANTED, NO_SEAT_AVAILABLE and RELEASED. */
  otherOutcomes: number;
  non200: number;
  graphqlErrors: number;
  firstError: string | null;
  /** The highest `seatsInUse` a GRANTED answer reported. */
  maxSeatsReported: number;
}

const emptyTally = (): Tally => ({
  checkouts: 0,
  granted: 0,
  denied: 0,
  released: 0,
  otherOutcomes: 0,
  non200: 0,
  graphqlErrors: 0,
  firstError: null,
  maxSeatsReported: 0,
});

interface CheckoutAnswer {
  outcome: string;
  seatsInUse?: number;
  lease: { id: string } | null;
}

interface SeatRun {
  measurement: Measurement;
  tally: Tally;
  maxLiveSampled: number;
  maxLiveReplayed: number | null;
  liveAtEnd: number;
}

/** The answer's `data[field]`, or null after counting what went wrong. */
function answerOf<T>(tally: Tally, status: number, text: string, field: string): T | null {
  if (status !== 200) {
    tally.non200 += 1;
    tally.firstError ??= `HTTP ${status}: ${text.slice(0, 300)}`;
    return null;
  }
  try {
    const body = JSON.parse(text) as { data?: Record<string, T> | null; errors?: unknown[] };
    if (body.errors?.length || !body.data?.[field]) {
      tally.graphqlErrors += 1;
      tally.firstError ??= text.slice(0, 300);
      return null;
    }
    return body.data[field];
  } catch {
    tally.graphqlErrors += 1;
    tally.firstError ??= `not JSON: ${text.slice(0, 300)}`;
    return null;
  }
}

/**
 * Each connection runs checkout → checkin; the checkin's `setupRequest` returns null after a denial, which makes
 * autocannon restart that connection's sequence at the checkout. Every attempt is a new machine fingerprint.
 * Outcomes are tallied inside the measured window; errors and the seats in use reported, over the whole run.
 */
function seatLoop(key: string, tally: Tally, window: MeasuredWindow): autocannon.Request[] {
  return [
    {
      setupRequest: (request) => ({
        ...request,
        body: JSON.stringify({ query: CHECKOUT, variables: { key, fingerprint: `bench-${randomUUID()}`, user: 'ada@example.com' } }),
      }),
      onResponse: (status, text, context) => {
        const counting = window.open;
        const answer = answerOf<CheckoutAnswer>(tally, status, text, 'checkoutSeat');
        if (answer?.outcome === 'GRANTED' && answer.lease) context.leaseId = answer.lease.id;
        tally.maxSeatsReported = Math.max(tally.maxSeatsReported, answer?.seatsInUse ?? 0);
        if (!counting) return;
        tally.checkouts += 1;
        if (answer?.outcome === 'GRANTED' && answer.lease) tally.granted += 1;
        else if (answer?.outcome === 'NO_SEAT_AVAILABLE') tally.denied += 1;
        else if (answer) tally.otherOutcomes += 1;
      },
    },
    {
      setupRequest: (request, context) =>
        typeof context.leaseId === 'string'
          ? { ...request, body: JSON.stringify({ query: CHECKIN, variables: { key, leaseId: context.leaseId } }) }
          : null,
      onResponse: (status, text) => {
        const counting = window.open;
        const answer = answerOf<{ outcome: string }>(tally, status, text, 'checkinSeat');
        if (!counting) return;
        if (answer?.outcome === 'RELEASED') tally.released += 1;
        else if (answer) tally.otherOutcomes += 1;
      },
    },
  ];
}

/** Counts live leases every few milliseconds while the load runs; keeps the peak. */
function sampleLiveLeases(db: Database.Database, store: LeaseStore) {
  const count = db.prepare(store.liveCount).pluck();
  const live = () => Number(count.get(...store.params));
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, live());
  }, SAMPLE_EVERY_MS);
  return {
    live,
    stop: () => {
      clearInterval(timer);
      return peak;
    },
  };
}

/** The highest number of live leases at any commit, from the lease events in the order they were written. */
function replayPeak(db: Database.Database, sql: string): number {
  let live = 0;
  let peak = 0;
  for (const action of db.prepare(sql).pluck().all() as string[]) {
    live += action === 'lease.checkout' ? 1 : -1;
    peak = Math.max(peak, live);
  }
  return peak;
}

/** Warm-up and measured window on the same connections, under the live-lease sampler from start to end. */
async function contend(server: ChildServer<{ url: string }>, key: string, store: LeaseStore): Promise<SeatRun> {
  const db = new Database(store.path, { readonly: true, fileMustExist: true });
  try {
    const window = new MeasuredWindow();
    const tally = emptyTally();
    const sampler = sampleLiveLeases(db, store);
    const measurement = await load(
      { url: server.info.url, method: 'POST', headers: { 'content-type': 'application/json' }, requests: seatLoop(key, tally, window) },
      window,
      server.cpuSeconds,
    );
    await sleep(SETTLE_MS);
    return {
      measurement,
      tally,
      maxLiveSampled: sampler.stop(),
      maxLiveReplayed: store.events ? replayPeak(db, store.events) : null,
      liveAtEnd: sampler.live(),
    };
  } finally {
    db.close();
  }
}

async function measureFloor(workdir: string): Promise<SeatRun> {
  const path = join(workdir, 'seats-floor.sqlite');
  const floor = await startFloor(['seats', path, String(SEAT_LIMIT)]);
  return runAgainst(floor, async () =>
    contend(floor, 'AINX-FLOOR', {
      path,
      liveCount: 'select count(*) from lease where released_at is null',
      params: [],
    }),
  );
}

async function measureProject(workdir: string): Promise<SeatRun> {
  const path = join(workdir, 'seats-project.sqlite');
  const project = await startProject(path);
  return runAgainst(project, async () => {
    const { url, token } = project.info;
    if (!token) throw new Error('the fresh database gave no bootstrap token');
    const license = await seedConcurrentLicense(url, token, SEAT_LIMIT);
    return contend(project, license.key, {
      path,
      liveCount: 'select count(*) from lease where license_id = ? and released_at is null',
      params: [license.licenseId],
      // The ledger audits every lease change in the transaction that makes it; rowid order is commit order.
      events: `select action from audit_event
                where object_type = 'Lease' and action in ('lease.checkout', 'lease.checkin', 'lease.expire', 'lease.end')
                order by rowid`,
    });
  });
}

async function runAgainst<T>(server: ChildServer<unknown>, fn: () => Promise<T>): Promise<T> {
  try {
    const result = await fn();
    assertAlive(server);
    return result;
  } finally {
    await server.stop();
  }
}

const clientErrorsOf = ({ measurement: m, tally: t }: SeatRun) => t.non200 + t.graphqlErrors + m.socketErrors;
const attemptsPerSecond = ({ measurement: m, tally: t }: SeatRun) => t.checkouts / m.seconds;
const overAllocation = (run: SeatRun) =>
  Math.max(0, Math.max(run.maxLiveSampled, run.maxLiveReplayed ?? 0, run.tally.maxSeatsReported, run.liveAtEnd) - SEAT_LIMIT);

function describe(run: SeatRun): string {
  const { measurement: m, tally: t } = run;
  return [
    `${attemptsPerSecond(run).toFixed(1)} attempts/s, ${m.perSecond.toFixed(1)} req/s (${m.responses} in ${m.seconds} s)`,
    `p50 ${m.p50} ms, p99 ${m.p99} ms, max ${m.max} ms, ${slowNote(m)}, ${cpuNote(m)}`,
    `GRANTED ${t.granted}, NO_SEAT_AVAILABLE ${t.denied}, RELEASED ${t.released}, other outcomes ${t.otherOutcomes}`,
    `live leases: peak sampled ${run.maxLiveSampled}, peak replayed ${run.maxLiveReplayed ?? 'n/a'}, ` +
      `peak reported ${t.maxSeatsReported}, at end ${run.liveAtEnd} (limit ${SEAT_LIMIT}) -> over-allocation ${overAllocation(run)}`,
    `client errors: non-200 ${t.non200}, GraphQL errors ${t.graphqlErrors}, socket errors/timeouts ${m.socketErrors}` +
      (t.firstError ? `; first: ${t.firstError}` : ''),
  ].join('\n        ');
}

export async function benchSeats(workdir: string): Promise<BenchReport> {
  console.log(
    `\n== ${NAME}: ${SETTINGS.connections} clients, ${SEAT_LIMIT} seats, ${SETTINGS.warmupSeconds} s warm-up, ${SETTINGS.durationSeconds} s measured`,
  );
  const floor = await measureFloor(workdir);
  console.log(`floor   ${describe(floor)}`);
  const project = await measureProject(workdir);
  console.log(`project ${describe(project)}`);

  const row = (server: 'project' | 'floor', run: SeatRun) => ({
    benchmark: NAME,
    server,
    measurement: run.measurement,
    rate: attemptsPerSecond(run),
    rateUnit: 'attempts/s',
    clientErrors: clientErrorsOf(run),
  });
  return {
    rows: [row('project', project), row('floor', floor)],
    checks: [
      atLeast(`${NAME} ratio project/floor (attempts/s)`, attemptsPerSecond(project) / attemptsPerSecond(floor), 0.35),
      atLeast(
        `${NAME} ratio project/floor (server CPU per response)`,
        floor.measurement.serverMicrosPerResponse / project.measurement.serverMicrosPerResponse,
        0.35,
      ),
      exactly(`${NAME} over-allocation (project)`, overAllocation(project), 0),
      exactly(`${NAME} errors reaching a client (project)`, clientErrorsOf(project), 0),
      exactly(`${NAME} over-allocation (floor)`, overAllocation(floor), 0),
    ],
  };
}
