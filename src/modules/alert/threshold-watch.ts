import { type SqlRunner, toDateOrNull } from '../../db/sql';
import type { Read, Tx } from '../../db/transaction';
import type { Observed, UsageWatch } from '../usage/usage-signals';
import type { AlertLog } from './alert-log';
import { effectiveRule, RULE_COLUMNS, type RuleRow } from './alert-rules';
import { AlertKind, type AlertNode, AlertSeverity } from './alert.types';

export function severityOf(threshold: number): AlertSeverity {
  if (threshold >= 100) return AlertSeverity.CRITICAL;
  return threshold >= 90 ? AlertSeverity.WARNING : AlertSeverity.INFO;
}

/** What a new value of a metric does to its thresholds. */
export interface ThresholdsDue {
  /** Thresholds reached while armed that raise a new alert. */
  raise: number[];
  /** Thresholds reached while armed whose last alert is still open within the rule's repeat interval: it counts them. */
  repeat: { threshold: number; alertId: string }[];
  /** Thresholds the value fell far enough below to fire again. */
  rearm: number[];
}

/** A row of the thresholds' select (`readFor`): a threshold's state, or a rule. */
type ThresholdRow = {
  threshold: number | null;
  armed: number | boolean | null;
  alert_id: string | null;
  raised_at: unknown;
  acknowledged_at: unknown;
} & RuleRow;

/** A threshold's state, with the alert it last raised. */
type ThresholdState = { armed: boolean; alertId: string | null; raisedAt: Date | null; acknowledged: boolean };

/**
 * Whether a value fell far enough below a threshold for it to fire again: more than the rule's margin in points, and
 * at least one whole unit of the metric below the threshold's value (so that on a small limit, where one unit is more
 * than the margin, the threshold does not re-arm on every swing of one unit around it without leaving it).
 */
export function rearms(value: number, limit: number, threshold: number, margin: number): boolean {
  return (value * 100) / limit < threshold - margin && value <= (threshold * limit) / 100 - 1;
}

/**
 * Responsible for threshold alerts: told each new value of a metric inside the transaction that changed it, it
 * raises an alert for each threshold of the license's rule crossed on the way up, once, and re-arms a threshold
 * only after the metric falls back below it by the rule's margin and a unit, so that a metric oscillating around
 * 80 % raises one alert, not one a sample. A threshold crossed again while its last alert is open (unacknowledged,
 * raised within the rule's repeat interval) counts on that alert instead of raising another: a 10-seat license
 * swinging between 9 and 10 seats raises one alert, with its repeats. Alerts go to the alert log, in the caller's
 * transaction.
 */
export class ThresholdWatch implements UsageWatch {
  /** Transactions that queued a threshold's state: their reads of the thresholds must see it, so they run after it. */
  private readonly queuedIn = new WeakSet<SqlRunner>();

  constructor(private readonly log: AlertLog) {}

  /**
   * What a new value of a metric would do at `now`, without doing it: the thresholds it would raise an alert for,
   * those it would count on their open alert, and those it would re-arm. A migration previews its alerts with this.
   */
  async due(sql: SqlRunner, observed: Observed, now: Date): Promise<ThresholdsDue> {
    const read = this.readFor(observed, sql);
    return this.dueOf(read ? await sql.all<ThresholdRow>(read.sql, read.params, read) : [], observed, now);
  }

  /**
   * The rule, the armed state of its thresholds and their last alerts, in one select: this runs on every seat and
   * usage change. Null without a limit (no threshold applies).
   */
  readFor(observed: Observed, sql: SqlRunner): Read | null {
    if (!observed.limit) return null;
    return {
      sql: `select t.threshold, t.armed, t.alert_id, a.raised_at, a.acknowledged_at,
              null as owner_id, null as subject, null as levels, null as rearm_margin, null as repeat_minutes
         from alert_threshold t left join alert a on a.id = t.alert_id where t.license_id = ? and t.metric = ?
       union all
       select null, null, null, null, null, ${RULE_COLUMNS} from alert_rule where owner_id in (?, ?) and subject = ?`,
      params: [observed.licenseId, observed.metric, observed.licenseId, observed.planId, observed.metric],
      // Thresholds and rules, which no queued write (a lease, its audit event, a sample) changes, travel together with
      // them; but for a state of the thresholds this transaction queued (a second change in one transaction).
      besideQueued: !this.queuedIn.has(sql),
    };
  }

