import autocannon from 'autocannon';
import { sized } from './smoke';

/** The generator settings, the same for the project and its floor. */
export interface LoadSettings {
  connections: number;
  warmupSeconds: number;
  /**
   * Answers the warm-up takes at least, however long that is: a server answering fewer a second needs as many to
   * have its hot code compiled (BENCH_WARMUP_RESPONSES).
   */
  warmupResponses: number;
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
  warmupResponses: seconds('BENCH_WARMUP_RESPONSES', sized(10_000, 0)),
  durationSeconds: seconds('BENCH_DURATION_S', sized(10, 1)),
};

/**
 * The measured seconds of a server are cut into this many windows (BENCH_SLICES), taken alternately with those of
 * the server it is compared with (see `alternately`): a neighbour that slows the machine for a few seconds then
 * weighs on both, where one window each would give it all to one of them.
 */
export const SLICES = Math.max(1, Math.floor(seconds('BENCH_SLICES', sized(4, 1))));

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

/** One measured window: its figures, with what it takes to add windows up. */
export interface Slice {
  measurement: Measurement;
  /** Latencies of its 2xx responses, in ms, sorted. */
  latencies: Float64Array;
  serverCpuSeconds: number;
  generatorCpuSeconds: number;
}

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
 * so that it measures the steady state, not that burst. Figures come from autocannon's per-response events. A
 * later slice of a server already warm has no warm-up beyond every connection's first answer (see `sliceSettings`).
 */
export async function loadSlice(
  options: LoadOptions,
  window: MeasuredWindow,
  serverCpuSeconds: () => number,
  { warmupSeconds, warmupResponses, durationSeconds }: Omit<LoadSettings, 'connections'>,
): Promise<Slice> {
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
  let warmupAnswers = 0;
  let warmedUp = false;
  const ready = () => warmedUp && warmupAnswers >= warmupResponses && answered.size === SETTINGS.connections;
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
      warmupAnswers += 1;
      if (ready()) openWindow();
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
    if (ready()) openWindow();
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
    throw new Error(
      `the window did not open within ${MAX_ADMISSION_SECONDS} s: ${answered.size} of ${SETTINGS.connections} connections had an ` +
        `answer, ${warmupAnswers} of the ${warmupResponses} answers of the warm-up came`,
    );
  }

  const sorted = Float64Array.from(latencies).sort();
  const serverCpu = cpuAtClose - cpuAtOpen;
  const generatorCpuSeconds = (generatorInWindow.user + generatorInWindow.system) / 1e6;
  const totals = {
    responses,
    seconds: (closedAt - openedAt) / 1000,
    non2xx,
    socketErrors,
    slow,
    slowAt,
    serverCpuSeconds: serverCpu,
    generatorCpuSeconds,
  };
  return { measurement: measurementOf(totals, sorted), latencies: sorted, serverCpuSeconds: serverCpu, generatorCpuSeconds };
}

/** What a measurement is made of: counts and CPU seconds over its windows. */
interface Totals {
  responses: number;
  seconds: number;
  non2xx: number;
  socketErrors: number;
  slow: number;
  slowAt: number[];
  serverCpuSeconds: number;
  generatorCpuSeconds: number;
}

/** The figures of a measurement from its totals and its latencies (sorted). */
function measurementOf(totals: Totals, sorted: Float64Array): Measurement {
  const { responses, seconds, serverCpuSeconds } = totals;
  return {
    responses,
    seconds: Number(seconds.toFixed(2)),
    perSecond: responses / seconds,
    p50: ms(percentile(sorted, 0.5)),
    p99: ms(percentile(sorted, 0.99)),
    max: ms(sorted.at(-1) ?? 0),
    non2xx: totals.non2xx,
    socketErrors: totals.socketErrors,
    slow: totals.slow,
    slowAt: totals.slowAt,
    serverCores: serverCpuSeconds / seconds,
    serverMicrosPerResponse: (serverCpuSeconds / responses) * 1e6,
    generatorCores: totals.generatorCpuSeconds / seconds,
  };
}

/**
 * The slices of one server as one measurement: responses, seconds and CPU added up, latencies pooled; a slow
 * response's moment is given in the slices' joined time.
 */
export function combined(slices: readonly Slice[]): Measurement {
  if (slices.length === 1) return slices[0]!.measurement;
  const sum = (of: (slice: Slice) => number) => slices.reduce((total, slice) => total + of(slice), 0);
  const sorted = new Float64Array(sum((slice) => slice.latencies.length));
  let offset = 0;
  const slowAt: number[] = [];
  let before = 0;
  for (const slice of slices) {
    sorted.set(slice.latencies, offset);
    offset += slice.latencies.length;
    for (const at of slice.measurement.slowAt) if (slowAt.length < 5) slowAt.push(Number((before + at).toFixed(2)));
    before += slice.measurement.seconds;
  }
  sorted.sort();
  const totals = {
    responses: sum((slice) => slice.measurement.responses),
    seconds: sum((slice) => slice.measurement.seconds),
    non2xx: sum((slice) => slice.measurement.non2xx),
    socketErrors: sum((slice) => slice.measurement.socketErrors),
    slow: sum((slice) => slice.measurement.slow),
    slowAt,
    serverCpuSeconds: sum((slice) => slice.serverCpuSeconds),
    generatorCpuSeconds: sum((slice) => slice.generatorCpuSeconds),
  };
  return measurementOf(totals, sorted);
}

/** The warm-up and window of slice `index` of SLICES: the first warms the server up, each measures its share. */
export const sliceSettings = (index: number): Omit<LoadSettings, 'connections'> => ({
  warmupSeconds: index === 0 ? SETTINGS.warmupSeconds : 0,
  warmupResponses: index === 0 ? SETTINGS.warmupResponses : 0,
  durationSeconds: SETTINGS.durationSeconds / SLICES,
});

/**
 * Runs SLICES slices of each subject in turn (the first subject's first slice, the second's first, …, then the
 * second slices), and returns each subject's slices in order.
 */
export async function alternately<T>(subjects: readonly ((index: number) => Promise<T>)[]): Promise<T[][]> {
  const runs: T[][] = subjects.map(() => []);
  for (let index = 0; index < SLICES; index++) {
    for (const [i, subject] of subjects.entries()) runs[i]!.push(await subject(index));
  }
  return runs;
}

/** Each slice's server CPU per response, as `a / b / c µs`: how much the machine drifted between them. */
export const slicesNote = (slices: readonly Slice[]): string =>
  slices.length === 1
    ? ''
    : `slices ${slices.map((slice) => slice.measurement.serverMicrosPerResponse.toFixed(0)).join(' / ')} µs/response`;

export const slowNote = (m: Measurement): string =>
  `over ${SLOW_MS} ms: ${m.slow}${m.slowAt.length ? ` (first at ${m.slowAt.join(', ')} s)` : ''}`;

export const cpuNote = (m: Measurement): string =>
  `server CPU ${m.serverCores.toFixed(2)} cores, ${m.serverMicrosPerResponse.toFixed(0)} µs/response, generator CPU ${m.generatorCores.toFixed(2)} cores`;

/** How the first window of a server is preceded, for the benchmarks' headings. */
export const warmupNote = (): string =>
  `${SETTINGS.warmupSeconds} s and ${SETTINGS.warmupResponses.toLocaleString('en-US')} answers of warm-up`;
