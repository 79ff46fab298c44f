/**
 * BENCH_SMOKE=1 runs every benchmark at a token size (a second of load, a few alerts, a few licenses): what CI runs
 * so that the benchmarks keep working. Its figures mean nothing and no target is judged.
 */
export const SMOKE = process.env.BENCH_SMOKE === '1';

/** The full-size value, or the smoke one when BENCH_SMOKE=1. */
export const sized = <T>(full: T, smoke: T): T => (SMOKE ? smoke : full);
