import type { EntityManager } from '@mikro-orm/knex';
import { Principal } from '../../auth/principal';
import type { EventChannel } from '../../common/event-channel';
import { LiveQueue, MAX_PENDING_EVENTS } from '../../common/live-queue';
import { AppError } from '../../errors';
import { usageChangeOf } from './usage-signals';
import type { UsageService } from './usage.service';
import type { LicenseUsageChange, MetricUsage } from './usage.types';
import type { Clock } from '../../common/clock';

/** Reads a license's usage as it is now; subscribers whose changes may have been lost read it again. */
type UsageReader = (licenseId: string) => Promise<MetricUsage[]>;

/**
 * One subscriber's `licenseUsageChanged`: the license's usage as it is (a snapshot), then each change. While a
 * snapshot is read, changes are held and delivered after it, so that none falls between the two.
 */
class UsageSubscription {
  readonly queue = new LiveQueue<LicenseUsageChange>();
  private snapshotting = 0;
  private readonly held: LicenseUsageChange[] = [];

  constructor(
    readonly licenseId: string,
    private readonly clock: Clock,
  ) {}

  /** A change of the license, live. */
  change(change: LicenseUsageChange): void {
    if (this.snapshotting === 0) this.deliver(change);
    else if (this.held.length < MAX_PENDING_EVENTS) this.held.push(change);
    else this.cutOff();
  }

  /** Sends every metric as `read` finds it, then what changed meanwhile. */
  async snapshot(read: Promise<MetricUsage[]>): Promise<void> {
    this.snapshotting += 1;
    try {
      const now = this.clock.now();
      for (const usage of await read) this.deliver(usageChangeOf(this.licenseId, usage, now));
    } finally {
      this.snapshotting -= 1;
    }
    if (this.snapshotting === 0) for (const change of this.held.splice(0)) this.deliver(change);
  }

  private deliver(change: LicenseUsageChange): void {
    if (this.queue.waiting >= MAX_PENDING_EVENTS) this.cutOff();
    else this.queue.push(change);
  }

  private cutOff(): void {
    this.queue.fail(AppError.subscriberTooSlow(MAX_PENDING_EVENTS, null));
  }
}

/**
 * Responsible for `licenseUsageChanged`: a license's utilization, live. A subscriber first gets every metric as
 * it is, then each change as it commits. The license must be one its token may read; one that stops reading is
 * cut off with SUBSCRIBER_TOO_SLOW (it subscribes again for a fresh snapshot) rather than holding up the others.
 * Usage changes are not stored: when the bus between instances comes back after changes could have been lost on
 * it, every subscriber is sent its license's usage as it is again, read once per license.
 */
export class UsageStream {
  private readonly subscriptions = new Set<UsageSubscription>();

  constructor(
    private readonly changes: EventChannel<LicenseUsageChange>,
    private readonly usage: UsageService,
    private readonly fork: () => EntityManager,
    private readonly clock: Clock,
  ) {
    changes.onReconnect(() => this.resend());
  }

  async subscribe(principal: Principal, licenseId: string): Promise<AsyncIterable<LicenseUsageChange>> {
    // Refused here, before anything is sent: a license of another organization is not found.
    const op = { principal, requestId: 'licenseUsageChanged', em: this.fork() };
    await this.usage.licenseUsage(op, licenseId);
    const subscription = new UsageSubscription(licenseId, this.clock);
    // Listening starts before the snapshot is read, so no change falls between the two.
    const stop = this.changes.listen((change) => {
      if (change.licenseId === licenseId) subscription.change(change);
    });
    this.subscriptions.add(subscription);
    subscription.queue.onClose(() => {
      stop();
      this.subscriptions.delete(subscription);
    });
    subscription
      .snapshot(this.usage.licenseUsage({ ...op, em: this.fork() }, licenseId))
      .catch((error: unknown) => subscription.queue.fail(error));
    return subscription.queue;
  }

  private resend(): void {
    const reads = new Map<string, Promise<MetricUsage[]>>();
    const read: UsageReader = (licenseId) => {
      let pending = reads.get(licenseId);
      if (!pending) {
        // Each subscriber's right to the license was checked when it subscribed.
        pending = this.usage.licenseUsage({ principal: RESEND, requestId: 'licenseUsageChanged', em: this.fork() }, licenseId);
        reads.set(licenseId, pending);
      }
      return pending;
    };
    for (const subscription of this.subscriptions) {
      subscription.snapshot(read(subscription.licenseId)).catch((error: unknown) => subscription.queue.fail(error));
    }
  }
}

const RESEND = Principal.system('usage resend');
