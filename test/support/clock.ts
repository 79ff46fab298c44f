import type { Clock } from '../../src/common/clock';

/** setTimeout's longest delay (about 24.8 days); a timer due later is armed again when this one fires. */
const MAX_DELAY_MS = 2 ** 31 - 1;

interface Timer {
  ms: number;
  tick: () => unknown;
  /** The clock's time, in epoch ms, when it fires next. */
  due: number;
  handle?: NodeJS.Timeout;
}

/**
 * The clock of a test server: it runs with the machine's time, and a test moves it ahead to see what a later moment
 * brings (a lease run out, a term ended, a window over, a job's next pass) without waiting for it. It never goes
 * back, so that what the server stores stays in the order it happened.
 *
 * Timers fire as the clock passes them, by itself or moved. A move that passes a timer several times fires it once,
 * at the last of its moments the clock passed (as after a machine's sleep), and waits for what the tick started.
 */
export class TestClock implements Clock {
  private offset = 0;
  private readonly timers = new Set<Timer>();

  now(): Date {
    return new Date(Date.now() + this.offset);
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

  /** Moves the clock `ms` ahead, firing in order the timers it passes, and resolves once their ticks are done. */
  async advance(ms: number): Promise<void> {
    if (ms < 0) throw new Error(`a test clock never goes back (asked to move ${ms} ms)`);
    const target = this.now().getTime() + ms;
    const passed = [...this.timers]
      .filter((timer) => timer.due <= target)
      .map((timer) => ({ timer, at: timer.due + Math.floor((target - timer.due) / timer.ms) * timer.ms }))
      .sort((a, b) => a.at - b.at);
    for (const { timer, at } of passed) {
      if (!this.timers.has(timer)) continue; // stopped by an earlier tick
      this.moveTo(at);
      clearTimeout(timer.handle);
      timer.due = at + timer.ms;
      await timer.tick();
      if (this.timers.has(timer)) this.arm(timer);
    }
    this.moveTo(target);
  }

  /** Moves the clock ahead to `at`, as advance does; a moment already past leaves it where it is. */
  async set(at: Date): Promise<void> {
    await this.advance(Math.max(0, at.getTime() - this.now().getTime()));
  }

  private moveTo(at: number): void {
    this.offset = Math.max(this.offset, at - Date.now());
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
