/**
 * Benchmark 2: 50 clients contending for the 10 seats of one CONCURRENT license. Each client loops: check a seat
 * out; when GRANTED, check it back in. The floor does the same rule with better-sqlite3 prepared statements in
 * `BEGIN IMMEDIATE` transactions behind a bare `node:http` server. `seats-pg` (with BENCH_DATABASE_URL) runs the
 * same on PostgreSQL, against a bare `node:http` + `pg` floor that locks the license's row, counts its live leases
 * and inserts one in a transaction. Besides speed, it proves the invariant: never more than 10 live leases, and no
 * error ever reaching a client.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import type autocannon from 'autocannon';
import Database from 'better-sqlite3';
import {
  alternately,
  combined,
  loadSlice,
  type Measurement,
  MeasuredWindow,
  SETTINGS,
  SLICES,
  type Slice,
  cpuNote,
  sliceSettings,
  slicesNote,
  slowNote,
  warmupNote,
} from './load';
import { BENCH_DATABASE_URL, type BenchDatabase, freshDatabase } from './postgres';
import { assertAlive, type ChildServer, type ProjectInfo, startFloor, startProject, startProjectOnPostgres } from './process';
import { atLeast, type BenchReport, exactly } from './report';
import { CHECKIN, CHECKOUT, graphql, seedConcurrentLicense } from './seed';

const NAME = 'checkout+checkin';
const SEAT_LIMIT = 10;
/** How often the parent counts live leases in the server's database while the load runs. */
const SAMPLE_EVERY_MS = 20;
/** Time for the requests cut off when autocannon stops to finish on the server, before its leases are counted. */
const SETTLE_MS = 300;

/** Where the parent reads a server's leases while the load runs: straight from its database. */
interface LeaseStore {
  live(): Promise<number>;
  /** The ids of the live leases, to check them in between two slices. */
  liveIds(): Promise<string[]>;
  /** The exact peak from the lease events in commit order, when the server keeps them. */
  replayedPeak(): Promise<number | null>;
  close(): Promise<void>;
}

/** The live leases of a server's SQLite file (WAL lets this read beside the writer). */
function sqliteLeases(path: string, live: LiveQueries, params: string[], events?: string): LeaseStore {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  const count = db.prepare(live.count).pluck();
  const ids = db.prepare(live.ids).pluck();
  return {
    live: async () => Number(count.get(...params)),
    liveIds: async () => ids.all(...params) as string[],
    replayedPeak: async () => (events ? replayPeak(db.prepare(events).pluck().all() as string[]) : null),
    close: async () => {
      db.close();
    },
  };
}

/**
 * The live leases of a server's PostgreSQL database. Its lease events are sealed into the audit chain a second after
 * their commit: the replay waits for the last of them and follows their places in the chain (commit order).
 */
