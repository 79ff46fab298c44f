/**
 * Benchmark 1: `validateLicense` over HTTP, the call every client application makes on every start. On SQLite
 * against a bare `node:http` server answering a fixed small JSON body; on PostgreSQL (`validate-pg`, with
 * BENCH_DATABASE_URL) against a bare `node:http` + `pg` server doing the same reads.
 */
import { join } from 'node:path';
import {
  alternately,
  combined,
  loadSlice,
  type LoadOptions,
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
import { BENCH_DATABASE_URL, freshDatabase } from './postgres';
import { assertAlive, type ChildServer, type ProjectInfo, startFloor, startProject, startProjectOnPostgres } from './process';
import { atLeast, type BenchReport, below, exactly, type TargetCheck } from './report';
import { CHECKOUT, FLOOR_FEATURE, FLOOR_FINGERPRINT, FLOOR_KEY, graphql, seedConcurrentLicense } from './seed';

const NAME = 'validateLicense';
const FINGERPRINT = FLOOR_FINGERPRINT;

const VALIDATE = `query Validate($key: String!, $fingerprint: String, $user: String, $feature: String) {
  validateLicense(key: $key, fingerprint: $fingerprint, user: $user, feature: $feature) {
    valid code checks { check outcome code detail }
  }
}`;

export interface Drive {
  measurement: Measurement;
  /** 200 answers that were not a valid verdict, or carried `errors`, over the whole run. */
  rejected: number;
  /** The windows the measurement adds up (one but for alternating runs). */
  slices: Slice[];
}

/** What the load sends to a server and how its answers are checked. */
function optionsFor(server: ChildServer<{ url: string }>, body: string, rejected: { count: number }): LoadOptions {
  return {
    url: server.info.url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        body,
        // A substring test, not JSON.parse: the load generator shares two cores with the server under test.
        onResponse: (status, text) => {
          if (status === 200 && (!text.includes('"valid":true') || text.includes('"errors"'))) rejected.count += 1;
        },
      },
    ],
  };
}

/** A server under load, one slice at a time (see `alternately`). */
export function slicer(server: ChildServer<{ url: string }>, body: string) {
  const rejected = { count: 0 };
  const slices: Slice[] = [];
  return {
    slice: async (index: number) => {
      slices.push(await loadSlice(optionsFor(server, body, rejected), new MeasuredWindow(), server.cpuSeconds, sliceSettings(index)));
      assertAlive(server);
    },
    drive: (): Drive => ({ measurement: combined(slices), rejected: rejected.count, slices }),
  };
}

/** The floor's request: the same query, with the floor's fixed key. */
const floorBody = () =>
  JSON.stringify({
    query: VALIDATE,
    variables: { key: FLOOR_KEY, fingerprint: FLOOR_FINGERPRINT, user: 'ada@example.com', feature: FLOOR_FEATURE },
  });

/** The body of the typical validation on a fresh project server, with the license and the lease it needs. */
export async function validationBody(project: ChildServer<ProjectInfo>): Promise<string> {
  const { url, token } = project.info;
  if (!token) throw new Error('the fresh database gave no bootstrap token');
  const license = await seedConcurrentLicense(url, token, 10);
  // A machine holding a lease, so that the typical validation passes every check (status, term, lease, feature).
  await graphql(url, CHECKOUT, { key: license.key, fingerprint: FINGERPRINT, user: 'ada@example.com' });
  const variables = { key: license.key, fingerprint: FINGERPRINT, user: 'ada@example.com', feature: license.feature };
  return JSON.stringify({ query: VALIDATE, variables });
}

