import type { EventChannel } from '../../common/event-channel';
import type { Tx } from '../../db/transaction';
import { LicenseUsageChange, MetricUsage, metricUsage, type UsageMetric } from './usage.types';

/** A metric's new value, told inside the transaction that changed it. */
export interface Observed {
  licenseId: string;
  organizationId: string;
  planId: string;
  metric: UsageMetric;
  value: number;
  limit: number | null;
  /** The counting period of a counter (API_CALLS). */
  period?: { start: Date; end: Date } | null;
  /** The request that changed it, which what follows the change is attributed to (null for a job's own passes). */
  requestId?: string | null;
}

/** Told of every change of a metric, inside the transaction that made it. */
export interface UsageObserver {
  observe(sql: Tx, observed: Observed, now: Date): Promise<unknown>;
}

/** A usage change that crossed Redis arrives as JSON: its dates as strings. */
export function reviveUsageChange(change: LicenseUsageChange): LicenseUsageChange {
  const date = (value: Date | string | null) => (value === null ? null : new Date(value));
  return Object.assign(new LicenseUsageChange(), change, {
    changedAt: new Date(change.changedAt),
    usage: Object.assign(new MetricUsage(), change.usage, {
      periodStart: date(change.usage.periodStart),
      periodEnd: date(change.usage.periodEnd),
    }),
  });
}

export function usageChangeOf(licenseId: string, usage: MetricUsage, changedAt: Date): LicenseUsageChange {
  return Object.assign(new LicenseUsageChange(), { licenseId, usage, changedAt });
}

/**
 * Responsible for what follows a change of a metric: the watches told in the same transaction (threshold alerts,
 * overage violations that cleared), and once it commits, the new utilization to `licenseUsageChanged` subscribers.
 */
export class UsageSignals implements UsageObserver {
  constructor(
    private readonly watches: readonly UsageObserver[],
    private readonly changes: Pick<EventChannel<LicenseUsageChange>, 'publish'>,
  ) {}

  async observe(sql: Tx, observed: Observed, now: Date): Promise<void> {
    for (const watch of this.watches) await watch.observe(sql, observed, now);
    sql.afterCommit(() =>
      this.changes.publish(
        usageChangeOf(observed.licenseId, metricUsage(observed.metric, observed.value, observed.limit, observed.period ?? undefined), now),
      ),
    );
  }
}
