import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger';
import type { LeaseLedger } from '../modules/seat/lease-ledger';

/**
 * Frees the seats of leases whose heartbeats stopped: every interval it ends each lease past its expiry, so that
 * a crashed client's seat comes back by itself within its TTL plus one interval. Checkouts also expire dead leases
 * of their own license first, so counting is exact between sweeps.
 */
export class LeaseReaper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly leases: LeaseLedger,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.sweep().finally(() => (this.running = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  /** One sweep; returns how many leases it ended. */
  async sweep(): Promise<void> {
    try {
      const ended = await this.leases.reap(`reaper-${randomUUID()}`);
      if (ended) this.logger.info({ ended }, 'lease reaper ended expired leases');
    } catch (error) {
      this.logger.error({ err: error }, 'lease reaper sweep failed');
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
