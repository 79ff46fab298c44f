import autocannon from 'autocannon';
import { sized } from './smoke';

/** The generator settings, the same for the project and its floor. */
export interface LoadSettings {
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
}

const seconds = (name: string, fallback: number): number => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};

/** BENCH_WARMUP_S and BENCH_DURATION_S shorten a run while iterating; the defaults are the reported figures. */
export const SETTINGS: LoadSettings = {
  connections: 50,
  warmupSeconds: seconds('BENCH_WARMUP_S', sized(3, 0.5)),
  durationSeconds: seconds('BENCH_DURATION_S', sized(10, 1)),
};

export const SLOW_MS = 250;
/** How long every connection may take to get its first answer before the run is given up as broken. */
const MAX_ADMISSION_SECONDS = 60;

export interface Measurement {
  /** Responses received in the measured window. */
  responses: number;
  seconds: number;
  perSecond: number;
  /** Latencies in milliseconds, of the 2xx responses of the window. */
  p50: number;
  p99: number;
  max: number;
  /** Over the whole run, warm-up included, like the connection errors and timeouts. */
  non2xx: number;
  socketErrors: number;
  /** Responses slower than {@link SLOW_MS}, and when the first few came (seconds into the window). */
  slow: number;
  slowAt: number[];
  /** CPU the server used in the window: in cores (1 = one core all the time), and per response in µs. */
  serverCores: number;
  serverMicrosPerResponse: number;
  /** CPU this process, the load generator, used in the window: near 1 core, it is what limits the rate. */
  generatorCores: number;
}

export type LoadOptions = Omit<autocannon.Options, 'connections' | 'duration'>;

/** Whether the responses now arriving count; `onResponse` hooks that tally answers consult it. */
export class MeasuredWindow {
  open = false;
}

function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

const ms = (value: number) => Number(value.toFixed(1));

/**
 * One autocannon run over the same connections: a warm-up, then the measured window. A server saturated by its
 * first connections accepts the others one per event-loop turn, so a burst of 50 new connections takes seconds to
 * get all of its first answers: the window opens once the warm-up is over and every connection has had an answer,
 * so that it measures the steady state, not that burst. Figures come from autocannon's per-response events.
 */
export async function load(options: LoadOptions, window: MeasuredWindow, serverCpuSeconds: () => number): Promise<Measurement> {
  const { warmupSeconds, durationSeconds } = SETTINGS;
  // autocannon ends on its next one-second tick after stop(): the duration given is only a backstop.
  const instance = autocannon({
    ...options,
    connections: SETTINGS.connections,
    duration: MAX_ADMISSION_SECONDS + durationSeconds + 5,
    timeout: 10,
  });
  const latencies: number[] = [];
  const slowAt: number[] = [];
  let responses = 0;
  let non2xx = 0;
  let socketErrors = 0;
  let slow = 0;
  let openedAt = 0;
  let closedAt = 0;
  let cpuAtOpen = 0;
  let cpuAtClose = 0;
  let generatorAtOpen = process.cpuUsage();
  let generatorInWindow = process.cpuUsage();

  const answered = new Set<unknown>();
  let warmedUp = false;
  let closing: NodeJS.Timeout | undefined;
  const openWindow = () => {
    window.open = true;
    openedAt = performance.now();
    cpuAtOpen = serverCpuSeconds();
    generatorAtOpen = process.cpuUsage();
    closing = setTimeout(closeWindow, durationSeconds * 1000);
  };
  const closeWindow = () => {
    window.open = false;
    closedAt = performance.now();
    cpuAtClose = serverCpuSeconds();
    generatorInWindow = process.cpuUsage(generatorAtOpen);
    instance.stop();
  };

  instance.on('response', (client: unknown, status: number, _bytes: number, milliseconds: number) => {
    // Errors count over the whole run, warm-up included; rates and latencies over the window only.
    if (status < 200 || status > 299) non2xx += 1;
    if (closedAt) return;
    if (!window.open) {
      answered.add(client);
      if (warmedUp && answered.size === SETTINGS.connections) openWindow();
      return;
    }
    responses += 1;
    if (status >= 200 && status <= 299) latencies.push(milliseconds);
    if (milliseconds <= SLOW_MS) return;
    slow += 1;
    if (slowAt.length < 5) slowAt.push(Number(((performance.now() - openedAt) / 1000).toFixed(2)));
  });
  instance.on('reqError', () => {
    socketErrors += 1;
  });
  const opening = setTimeout(() => {
    warmedUp = true;
    if (answered.size === SETTINGS.connections) openWindow();
  }, warmupSeconds * 1000);
  const giveUp = setTimeout(() => {
    if (!openedAt) instance.stop();
  }, MAX_ADMISSION_SECONDS * 1000);
  try {
    await instance;
  } finally {
    clearTimeout(opening);
    clearTimeout(closing);
    clearTimeout(giveUp);
  }
  if (!closedAt) {
    throw new Error(`only ${answered.size} of ${SETTINGS.connections} connections had an answer within ${MAX_ADMISSION_SECONDS} s`);
  }

  const sorted = Float64Array.from(latencies).sort();
  const elapsed = (closedAt - openedAt) / 1000;
  return {
    responses,
    seconds: Number(elapsed.toFixed(2)),
    perSecond: responses / elapsed,
    p50: ms(percentile(sorted, 0.5)),
    p99: ms(percentile(sorted, 0.99)),
    max: ms(sorted.at(-1) ?? 0),
    non2xx,
    socketErrors,
    slow,
    slowAt,
    serverCores: (cpuAtClose - cpuAtOpen) / elapsed,
    serverMicrosPerResponse: ((cpuAtClose - cpuAtOpen) / responses) * 1e6,
    generatorCores: (generatorInWindow.user + generatorInWindow.system) / 1e6 / elapsed,
  };
}

export const slowNote = (m: Measurement): string =>
  `over ${SLOW_MS} ms: ${m.slow}${m.slowAt.length ? ` (first at ${m.slowAt.join(', ')} s)` : ''}`;

export const cpuNote = (m: Measurement): string =>
  `server CPU ${m.serverCores.toFixed(2)} cores, ${m.serverMicrosPerResponse.toFixed(0)} µs/response, generator CPU ${m.generatorCores.toFixed(2)} cores`;
