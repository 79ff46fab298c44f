import type { SqlRunner } from '../../db/sql';
import type { Tx } from '../../db/transaction';
import type { Observed } from '../usage/usage-signals';
import type { AlertLog } from './alert-log';
import { effectiveRule, type RuleRow } from './alert-rules';
import { AlertKind, type AlertNode, AlertSeverity } from './alert.types';

export function severityOf(threshold: number): AlertSeverity {
  if (threshold >= 100) return AlertSeverity.CRITICAL;
  return threshold >= 90 ? AlertSeverity.WARNING : AlertSeverity.INFO;
}

/**
 * Responsible for threshold alerts: told each new value of a metric inside the transaction that changed it, it
 * raises an alert for each threshold of the license's rule crossed on the way up, once, and re-arms a threshold
 * only after the metric falls back below it by the rule's margin, so that a metric oscillating around 80 % raises
 * one alert, not one a sample. Alerts go to the alert log, in the caller's transaction.
 */
export class ThresholdWatch {
  constructor(private readonly log: AlertLog) {}

  /**
   * What a new value of a metric would do, without doing it: the thresholds it would raise an alert for, and those
   * it would re-arm. A migration previews its alerts with this.
   */
  async due(sql: SqlRunner, observed: Observed): Promise<{ raise: number[]; rearm: number[] }> {
    if (!observed.limit) return { raise: [], rearm: [] };
    const percent = (observed.value * 100) / observed.limit;
    // The rule and the armed state of its thresholds in one statement: this runs on every seat and usage change.
    const rows = await sql.all<{ threshold: number | null; armed: number | boolean | null } & RuleRow>(
      `select threshold, armed, null as owner_id, null as subject, null as levels, null as rearm_margin
         from alert_threshold where license_id = ? and metric = ?
       union all
       select null, null, owner_id, subject, levels, rearm_margin from alert_rule where owner_id in (?, ?) and subject = ?`,
      [observed.licenseId, observed.metric, observed.licenseId, observed.planId, observed.metric],
    );
    const rule = effectiveRule(
      rows.filter((r) => r.owner_id !== null),
      observed,
      observed.metric,
    );
    const armed = new Map(rows.filter((r) => r.threshold !== null).map((s) => [Number(s.threshold), Boolean(s.armed)]));
    const due = { raise: [] as number[], rearm: [] as number[] };
    for (const threshold of rule.levels) {
      const isArmed = armed.get(threshold) ?? true;
      if (isArmed && percent >= threshold) due.raise.push(threshold);
      else if (!isArmed && percent < threshold - rule.rearmMargin) due.rearm.push(threshold);
    }
    return due;
  }

  async observe(sql: Tx, observed: Observed, now: Date): Promise<AlertNode[]> {
    const due = await this.due(sql, observed);
    const raised: AlertNode[] = [];
    for (const threshold of due.raise) {
      raised.push(await this.raise(sql, observed, threshold, now));
      await this.arm(sql, observed, threshold, false);
    }
    for (const threshold of due.rearm) await this.arm(sql, observed, threshold, true);
    return raised;
  }

  private async arm(sql: SqlRunner, observed: Observed, threshold: number, armed: boolean): Promise<void> {
    await sql.run(
      `insert into alert_threshold (license_id, metric, threshold, armed) values (?, ?, ?, ?)
       on conflict (license_id, metric, threshold) do update set armed = excluded.armed`,
      [observed.licenseId, observed.metric, threshold, armed],
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
