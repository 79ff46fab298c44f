/**
 * The cost of the request log: `validateLicense` (as in the validate benchmark) against two project servers that
 * differ only in REQUEST_LOG_LEVEL (info: one JSON line per request, read by this process as a log collector would;
 * silent: none), both at LOG_LEVEL=info. They are measured alternately, in SLICES windows each (see `alternately`),
 * so that whatever else the machine does weighs on both alike; each server's figures are its windows added up.
 */
import { join } from 'node:path';
import { alternately, SETTINGS, SLICES } from './load';
import { type ChildServer, type ProjectInfo, startProject } from './process';
import { atLeast, type BenchReport, exactly } from './report';
import { type Drive, describe, slicer, validationBody } from './validate.bench';

const NAME = 'validateLicense request log';

async function start(workdir: string, requestLog: 'info' | 'silent'): Promise<{ server: ChildServer<ProjectInfo>; body: string }> {
  const server = await startProject(join(workdir, `logging-${requestLog}.sqlite`), { LOG_LEVEL: 'info', REQUEST_LOG_LEVEL: requestLog });
  return { server, body: await validationBody(server) };
}

export async function benchLogging(workdir: string): Promise<BenchReport> {
  console.log(`\n== ${NAME}: on against off, ${SLICES} alternate windows each, ${SETTINGS.connections} connections`);
  const off = await start(workdir, 'silent');
  let withLog: Drive;
  let without: Drive;
  try {
    const on = await start(workdir, 'info');
    try {
      const offLoad = slicer(off.server, off.body);
      const onLoad = slicer(on.server, on.body);
      await alternately([offLoad.slice, onLoad.slice]);
      [withLog, without] = [onLoad.drive(), offLoad.drive()];
    } finally {
      await on.server.stop();
    }
  } finally {
    await off.server.stop();
  }
  console.log(`log off ${describe(without)}`);
  console.log(`log on  ${describe(withLog)}`);
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
