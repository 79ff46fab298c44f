/**
 * Benchmark 1: `validateLicense` over HTTP, the call every client application makes on every start, against a
 * bare `node:http` server answering a fixed small JSON body.
 */
import { join } from 'node:path';
import { load, type LoadOptions, type Measurement, MeasuredWindow, SETTINGS, cpuNote, slowNote } from './load';
import { assertAlive, type ChildServer, type ProjectInfo, startFloor, startProject } from './process';
import { atLeast, type BenchReport, below, exactly } from './report';
import { CHECKOUT, graphql, seedConcurrentLicense } from './seed';

const NAME = 'validateLicense';
const FINGERPRINT = 'bench-workstation-0001';

const VALIDATE = `query Validate($key: String!, $fingerprint: String, $user: String, $feature: String) {
  validateLicense(key: $key, fingerprint: $fingerprint, user: $user, feature: $feature) {
    valid code checks { check outcome code detail }
  }
}`;

export interface Drive {
  measurement: Measurement;
  /** 200 answers that were not a valid verdict, or carried `errors`, over the whole run. */
  rejected: number;
}

/** Warm-up, then the measured window, with the same request and checks for both servers. */
export async function drive(server: ChildServer<{ url: string }>, body: string): Promise<Drive> {
  const window = new MeasuredWindow();
  let rejected = 0;
  const options: LoadOptions = {
    url: server.info.url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        body,
        // A substring test, not JSON.parse: the load generator shares two cores with the server under test.
        onResponse: (status, text) => {
          if (status === 200 && (!text.includes('"valid":true') || text.includes('"errors"'))) rejected += 1;
        },
      },
    ],
  };
  const measurement = await load(options, window, server.cpuSeconds);
  return { measurement, rejected };
}

async function measureFloor(): Promise<Drive> {
  const floor = await startFloor(['static']);
  try {
    const result = await drive(floor, JSON.stringify({ query: VALIDATE, variables: { key: 'AINX-FLOOR' } }));
    assertAlive(floor);
    return result;
  } finally {
    await floor.stop();
  }
}

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

async function measureProject(workdir: string): Promise<Drive> {
  const project = await startProject(join(workdir, 'validate.sqlite'));
  try {
    const result = await drive(project, await validationBody(project));
    assertAlive(project);
    return result;
  } finally {
    await project.stop();
  }
}

export async function benchValidate(workdir: string): Promise<BenchReport> {
  console.log(
    `\n== ${NAME}: ${SETTINGS.connections} connections, ${SETTINGS.warmupSeconds} s warm-up, ${SETTINGS.durationSeconds} s measured`,
  );
  const floor = await measureFloor();
  console.log(`floor   ${describe(floor)}`);
  const project = await measureProject(workdir);
  console.log(`project ${describe(project)}`);

  const ratio = project.measurement.perSecond / floor.measurement.perSecond;
  const errorsOf = ({ measurement: m, rejected }: Drive) => m.non2xx + m.socketErrors + rejected;
  const row = (server: 'project' | 'floor', run: Drive) => ({
    benchmark: NAME,
    server,
    measurement: run.measurement,
    rate: run.measurement.perSecond,
    rateUnit: 'req/s',
    clientErrors: errorsOf(run),
  });
  return {
    rows: [row('project', project), row('floor', floor)],
    checks: [
      atLeast(`${NAME} ratio project/floor (req/s)`, ratio, 0.25),
      // Neighbours on the machine skew requests per second more than the CPU each response costs the server.
      atLeast(
        `${NAME} ratio project/floor (server CPU per response)`,
        floor.measurement.serverMicrosPerResponse / project.measurement.serverMicrosPerResponse,
        0.25,
      ),
      below(`${NAME} p99`, project.measurement.p99, 25, ' ms', 1),
      below(`${NAME} max latency`, project.measurement.max, 250, ' ms', 1),
      exactly(`${NAME} errors and invalid answers`, errorsOf(project), 0),
    ],
  };
}

export function describe({ measurement: m, rejected }: Drive): string {
  return (
    `${m.perSecond.toFixed(1)} req/s (${m.responses} in ${m.seconds} s), p50 ${m.p50} ms, p99 ${m.p99} ms, max ${m.max} ms, ${slowNote(m)}, ${cpuNote(m)}, ` +
    `non-2xx ${m.non2xx}, socket errors ${m.socketErrors}, invalid answers ${rejected}`
  );
}
