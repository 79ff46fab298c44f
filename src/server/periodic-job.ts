import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../common/clock';
import type { Logger } from '../logger';
import type { JobRuns } from '../modules/diagnostics/job-runs';

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
  private observer: JobRunObserver | undefined;

  constructor(
    readonly name: string,
    readonly intervalMs: number,
    private readonly pass: JobPass,
    private readonly logger: Logger,
    private readonly clock: Clock,
    /** Where each pass is recorded for diagnostics (when, how it ended, on which instance). */
    private readonly runs?: Pick<JobRuns, 'ran'>,
  ) {}

  start(): void {
    if (this.cancel) return;
    this.cancel = this.clock.every(this.intervalMs, () => {
      if (!this.running) this.running = this.runOnce().finally(() => (this.running = undefined));
      return this.running;
    });
  }

  /** Tells `observer` of every pass from now on: how long it took and whether it failed. */
  observe(observer: JobRunObserver): this {
    this.observer = observer;
    return this;
  }

  async runOnce(): Promise<void> {
    const started = performance.now();
    const startedAt = this.clock.now();
    const ran = (outcome: 'OK' | 'FAILED' | 'SKIPPED', detail: string | null) =>
      this.runs?.ran({ job: this.name, intervalMs: this.intervalMs, startedAt, finishedAt: this.clock.now(), outcome, detail });
    try {
      const done = await this.pass(`${this.name}-${randomUUID()}`);
      this.observer?.(this.name, (performance.now() - started) / 1000, false);
      if (Object.values(done).some((count) => count > 0)) this.logger.info({ job: this.name, ...done }, `${this.name} pass done`);
      // A pass skipped because another instance held the job's turn is that instance's to record.
      await ran(done.skipped ? 'SKIPPED' : 'OK', JSON.stringify(done));
    } catch (error) {
      this.observer?.(this.name, (performance.now() - started) / 1000, true);
      this.logger.error({ err: error, job: this.name }, `${this.name} pass failed`);
      await ran('FAILED', error instanceof Error ? error.message.split('\n')[0]! : String(error));
    }
  }

  async stop(): Promise<void> {
    this.cancel?.();
    this.cancel = undefined;
    await this.running;
  }
}
