import type { EventChannel } from '../../common/event-channel';
import { newId } from '../../db/ids';
import type { SqlRunner } from '../../db/sql';
import { AlertNode } from './alert.types';

/** What raising an alert says; the log adds its id, time and acknowledgement state. */
export type AlertFacts = Pick<AlertNode, 'organizationId' | 'licenseId' | 'kind' | 'severity' | 'message'> &
  Partial<Pick<AlertNode, 'metric' | 'threshold' | 'value' | 'limit' | 'daysBefore' | 'expiresAt'>>;

/** The advisory lock under which PostgreSQL transactions take the next alert id, in the order they commit. */
const ALERT_ORDER_LOCK = 4_711_001;

/** The millisecond a UUIDv7 was made in. */
const timeOf = (id: string) => Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);

/**
 * Responsible for raising alerts: each is written in the caller's transaction with a time-ordered id (the cursor
 * subscribers resume from), and published once that transaction commits: stored before anyone is told, and never
 * told of one that was rolled back.
 *
 * A subscriber that saw an alert must be able to take it as a cursor: every alert committed after it has a
 * greater id. SQLite commits one writer at a time, so that holds by itself. On PostgreSQL, where transactions
 * commit in any order, a transaction raising an alert takes a lock held until it ends and an id greater than the
 * greatest stored (so clocks of other instances do not matter): ids follow commit order. Alerts are rare next to
 * the changes that may raise them, so the lock costs little.
 */
export class AlertLog {
  constructor(
    private readonly raised: Pick<EventChannel<AlertNode>, 'publish'>,
    private readonly commitOrdered: boolean,
  ) {}

  private async nextId(sql: SqlRunner, now: Date): Promise<string> {
    if (!this.commitOrdered) return newId(now.getTime());
    await sql.get('select pg_advisory_xact_lock(?)', [ALERT_ORDER_LOCK]);
    const last = await sql.get<{ id: string }>('select id from alert order by id desc limit 1');
    const id = newId(now.getTime());
    return last && id <= last.id ? newId(timeOf(last.id) + 1) : id;
  }

  async raise(sql: SqlRunner, facts: AlertFacts, now: Date): Promise<AlertNode> {
    const id = await this.nextId(sql, now);
    const alert = Object.assign(new AlertNode(), {
      metric: null,
      threshold: null,
      value: null,
      limit: null,
      daysBefore: null,
      expiresAt: null,
      ...facts,
      id,
      raisedAt: now,
      acknowledgedAt: null,
      acknowledgedBy: null,
    });
    await sql.run(
      `insert into alert (id, organization_id, license_id, kind, severity, metric, threshold, value, limit_value, days_before, expires_at, message, raised_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
        alert.message,
        now,
      ],
    );
    sql.afterCommit(() => this.raised.publish(alert));
    return alert;
  }
}