  /** What the value does to the thresholds, given the rows of `readFor`. */
  dueOf(rows: readonly ThresholdRow[], observed: Observed, now: Date): ThresholdsDue {
    const due: ThresholdsDue = { raise: [], repeat: [], rearm: [] };
    if (!observed.limit) return due;
    const percent = (observed.value * 100) / observed.limit;
    const rule = effectiveRule(
      rows.filter((r) => r.owner_id !== null),
      observed,
      observed.metric,
    );
    const states = new Map<number, ThresholdState>(
      rows
        .filter((r) => r.threshold !== null)
        .map((r) => [
          Number(r.threshold),
          { armed: Boolean(r.armed), alertId: r.alert_id, raisedAt: toDateOrNull(r.raised_at), acknowledged: r.acknowledged_at != null },
        ]),
    );
    const openSince = now.getTime() - rule.repeatMinutes * 60_000;
    for (const threshold of rule.levels) {
      const state = states.get(threshold);
      const armed = state?.armed ?? true;
      if (armed && percent >= threshold) {
        const open = state?.alertId && !state.acknowledged && state.raisedAt && state.raisedAt.getTime() > openSince;
        if (open) due.repeat.push({ threshold, alertId: state.alertId as string });
        else due.raise.push(threshold);
      } else if (!armed && rearms(observed.value, observed.limit, threshold, rule.rearmMargin)) {
        due.rearm.push(threshold);
      }
    }
    return due;
  }

  /** Raises, counts and re-arms what a new value does to the thresholds, given the rows of `readFor`. */
  async watch(sql: Tx, observed: Observed, now: Date, rows: readonly unknown[]): Promise<AlertNode[]> {
    const due = this.dueOf(rows as ThresholdRow[], observed, now);
    const raised: AlertNode[] = [];
    for (const threshold of due.raise) {
      const alert = await this.raise(sql, observed, threshold, now);
      raised.push(alert);
      this.arm(sql, observed, threshold, false, alert.id);
    }
    for (const { threshold, alertId } of due.repeat) {
      this.log.repeat(sql, alertId, now);
      this.arm(sql, observed, threshold, false, alertId);
    }
    for (const threshold of due.rearm) this.arm(sql, observed, threshold, true, null);
    return raised;
  }

  /**
   * Sets a threshold's state; re-arming keeps the alert it last raised, which a repeat may count on. Queued: the
   * thresholds are read once per change, before any of them is set (see `due`).
   */
  private arm(sql: Tx, observed: Observed, threshold: number, armed: boolean, alertId: string | null): void {
    this.queuedIn.add(sql);
    sql.queue(
      `insert into alert_threshold (license_id, metric, threshold, armed, alert_id) values (?, ?, ?, ?, ?)
       on conflict (license_id, metric, threshold) do update set armed = excluded.armed, alert_id = coalesce(excluded.alert_id, alert_threshold.alert_id)`,
      [observed.licenseId, observed.metric, threshold, armed, alertId],
    );
  }

  private raise(sql: Tx, observed: Observed, threshold: number, now: Date): Promise<AlertNode> {
    return this.log.raise(
      sql,
      {
        organizationId: observed.organizationId,
        licenseId: observed.licenseId,
        kind: AlertKind.THRESHOLD,
        severity: severityOf(threshold),
        metric: observed.metric,
        threshold,
        value: observed.value,
        limit: observed.limit,
        message: `${observed.metric} reached ${threshold} % of its limit (${observed.value} of ${observed.limit}).`,
      },
      now,
    );
  }
}
