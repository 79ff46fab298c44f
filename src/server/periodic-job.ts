import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../common/clock';
import type { Logger } from '../logger';

/** Told of each pass of a job: its name, how long it took, and whether it failed. */
export type JobRunObserver = (job: string, seconds: number, failed: boolean) => void;

/** One pass of a job: what it did, counted (logged when anything was done). */
export type JobPass = (requestId: string) => Promise<Record<string, number>>;

/**
 * Runs a job every interval, one pass at a time (a pass still running when the next is due is not doubled), and
 * logs what each pass did or why it failed; a failed pass is retried at the next interval. `stop()` waits for the
 * pass in flight, so that shutdown never cuts one in half. Passes write under their own request id, which their
 * audit events carry.
 */
export class PeriodicJob {
  private cancel: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private runs: JobRunObserver | undefined;

  constructor(
    readonly name: string,
    private readonly intervalMs: number,
    private readonly pass: JobPass,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {}

  start(): void {
    if (this.cancel) return;
    this.cancel = this.clock.every(this.intervalMs, () => {
      if (!this.running) this.running = this.runOnce().finally(() => (this.running = undefined));
      return this.running;
    });
  }

  /** Tells `runs` of every pass from now on: how long it took and whether it failed. */
  observe(runs: JobRunObserver): this {
    this.runs = runs;
    return this;
  }

  async runOnce(): Promise<void> {
    const started = performance.now();
    try {
      const done = await this.pass(`${this.name}-${randomUUID()}`);
      this.runs?.(this.name, (performance.now() - started) / 1000, false);
      if (Object.values(done).some((count) => count > 0)) this.logger.info({ job: this.name, ...done }, `${this.name} pass done`);
    } catch (error) {
      this.runs?.(this.name, (performance.now() - started) / 1000, true);
      this.logger.error({ err: error, job: this.name }, `${this.name} pass failed`);
    }
  }

  async stop(): Promise<void> {
    this.cancel?.();
    this.cancel = undefined;
    await this.running;
  }
}
