import { Permission } from '../../auth/roles';
import type { Clock } from '../../common/clock';
import type { Operation } from '../../common/operation';
import type { Page, PageArgs } from '../../common/pagination';
import { Selection, when } from '../../common/selection';
import { type Condition, pageOf, Where } from '../../common/sql-page';
import { type SqlGateway, toDate, toDateOrNull } from '../../db/sql';
import { AppError } from '../../errors';
import type { UsageMetric } from '../../kernel/metrics';
import { AuditAction, type AuditEntry } from '../audit/audit-actions';
import type { AuditService } from '../audit/audit.service';
import { type AlertFilter, type AlertKind, AlertNode, type AlertSeverity } from './alert.types';

/** An alert's row, as plain SQL reads it. */
interface AlertRow {
  id: string;
  organization_id: string;
  license_id: string;
  kind: AlertKind;
  severity: AlertSeverity;
  metric: UsageMetric | null;
  threshold: number | null;
  value: number | string | null;
  limit_value: number | string | null;
  days_before: number | null;
  expires_at: unknown;
  recommendation_id: string | null;
  message: string;
  raised_at: unknown;
  repeats: number | string;
  last_repeated_at: unknown;
  acknowledged_at: unknown;
  acknowledged_by: string | null;
}

const ALERT_COLUMNS = `id, organization_id, license_id, kind, severity, metric, threshold, value, limit_value, days_before, expires_at,
  recommendation_id, message, raised_at, repeats, last_repeated_at, acknowledged_at, acknowledged_by`;

const numberOrNull = (value: number | string | null) => (value === null ? null : Number(value));

/** The one mapper of an alert's row to what the API answers. */
export const alertNodeOf = (a: AlertRow): AlertNode =>
  Object.assign(new AlertNode(), {
    id: a.id,
    organizationId: a.organization_id,
    licenseId: a.license_id,
    kind: a.kind,
    severity: a.severity,
    metric: a.metric ?? null,
    threshold: numberOrNull(a.threshold),
    value: numberOrNull(a.value),
    limit: numberOrNull(a.limit_value),
    daysBefore: numberOrNull(a.days_before),
    expiresAt: toDateOrNull(a.expires_at),
    recommendationId: a.recommendation_id ?? null,
    message: a.message,
    raisedAt: toDate(a.raised_at),
    repeats: Number(a.repeats),
    lastRepeatedAt: toDateOrNull(a.last_repeated_at),
    acknowledgedAt: toDateOrNull(a.acknowledged_at),
    acknowledgedBy: a.acknowledged_by ?? null,
  });

/**
 * The alerts a filter selects (within an organization, when the caller's rights are bound to one), defined once:
 * the list and the replay of `alertRaised` query the stored ones with it, and the subscription tests live ones.
 */
export function alertSelection(filter: AlertFilter, organizationId: string | null): Selection<AlertNode, Condition> {
  return new Selection<AlertNode, Condition>([
    when(organizationId, (id) => ({ query: { sql: 'organization_id = ?', params: [id] }, test: (a) => a.organizationId === id })),
    when(filter.licenseId, (id) => ({ query: { sql: 'license_id = ?', params: [id] }, test: (a) => a.licenseId === id })),
    when(filter.kind, (kind) => ({ query: { sql: 'kind = ?', params: [kind] }, test: (a) => a.kind === kind })),
    when(filter.severity, (severity) => ({ query: { sql: 'severity = ?', params: [severity] }, test: (a) => a.severity === severity })),
    when(filter.acknowledged, (acknowledged) => ({
      query: { sql: `acknowledged_at is ${acknowledged ? 'not ' : ''}null`, params: [] },
      test: (a) => (a.acknowledgedAt !== null) === acknowledged,
    })),
  ]);
}

/** Responsible for reading alerts and acknowledging them; the threshold and expiry watches raise them. Talks to the audit log. */
export class AlertService {
  constructor(
    private readonly db: SqlGateway,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /** Alerts in the order they were raised (also the replay of `alertRaised`, once for each subscriber). */
  list(op: Pick<Operation, 'principal'>, filter: AlertFilter, page: PageArgs): Promise<Page<AlertNode>> {
    op.principal.require(Permission.LICENSE_READ);
    const where = new Where().all(alertSelection(filter, op.principal.scopeOrganization(filter.organizationId)).queries);
    return this.db.read((sql) => pageOf(sql, `select ${ALERT_COLUMNS} from alert`, where, page, alertNodeOf));
  }

  /** Every organization's alerts after the one with id `after`, oldest first: what the live stream hands on. */
  async since(after: string | null, limit: number): Promise<AlertNode[]> {
    const where = after ? 'where id > ?' : '';
    const rows = await this.db.read((sql) =>
      sql.all<AlertRow>(`select ${ALERT_COLUMNS} from alert ${where} order by id limit ?`, after ? [after, limit] : [limit]),
    );
    return rows.map(alertNodeOf);
  }

  /** The id of the newest alert, of any organization; null when there is none. */
  async lastId(): Promise<string | null> {
    const newest = await this.db.read((sql) => sql.get<{ id: string }>('select id from alert order by id desc limit 1'));
    return newest?.id ?? null;
  }

  async acknowledge(op: Operation, id: string): Promise<AlertNode> {
    op.principal.require(Permission.LICENSE_MANAGE);
    await this.db.write(async (tx) => {
      const alert = await tx.get<{ organization_id: string; acknowledged_at: unknown }>(
        'select organization_id, acknowledged_at from alert where id = ?',
        [id],
      );
      if (!alert) throw AppError.notFound('Alert', id);
      const actor = op.principal.requireActor();
      op.principal.requireObject(Permission.LICENSE_MANAGE, alert.organization_id, 'Alert', id);
      if (alert.acknowledged_at !== null) throw AppError.invalidTransition('alert', 'acknowledged', 'acknowledge');
      const now = this.clock.now();
      await tx.run('update alert set acknowledged_at = ?, acknowledged_by = ? where id = ?', [now, actor.label, id]);
      const entry: AuditEntry = {
        organizationId: alert.organization_id,
        action: AuditAction.ALERT_ACKNOWLEDGE,
        objectType: 'Alert',
        objectId: id,
        before: { acknowledgedAt: null },
        after: { acknowledgedAt: now, acknowledgedBy: actor.label },
      };
      await this.audit.record(tx, { ...entry, actor, requestId: op.requestId, at: now });
    });
    // Read as committed, by the one mapper of an alert.
    const row = await this.db.read((sql) => sql.get<AlertRow>(`select ${ALERT_COLUMNS} from alert where id = ?`, [id]));
    return alertNodeOf(row!);
  }
}
