import type { EventChannel } from '../../common/event-channel';
import type { Read, Tx } from '../../db/transaction';
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

/**
 * What follows a change of a metric in one module (thresholds, violations, the peaks of a series): what it must read
 * to decide, if anything, and what it does once it has the rows. The signals read what all their watches need in one
 * statement, since each change runs inside a license's lock.
 */
export interface UsageWatch {
  /** The select this watch decides on, for a change of `observed` in `sql`; null when it needs none. */
  readFor?(observed: Observed, sql: Tx): Read | null;
  /** Acts on the change, given the rows of its read (none when it had none). */
  watch(sql: Tx, observed: Observed, now: Date, rows: readonly unknown[]): Promise<unknown>;
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
    private readonly watches: readonly UsageWatch[],
    private readonly changes: Pick<EventChannel<LicenseUsageChange>, 'publish'>,
  ) {}

  async observe(sql: Tx, observed: Observed, now: Date): Promise<void> {
    const reads = this.watches.map((watch) => watch.readFor?.(observed, sql) ?? null);
    // The watches that read nothing act first: what they queue travels with the others' reads.
    for (const [i, watch] of this.watches.entries()) if (reads[i] === null) await watch.watch(sql, observed, now, []);
    const wanted = reads.filter((read): read is Read => read !== null);
    const rows = wanted.length > 0 ? await sql.readTogether(wanted) : [];
    let next = 0;
    for (const [i, watch] of this.watches.entries()) if (reads[i] !== null) await watch.watch(sql, observed, now, rows[next++] ?? []);
    sql.afterCommit(() =>
      this.changes.publish(
        usageChangeOf(observed.licenseId, metricUsage(observed.metric, observed.value, observed.limit, observed.period ?? undefined), now),
      ),
    );
  }
}
