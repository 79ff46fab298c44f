import type { Actor } from '../../auth/principal';
import type { Read, Tx } from '../../db/transaction';
import type { Observed, UsageWatch } from '../usage/usage-signals';
import { OVERAGE_KIND } from '../../kernel/enforcement';
import type { ViolationLog } from './violation-log';

const COMPLIANCE_ACTOR: Actor = { type: 'SYSTEM', id: null, label: 'compliance' };

/**
 * Responsible for violations that end by themselves: told each new value of a metric inside the transaction that
 * changed it (a seat released, a lease ended, storage reported lower), it resolves the license's open overage
 * violation of that metric once the value is back within the limit, saying why. The compliance scan does the same
 * for what changes without anyone telling (a new API period, leases dying unseen).
 */
export class ComplianceWatch implements UsageWatch {
  constructor(private readonly log: ViolationLog) {}

  /** The license's open overage violations of the metric, once the value is within its limit. */
  readFor(observed: Observed): Read | null {
    if (observed.limit !== null && observed.value > observed.limit) return null;
    return this.log.openOf(observed.licenseId, OVERAGE_KIND[observed.metric]);
  }

  async watch(sql: Tx, observed: Observed, now: Date, rows: readonly unknown[]): Promise<void> {
    if (rows.length === 0) return;
    const why =
      observed.limit === null
        ? `${observed.metric} has no limit any more.`
        : `${observed.metric} is back within its limit: ${observed.value} of ${observed.limit}.`;
    await this.log.resolveCleared(
      sql,
      (rows as { id: string }[]).map((row) => row.id),
      why,
      COMPLIANCE_ACTOR,
      observed.requestId ?? null,
      now,
    );
  }
}
