import type { EntityManager } from '@mikro-orm/knex';
import type { Principal } from '../../auth/principal';
import { LiveQueue, MAX_PENDING_EVENTS } from '../../common/live-queue';
import type { EventChannel } from '../../common/event-channel';
import { AppError } from '../../errors';
import { usageChangeOf } from './usage-signals';
import type { UsageService } from './usage.service';
import type { LicenseUsageChange } from './usage.types';

/**
 * Responsible for `licenseUsageChanged`: a license's utilization, live. A subscriber first gets every metric as
 * it is, then each change as it commits. The license must be one its token may read; one that stops reading is
 * cut off with SUBSCRIBER_TOO_SLOW (it subscribes again for a fresh snapshot) rather than holding up the others.
 */
export class UsageStream {
  constructor(
    private readonly changes: EventChannel<LicenseUsageChange>,
    private readonly usage: UsageService,
    private readonly fork: () => EntityManager,
  ) {}

  async subscribe(principal: Principal, licenseId: string): Promise<AsyncIterable<LicenseUsageChange>> {
    // Refused here, before anything is sent: a license of another organization is not found.
    const op = { principal, requestId: 'licenseUsageChanged', em: this.fork() };
    await this.usage.licenseUsage(op, licenseId);
    const queue = new LiveQueue<LicenseUsageChange>();
    let snapshotting = true;
    const held: LicenseUsageChange[] = [];
    const cutOff = () => queue.fail(AppError.subscriberTooSlow(MAX_PENDING_EVENTS, null));
    const deliver = (change: LicenseUsageChange) => {
      if (queue.waiting >= MAX_PENDING_EVENTS) cutOff();
      else queue.push(change);
    };
    // Listening starts before the snapshot is read, so no change falls between the two.
    queue.onClose(
      this.changes.listen((change) => {
        if (change.licenseId !== licenseId) return;
        if (!snapshotting) deliver(change);
        else if (held.length < MAX_PENDING_EVENTS) held.push(change);
        else cutOff();
      }),
    );
    const snapshot = async () => {
      const now = new Date();
      for (const usage of await this.usage.licenseUsage({ ...op, em: this.fork() }, licenseId))
        queue.push(usageChangeOf(licenseId, usage, now));
      snapshotting = false;
      for (const change of held.splice(0)) deliver(change);
    };
    snapshot().catch((error: unknown) => queue.fail(error));
    return queue;
  }
}
