import { newId } from '../../db/ids';
import type { SqlRunner } from '../../db/sql';
import type { UsageMetric } from '../usage/usage.types';
import type { AlertBus } from './alert-stream';
import { AlertKind, AlertNode, AlertSeverity } from './alert.types';

/** Thresholds in percent of a limit, when a license sets none of its own. */
export const DEFAULT_THRESHOLDS: readonly number[] = [80, 90, 100];
/** How far below a threshold a metric must fall before that threshold fires again. */
export const REARM_MARGIN = 5;

export function severityOf(threshold: number): AlertSeverity {
  if (threshold >= 100) return AlertSeverity.CRITICAL;
  return threshold >= 90 ? AlertSeverity.WARNING : AlertSeverity.INFO;
}

export interface Observed {
  licenseId: string;
  organizationId: string;
  metric: UsageMetric;
  value: number;
  limit: number | null;
}

/**
 * Responsible for threshold alerts: told each new value of a metric inside the transaction that changed it, it
 * raises an alert for each threshold crossed on the way up, once, and re-arms a threshold only after the metric
 * falls back below it by the margin, so that a metric oscillating around 80 % raises one alert, not one a sample.
 * Alerts are written in the caller's transaction, and published once it commits: stored before anyone is told.
 */
export class ThresholdWatch {
  constructor(private readonly bus: AlertBus) {}

  async observe(sql: SqlRunner, observed: Observed, now: Date): Promise<AlertNode[]> {
    if (!observed.limit) return [];
    const percent = (observed.value * 100) / observed.limit;
    const states = await sql.all<{ threshold: number; armed: number | boolean }>(
      'select threshold, armed from alert_threshold where license_id = ? and metric = ?',
      [observed.licenseId, observed.metric],
    );
    const armed = new Map(states.map((s) => [Number(s.threshold), Boolean(s.armed)]));
    const raised: AlertNode[] = [];
    for (const threshold of DEFAULT_THRESHOLDS) {
      const isArmed = armed.get(threshold) ?? true;
      if (isArmed && percent >= threshold) {
        raised.push(await this.raise(sql, observed, threshold, now));
        await this.arm(sql, observed, threshold, false);
      } else if (!isArmed && percent < threshold - REARM_MARGIN) {
        await this.arm(sql, observed, threshold, true);
      }
    }
    return raised;
  }

  private async arm(sql: SqlRunner, observed: Observed, threshold: number, armed: boolean): Promise<void> {
    await sql.run(
      `insert into alert_threshold (license_id, metric, threshold, armed) values (?, ?, ?, ?)
       on conflict (license_id, metric, threshold) do update set armed = excluded.armed`,
      [observed.licenseId, observed.metric, threshold, armed],
    );
  }

  private async raise(sql: SqlRunner, observed: Observed, threshold: number, now: Date): Promise<AlertNode> {
    const alert = Object.assign(new AlertNode(), {
      id: newId(now.getTime()),
      organizationId: observed.organizationId,
      licenseId: observed.licenseId,
      kind: AlertKind.THRESHOLD,
      severity: severityOf(threshold),
      metric: observed.metric,
      threshold,
      value: observed.value,
      limit: observed.limit,
      message: `${observed.metric} reached ${threshold} % of its limit (${observed.value} of ${observed.limit}).`,
      raisedAt: now,
      acknowledgedAt: null,
      acknowledgedBy: null,
    });
    await sql.run(
      `insert into alert (id, organization_id, license_id, kind, severity, metric, threshold, value, limit_value, message, raised_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        alert.id,
        alert.organizationId,
        alert.licenseId,
        alert.kind,
        alert.severity,
        alert.metric,
        threshold,
        alert.value,
        alert.limit,
        alert.message,
        now,
      ],
    );
    // Subscribers are told once the alert is stored for good, never of one that was rolled back.
    sql.afterCommit(() => this.bus.publish(alert));
    return alert;
  }
}