/** The floor and the project, both started, measured in alternating slices; both stopped after. */
async function measureBoth(
  startFloorServer: () => Promise<ChildServer<{ url: string }>>,
  startProjectServer: () => Promise<ChildServer<ProjectInfo>>,
) {
  const floor = await startFloorServer();
  try {
    const project = await startProjectServer();
    try {
      const floorLoad = slicer(floor, floorBody());
      const projectLoad = slicer(project, await validationBody(project));
      await alternately([floorLoad.slice, projectLoad.slice]);
      return { floor: floorLoad.drive(), project: projectLoad.drive() };
    } finally {
      await project.stop();
    }
  } finally {
    await floor.stop();
  }
}

const heading = (name: string) =>
  console.log(
    `\n== ${name}: ${SETTINGS.connections} connections, ${warmupNote()}, ${SETTINGS.durationSeconds} s measured ` +
      `in ${SLICES} windows each, taken alternately with the floor's`,
  );

export async function benchValidate(workdir: string): Promise<BenchReport> {
  heading(NAME);
  const { floor, project } = await measureBoth(
    () => startFloor(['static']),
    () => startProject(join(workdir, 'validate.sqlite')),
  );
  console.log(`floor   ${describe(floor)}`);
  console.log(`project ${describe(project)}`);
  return report(NAME, project, floor, 0.25, [below(`${NAME} p99`, project.measurement.p99, 25, ' ms', 1)]);
}

/** On PostgreSQL: the project and a floor doing the same reads, each on a fresh database of its own. */
export async function benchValidatePostgres(): Promise<BenchReport> {
  const name = `${NAME} (PostgreSQL)`;
  heading(name);
  if (!BENCH_DATABASE_URL) {
    console.log('skipped: BENCH_DATABASE_URL is not set');
    return { rows: [], checks: [] };
  }
  const floorDb = await freshDatabase('validate_floor');
  try {
    const projectDb = await freshDatabase('validate_project');
    try {
      const { floor, project } = await measureBoth(
        () => startFloor(['pg-validate', floorDb.url]),
        () => startProjectOnPostgres(projectDb.url),
      );
      console.log(`floor   ${describe(floor)}`);
      console.log(`project ${describe(project)}`);
      return report(name, project, floor, 0.3, []);
    } finally {
      await projectDb.drop();
    }
  } finally {
    await floorDb.drop();
  }
}

function report(name: string, project: Drive, floor: Drive, minimum: number, more: TargetCheck[]): BenchReport {
  const ratio = project.measurement.perSecond / floor.measurement.perSecond;
  const errorsOf = ({ measurement: m, rejected }: Drive) => m.non2xx + m.socketErrors + rejected;
  const row = (server: 'project' | 'floor', run: Drive) => ({
    benchmark: name,
    server,
    measurement: run.measurement,
    rate: run.measurement.perSecond,
    rateUnit: 'req/s',
    clientErrors: errorsOf(run),
  });
  return {
    rows: [row('project', project), row('floor', floor)],
    checks: [
      atLeast(`${name} ratio project/floor (req/s)`, ratio, minimum),
      // Neighbours on the machine skew requests per second more than the CPU each response costs the server.
      atLeast(
        `${name} ratio project/floor (server CPU per response)`,
        floor.measurement.serverMicrosPerResponse / project.measurement.serverMicrosPerResponse,
        minimum,
      ),
      ...more,
      below(`${name} max latency`, project.measurement.max, 250, ' ms', 1),
      exactly(`${name} errors and invalid answers`, errorsOf(project), 0),
      exactly(`${name} errors and invalid answers (floor)`, errorsOf(floor), 0),
    ],
  };
}

export function describe({ measurement: m, rejected, slices }: Drive): string {
  const sliced = slicesNote(slices);
  return (
    `${m.perSecond.toFixed(1)} req/s (${m.responses} in ${m.seconds} s), p50 ${m.p50} ms, p99 ${m.p99} ms, max ${m.max} ms, ${slowNote(m)}, ${cpuNote(m)}, ` +
    `non-2xx ${m.non2xx}, socket errors ${m.socketErrors}, invalid answers ${rejected}` +
    (sliced ? `; ${sliced}` : '')
  );
}
