/**
 * Where the services read the time and the jobs keep their rhythm. Terms, leases, notices and scans all turn on it,
 * so a test that sets and moves it sees a term end or a lease run out without waiting for it.
 */
export interface Clock {
  now(): Date;
  /**
   * Calls `tick` every `ms` of this clock's time until the returned function is called. A tick may return a promise:
   * a clock that moves on demand waits for it before it moves further.
   */
  every(ms: number, tick: () => unknown): () => void;
}

/** The time of the machine, with timers that never keep the process alive. */
export const systemClock: Clock = {
  now: () => new Date(),
  every(ms, tick) {
    const timer = setInterval(tick, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};
