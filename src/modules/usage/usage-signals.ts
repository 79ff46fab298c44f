import type { EventChannel } from '../../common/event-channel';
import type { SqlRunner } from '../../db/sql';
import type { ThresholdWatch } from '../alert/threshold-watch';
import { LicenseUsageChange, type MetricUsage, metricUsage, type UsageMetric } from './usage.types';

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
}

/** Told of every change of a metric, inside the transaction that made it. */
export interface UsageObserver {
  observe(sql: SqlRunner, observed: Observed, now: Date): Promise<void>;
}

export function usageChangeOf(licenseId: string, usage: MetricUsage, changedAt: Date): LicenseUsageChange {
  return Object.assign(new LicenseUsageChange(), { licenseId, usage, changedAt });
}

/**
 * Responsible for what follows a change of a metric: threshold alerts, raised in the same transaction, and once
 * it commits, the new utilization to `licenseUsageChanged` subscribers.
 */
export class UsageSignals implements UsageObserver {
  constructor(
    private readonly thresholds: ThresholdWatch,
    private readonly changes: Pick<EventChannel<LicenseUsageChange>, 'publish'>,
  ) {}

  async observe(sql: SqlRunner, observed: Observed, now: Date): Promise<void> {
    await this.thresholds.observe(sql, observed, now);
    sql.afterCommit(() =>
      this.changes.publish(
        usageChangeOf(observed.licenseId, metricUsage(observed.metric, observed.value, observed.limit, observed.period ?? undefined), now),
      ),
    );
  }
}
