/**
 * The cost of the request log: `validateLicense` (as in the validate benchmark) against two project servers that
 * differ only in REQUEST_LOG_LEVEL (info: one JSON line per request, read by this process as a log collector would;
 * silent: none), both at LOG_LEVEL=info. They run one after the other, alternately, ROUNDS times each, so that
 * whatever else the machine does weighs on both alike; each server's figures are its best round.
 */
import { join } from 'node:path';
import { SETTINGS } from './load';
import { sized } from './smoke';
import { assertAlive, type ChildServer, type ProjectInfo, startProject } from './process';
import { atLeast, type BenchReport, exactly } from './report';
import { type Drive, describe, drive, validationBody } from './validate.bench';

const NAME = 'validateLicense request log';
const ROUNDS = sized(2, 1);

async function start(workdir: string, requestLog: 'info' | 'silent'): Promise<{ server: ChildServer<ProjectInfo>; body: string }> {
  const server = await startProject(join(workdir, `logging-${requestLog}.sqlite`), { LOG_LEVEL: 'info', REQUEST_LOG_LEVEL: requestLog });
  return { server, body: await validationBody(server) };
}

const best = (runs: Drive[]) => runs.reduce((a, b) => (b.measurement.perSecond > a.measurement.perSecond ? b : a));

export async function benchLogging(workdir: string): Promise<BenchReport> {
  console.log(`\n== ${NAME}: on against off, ${ROUNDS} alternate rounds each, ${SETTINGS.connections} connections`);
  const off = await start(workdir, 'silent');
  const on = await start(workdir, 'info');
  const runs: Record<'on' | 'off', Drive[]> = { on: [], off: [] };
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [name, subject] of [
        ['off', off],
        ['on', on],
      ] as const) {
        const run = await drive(subject.server, subject.body);
        assertAlive(subject.server);
        runs[name].push(run);
        console.log(`round ${round} log ${name.padEnd(3)} ${describe(run)}`);
      }
    }
  } finally {
    await Promise.all([off.server.stop(), on.server.stop()]);
  }
  const [withLog, without] = [best(runs.on), best(runs.off)];
  const ratio = withLog.measurement.perSecond / without.measurement.perSecond;
  const cpu = withLog.measurement.serverMicrosPerResponse - without.measurement.serverMicrosPerResponse;
  console.log(
    `request log on/off: ${ratio.toFixed(3)} of the requests per second; ${cpu.toFixed(0)} µs more server CPU per response ` +
      `(${withLog.measurement.serverMicrosPerResponse.toFixed(0)} against ${without.measurement.serverMicrosPerResponse.toFixed(0)})`,
  );
  const errorsOf = ({ measurement: m, rejected }: Drive) => m.non2xx + m.socketErrors + rejected;
  const row = (state: 'on' | 'off', run: Drive) => ({
    benchmark: `${NAME} ${state}`,
    server: 'project' as const,
    measurement: run.measurement,
    rate: run.measurement.perSecond,
    rateUnit: 'req/s',
    clientErrors: errorsOf(run),
  });
  return {
    rows: [row('on', withLog), row('off', without)],
    checks: [
      // The validate benchmark's ratio to its floor must not fall by more than noise when every request is logged.
      atLeast(`${NAME} on/off req/s`, ratio, 0.9),
      exactly(`${NAME} errors and invalid answers`, errorsOf(withLog) + errorsOf(without), 0),
    ],
  };
}
