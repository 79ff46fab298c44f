import type { Actor } from '../../auth/principal';
import type { Tx } from '../../db/transaction';
import type { Observed, UsageObserver } from '../usage/usage-signals';
import { OVERAGE_KIND } from '../../kernel/enforcement';
import type { ViolationLog } from './violation-log';

const COMPLIANCE_ACTOR: Actor = { type: 'SYSTEM', id: null, label: 'compliance' };

/**
 * Responsible for violations that end by themselves: told each new value of a metric inside the transaction that
 * changed it (a seat released, a lease ended, storage reported lower), it resolves the license's open overage
 * violation of that metric once the value is back within the limit, saying why. The compliance scan does the same
 * for what changes without anyone telling (a new API period, leases dying unseen).
 */
export class ComplianceWatch implements UsageObserver {
  constructor(private readonly log: ViolationLog) {}

  async observe(sql: Tx, observed: Observed, now: Date): Promise<void> {
    if (observed.limit !== null && observed.value > observed.limit) return;
    const why =
      observed.limit === null
        ? `${observed.metric} has no limit any more.`
        : `${observed.metric} is back within its limit: ${observed.value} of ${observed.limit}.`;
    await this.log.resolveCleared(
      sql,
      observed.licenseId,
      OVERAGE_KIND[observed.metric],
      why,
      COMPLIANCE_ACTOR,
      observed.requestId ?? null,
      now,
    );
  }
}
