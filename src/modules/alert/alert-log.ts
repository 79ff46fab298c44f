import type { EventChannel } from '../../common/event-channel';
import type { Tx } from '../../db/transaction';
import type { LogNotice } from '../../common/log-tail';
import type { CommitOrderedIds } from '../../db/commit-order';
import { AlertNode } from './alert.types';

/** What raising an alert says; the log adds its id, time and acknowledgement state. */
export type AlertFacts = Pick<AlertNode, 'organizationId' | 'licenseId' | 'kind' | 'severity' | 'message'> &
  Partial<Pick<AlertNode, 'metric' | 'threshold' | 'value' | 'limit' | 'daysBefore' | 'expiresAt' | 'recommendationId'>>;

/**
 * Responsible for raising alerts: each is written in the caller's transaction with a commit-ordered id (the cursor
 * subscribers resume from, see CommitOrderedIds), and published once that transaction commits: stored before
 * anyone is told, and never told of one that was rolled back.
 */
export class AlertLog {
  constructor(
    private readonly raised: Pick<EventChannel<LogNotice<AlertNode>>, 'publish'>,
    private readonly ids: CommitOrderedIds,
  ) {}

  /**
   * Takes the alert order lock now (raising takes it too): a check for an alert already raised, made under it, holds
   * until the transaction ends, so that two instances do not both find none and both raise one.
   */
  lock(sql: Tx): Promise<void> {
    return this.ids.lock(sql);
  }

  async raise(sql: Tx, facts: AlertFacts, now: Date): Promise<AlertNode> {
    const { id, previousId } = await this.ids.next(sql, 'alert', now);
    const alert = Object.assign(new AlertNode(), {
      metric: null,
      threshold: null,
      value: null,
      limit: null,
      daysBefore: null,
      expiresAt: null,
      recommendationId: null,
      ...facts,
      id,
      raisedAt: now,
      repeats: 0,
      lastRepeatedAt: null,
      acknowledgedAt: null,
      acknowledgedBy: null,
    });
    await sql.run(
      `insert into alert (id, organization_id, license_id, kind, severity, metric, threshold, value, limit_value, days_before, expires_at, recommendation_id, message, raised_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        alert.id,
        alert.organizationId,
        alert.licenseId,
        alert.kind,
        alert.severity,
        alert.metric,
        alert.threshold,
        alert.value,
        alert.limit,
        alert.daysBefore,
        alert.expiresAt,
        alert.recommendationId,
        alert.message,
        now,
      ],
    );
    sql.afterCommit(() => this.raised.publish({ entry: alert, previousId }));
    return alert;
  }

  /**
   * Counts one more repeat on an alert: its threshold crossed again while it was open. Nobody is told, and nothing
   * in the transaction reads it back: it is queued (on PostgreSQL it travels with the transaction's next statement).
   */
  repeat(sql: Tx, alertId: string, now: Date): void {
    sql.queue('update alert set repeats = repeats + 1, last_repeated_at = ? where id = ?', [now, alertId]);
  }
}
