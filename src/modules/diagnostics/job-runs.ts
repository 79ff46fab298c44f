import type { Clock } from '../../common/clock';
import type { DiagnosticsStore, JobOutcome } from './diagnostics-store';

/** A job's pass as the job tells it: `SKIPPED` when another instance held its turn. */
export interface JobPassReport {
  job: string;
  intervalMs: number;
  startedAt: Date;
  finishedAt: Date;
  outcome: JobOutcome | 'SKIPPED';
  detail: string | null;
}

/** A job's run written at most this often while its outcome stays the same (some jobs pass every second). */
export const RECORD_RUNS_EVERY_MS = 60_000;

/**
 * Responsible for recording the periodic jobs' runs of this instance (see DiagnosticsStore): each change of outcome at
 * once, and otherwise at most once a minute per job, so that a job passing every second does not write every second.
 * A pass skipped because another instance held the job's turn is not recorded: the record stays that of the instance
 * that ran it. Recording never fails a job: what cannot be written is given to `onFailure`.
 */
export class JobRuns {
  private readonly written = new Map<string, { at: number; outcome: JobOutcome }>();

  constructor(
    private readonly store: DiagnosticsStore,
    private readonly instanceId: string,
    private readonly clock: Clock,
    private readonly onFailure: (error: unknown) => void = () => undefined,
  ) {}

  async ran(pass: JobPassReport): Promise<void> {
    if (pass.outcome === 'SKIPPED') return;
    const outcome = pass.outcome;
    const last = this.written.get(pass.job);
    const now = this.clock.now().getTime();
    if (last && last.outcome === outcome && now - last.at < RECORD_RUNS_EVERY_MS) return;
    try {
      await this.store.recordRun({ ...pass, outcome, instanceId: this.instanceId });
      this.written.set(pass.job, { at: now, outcome });
    } catch (error) {
      this.onFailure(error);
    }
  }
}