async function postgresLeases(database: BenchDatabase, live: LiveQueries, params: string[], events?: string): Promise<LeaseStore> {
  const client = await database.client();
  const sealed = async () => {
    for (let waited = 0; waited < 10_000; waited += 200) {
      const { rows } = await client.query<{ waiting: string }>('select count(*) as waiting from audit_event where seq is null');
      if (Number(rows[0]!.waiting) === 0) return;
      await sleep(200);
    }
  };
  return {
    live: async () => Number((await client.query(live.count, params)).rows[0].count),
    liveIds: async () => (await client.query<{ id: string }>(live.ids, params)).rows.map((row) => row.id),
    replayedPeak: async () => {
      if (!events) return null;
      await sealed();
      return replayPeak((await client.query<{ action: string }>(events)).rows.map((row) => row.action));
    },
    close: async () => undefined,
  };
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
  slices: Slice[];
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

/** Counts live leases every few milliseconds while the load runs (one count at a time); keeps the peak. */
function sampleLiveLeases(store: LeaseStore) {
  let peak = 0;
  let counting: Promise<void> | null = null;
  const timer = setInterval(() => {
    counting ??= store.live().then(
      (live) => {
        peak = Math.max(peak, live);
        counting = null;
      },
      () => {
        counting = null;
      },
    );
  }, SAMPLE_EVERY_MS);
  return {
    stop: async () => {
      clearInterval(timer);
      await counting;
      return peak;
    },
  };
}

/** The highest number of live leases at any commit, from the lease events in the order they were written. */
function replayPeak(actions: readonly string[]): number {
  let live = 0;
  let peak = 0;
  for (const action of actions) {
    live += action === 'lease.checkout' ? 1 : -1;
    peak = Math.max(peak, live);
  }
  return peak;
}

/** A server under the seat load, one slice at a time (see `alternately`), under the live-lease sampler throughout. */
function contender(server: ChildServer<{ url: string }>, key: string, store: LeaseStore) {
  const window = new MeasuredWindow();
  const tally = emptyTally();
  const sampler = sampleLiveLeases(store);
  const slices: Slice[] = [];
  return {
    async slice(index: number): Promise<void> {
      // The connections cut off at the end of the last slice left the leases they held: they go back first.
      if (index > 0) await checkInLive(server.info.url, key, store);
      const options = { url: server.info.url, method: 'POST' as const, headers: { 'content-type': 'application/json' } };
      slices.push(await loadSlice({ ...options, requests: seatLoop(key, tally, window) }, window, server.cpuSeconds, sliceSettings(index)));
      await sleep(SETTLE_MS);
      assertAlive(server);
    },
    async run(): Promise<SeatRun> {
      return {
        measurement: combined(slices),
        slices,
        tally,
        maxLiveSampled: await sampler.stop(),
        maxLiveReplayed: await store.replayedPeak(),
        liveAtEnd: await store.live(),
      };
    },
  };
}

/** Checks in every live lease, as its client would have. */
async function checkInLive(url: string, key: string, store: LeaseStore): Promise<void> {
  for (const leaseId of await store.liveIds()) {
    await graphql(url, CHECKIN, { key, leaseId });
  }
}

/** The live leases, counted and listed. */
interface LiveQueries {
  count: string;
  ids: string;
}

const FLOOR_LIVE: LiveQueries = {
  count: 'select count(*) as count from lease where released_at is null',
  ids: 'select id from lease where released_at is null',
};
const PROJECT_LIVE = (placeholder: string): LiveQueries => ({
  count: `select count(*) as count from lease where license_id = ${placeholder} and released_at is null`,
  ids: `select id from lease where license_id = ${placeholder} and released_at is null`,
});
/** The ledger audits every lease change in the transaction that makes it, in commit order: rowid on SQLite, seq (the audit chain's place) on PostgreSQL. */
const LEASE_EVENTS = (order: string) => `select action from audit_event
  where object_type = 'Lease' and action in ('lease.checkout', 'lease.checkin', 'lease.expire', 'lease.end') order by ${order}`;

/** A server started for the benchmark, with the key its load presents and where its leases are counted. */
interface Contended {
  server: ChildServer<{ url: string }>;
  key: string;
  store: LeaseStore;
}

/** The floor and the project, measured in alternating slices; both stopped, and their stores closed, after. */
async function contendBoth(startFloorSide: () => Promise<Contended>, startProjectSide: () => Promise<Contended>) {
  const started: Contended[] = [];
  try {
    started.push(await startFloorSide());
    started.push(await startProjectSide());
    const [floor, project] = started.map(({ server, key, store }) => contender(server, key, store));
    await alternately([floor!.slice, project!.slice]);
    return { floor: await floor!.run(), project: await project!.run() };
  } finally {
    for (const { server, store } of started.reverse()) {
      await store.close();
      await server.stop();
    }
  }
}

/** Starts a server, then what it needs; the server is stopped if that fails. */
async function withServer<S extends ChildServer<{ url: string }>>(
  start: () => Promise<S>,
  rest: (server: S) => Promise<Omit<Contended, 'server'>>,
): Promise<Contended> {
  const server = await start();
  try {
    return { server, ...(await rest(server)) };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

async function seedLicense(project: ChildServer<ProjectInfo>) {
  const { url, token } = project.info;
  if (!token) throw new Error('the fresh database gave no bootstrap token');
  return seedConcurrentLicense(url, token, SEAT_LIMIT);
}

async function measureOnSqlite(workdir: string) {
  const floorPath = join(workdir, 'seats-floor.sqlite');
  const projectPath = join(workdir, 'seats-project.sqlite');
  return contendBoth(
    () =>
      withServer(
        () => startFloor(['seats', floorPath, String(SEAT_LIMIT)]),
        async () => ({ key: 'AINX-FLOOR', store: sqliteLeases(floorPath, FLOOR_LIVE, []) }),
      ),
    () =>
      withServer(
        () => startProject(projectPath),
        async (project) => {
          const license = await seedLicense(project);
          return { key: license.key, store: sqliteLeases(projectPath, PROJECT_LIVE('?'), [license.licenseId], LEASE_EVENTS('rowid')) };
        },
      ),
  );
}

async function measureOnPostgres() {
  const floorDb = await freshDatabase('seats_floor');
  try {
    const projectDb = await freshDatabase('seats_project');
    try {
      return await contendBoth(
        () =>
          withServer(
            () => startFloor(['pg-seats', floorDb.url, String(SEAT_LIMIT)]),
            async () => ({ key: 'AINX-FLOOR', store: await postgresLeases(floorDb, FLOOR_LIVE, []) }),
          ),
        () =>
          withServer(
            () => startProjectOnPostgres(projectDb.url),
            async (project) => {
              const license = await seedLicense(project);
              return {
                key: license.key,
                store: await postgresLeases(projectDb, PROJECT_LIVE('$1'), [license.licenseId], LEASE_EVENTS('seq')),
              };
            },
          ),
      );
    } finally {
      await projectDb.drop();
    }
  } finally {
    await floorDb.drop();
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
    `p50 ${m.p50} ms, p99 ${m.p99} ms, max ${m.max} ms, ${slowNote(m)}, ${cpuNote(m)}` +
      (run.slices.length > 1 ? `; ${slicesNote(run.slices)}` : ''),
    `GRANTED ${t.granted}, NO_SEAT_AVAILABLE ${t.denied}, RELEASED ${t.released}, other outcomes ${t.otherOutcomes}`,
    `live leases: peak sampled ${run.maxLiveSampled}, peak replayed ${run.maxLiveReplayed ?? 'n/a'}, ` +
      `peak reported ${t.maxSeatsReported}, at end ${run.liveAtEnd} (limit ${SEAT_LIMIT}) -> over-allocation ${overAllocation(run)}`,
    `client errors: non-200 ${t.non200}, GraphQL errors ${t.graphqlErrors}, socket errors/timeouts ${m.socketErrors}` +
      (t.firstError ? `; first: ${t.firstError}` : ''),
  ].join('\n        ');
}

const heading = (name: string) =>
  console.log(
    `\n== ${name}: ${SETTINGS.connections} clients, ${SEAT_LIMIT} seats, ${warmupNote()}, ` +
      `${SETTINGS.durationSeconds} s measured in ${SLICES} windows each, taken alternately with the floor's`,
  );

export async function benchSeats(workdir: string): Promise<BenchReport> {
  heading(NAME);
  const { floor, project } = await measureOnSqlite(workdir);
  console.log(`floor   ${describe(floor)}`);
  console.log(`project ${describe(project)}`);
  return report(NAME, project, floor, 0.35);
}

export async function benchSeatsPostgres(): Promise<BenchReport> {
  const name = `${NAME} (PostgreSQL)`;
  heading(name);
  if (!BENCH_DATABASE_URL) {
    console.log('skipped: BENCH_DATABASE_URL is not set');
    return { rows: [], checks: [] };
  }
  const { floor, project } = await measureOnPostgres();
  console.log(`floor   ${describe(floor)}`);
  console.log(`project ${describe(project)}`);
  return report(name, project, floor, 0.5);
}

function report(name: string, project: SeatRun, floor: SeatRun, minimum: number): BenchReport {
  const row = (server: 'project' | 'floor', run: SeatRun) => ({
    benchmark: name,
    server,
    measurement: run.measurement,
    rate: attemptsPerSecond(run),
    rateUnit: 'attempts/s',
    clientErrors: clientErrorsOf(run),
  });
  return {
    rows: [row('project', project), row('floor', floor)],
    checks: [
      atLeast(`${name} ratio project/floor (attempts/s)`, attemptsPerSecond(project) / attemptsPerSecond(floor), minimum),
      atLeast(
        `${name} ratio project/floor (server CPU per response)`,
        floor.measurement.serverMicrosPerResponse / project.measurement.serverMicrosPerResponse,
        minimum,
      ),
      exactly(`${name} over-allocation (project)`, overAllocation(project), 0),
      exactly(`${name} errors reaching a client (project)`, clientErrorsOf(project), 0),
      exactly(`${name} over-allocation (floor)`, overAllocation(floor), 0),
    ],
  };
}
