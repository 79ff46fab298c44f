import type { EntityManager } from '@mikro-orm/knex';
import { Repeater } from '@graphql-yoga/subscription';
import type { Principal } from '../../auth/principal';
import type { EventChannel } from '../../common/event-channel';
import { usageChangeOf } from './usage-signals';
import type { UsageService } from './usage.service';
import type { LicenseUsageChange } from './usage.types';

/**
 * Responsible for `licenseUsageChanged`: a license's utilization, live. A subscriber first gets every metric as
 * it is, then each change as it commits. The license must be one its token may read; one that stops reading is
 * ended (it can subscribe again) rather than holding up the others.
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
    return new Repeater<LicenseUsageChange>(async (push, stop) => {
      let snapshotting = true;
      const held: LicenseUsageChange[] = [];
      const deliver = (change: LicenseUsageChange) => {
        try {
          push(change).catch((error: unknown) => stop(error));
        } catch (error) {
          stop(error);
        }
      };
      // Listening starts before the snapshot is read, so no change falls between the two.
      const unlisten = this.changes.listen((change) => {
        if (change.licenseId !== licenseId) return;
        if (snapshotting) held.push(change);
        else deliver(change);
      });
      try {
        const now = new Date();
        for (const usage of await this.usage.licenseUsage({ ...op, em: this.fork() }, licenseId))
          await push(usageChangeOf(licenseId, usage, now));
        snapshotting = false;
        for (const change of held) deliver(change);
        await stop;
      } finally {
        unlisten();
      }
    });
  }
}
