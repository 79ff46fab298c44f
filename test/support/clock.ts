import type { Clock } from '../../src/common/clock';

/** setTimeout's longest delay (about 24.8 days); a timer due later is armed again when this one fires. */
const MAX_DELAY_MS = 2 ** 31 - 1;
/** More ticks than this in one advance is a test jumping ahead, which jumpTo() says. */
const MAX_TICKS_PER_ADVANCE = 10_000;

interface Timer {
  ms: number;
  tick: () => unknown;
  /** The clock's time, in epoch ms, when it fires next. */
  due: number;
  handle?: NodeJS.Timeout;
}

/**
 * The clock of a test server: it runs with the machine's time (unless a test freezes it), and a test moves it ahead
 * to see what a later moment brings (a lease run out, a window over, a job's next pass) without waiting for it. It
 * never goes back, so that what the server stores stays in the order it happened.
 *
 * `advance` and `advanceTo` are time passing: every timer fires at each of its moments in between, in order, and the
 * move waits for what each tick started. `jumpTo` is the clock set forward, as a machine's clock is corrected: the
 * jobs keep their rhythm in time elapsed, so none fires for the moments skipped (a test runs the pass it wants).
 */
export class TestClock implements Clock {
  private offset = 0;
  /** Where the clock stands while frozen. */
  private frozenAt: number | undefined;
  private readonly timers = new Set<Timer>();

  now(): Date {
    return new Date(this.frozenAt ?? Date.now() + this.offset);
  }

  /** Stops the clock where it is: until `thaw`, only `advance` and `jumpTo` move it. */
  freeze(): void {
    this.frozenAt = this.now().getTime();
  }

  /** Lets the clock run with the machine's time again, from where it stands. */
  thaw(): void {
    if (this.frozenAt === undefined) return;
    this.offset = this.frozenAt - Date.now();
    this.frozenAt = undefined;
  }

  every(ms: number, tick: () => unknown): () => void {
    const timer: Timer = { ms, tick, due: this.now().getTime() + ms };
    this.timers.add(timer);
    this.arm(timer);
    return () => {
      clearTimeout(timer.handle);
      this.timers.delete(timer);
    };
  }

  /** Lets `ms` pass at once: the timers fire at each of their moments in between, in order, each tick awaited. */
  async advance(ms: number): Promise<void> {
    if (ms < 0) throw new Error(`a test clock never goes back (asked to move ${ms} ms)`);
    const target = this.now().getTime() + ms;
    for (let fired = 0; ; fired++) {
      const next = [...this.timers].filter((timer) => timer.due <= target).sort((a, b) => a.due - b.due)[0];
      if (!next) break;
      if (fired >= MAX_TICKS_PER_ADVANCE)
        throw new Error(`advancing ${ms} ms fires more than ${MAX_TICKS_PER_ADVANCE} ticks: jumpTo() skips them`);
      this.moveTo(next.due);
      clearTimeout(next.handle);
      next.due += next.ms;
      await next.tick();
      if (this.timers.has(next)) this.arm(next);
    }
    this.moveTo(target);
  }

  /** Lets time pass until `at` (a moment already past leaves the clock where it is). */
  advanceTo(at: Date): Promise<void> {
    return this.advance(Math.max(0, at.getTime() - this.now().getTime()));
  }

  /** Sets the clock forward to `at` (a moment already past leaves it where it is); no timer fires for the skip. */
  jumpTo(at: Date): void {
    const skipped = at.getTime() - this.now().getTime();
    if (skipped <= 0) return;
    if (this.frozenAt === undefined) this.offset += skipped;
    else this.frozenAt += skipped;
    for (const timer of this.timers) timer.due += skipped;
  }

  private moveTo(at: number): void {
    if (this.frozenAt === undefined) this.offset = Math.max(this.offset, at - Date.now());
    else this.frozenAt = Math.max(this.frozenAt, at);
  }

  /** Sets the machine's timer for the timer's next moment, as the clock runs by itself. */
  private arm(timer: Timer): void {
    clearTimeout(timer.handle);
    const delay = Math.min(MAX_DELAY_MS, Math.max(0, timer.due - this.now().getTime()));
    timer.handle = setTimeout(() => {
      if (this.now().getTime() < timer.due) return this.arm(timer);
      timer.due = Math.max(timer.due, this.now().getTime()) + timer.ms;
      this.arm(timer);
      timer.tick();
    }, delay);
    timer.handle.unref();
  }
}
