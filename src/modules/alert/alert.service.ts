import type { EntityManager, FilterQuery } from '@mikro-orm/knex';
import type { SqlGateway } from '../../db/sql';
import { AuditAction, type AuditEntry } from '../audit/audit-actions';
import { Permission } from '../../auth/roles';
import type { Operation } from '../../common/operation';
import { findPage, type Page, type PageArgs } from '../../common/pagination';
import { Selection, when } from '../../common/selection';
import { AppError } from '../../errors';
import type { AuditService } from '../audit/audit.service';
import { Alert } from './alert.entity';
import { type AlertFilter, AlertNode } from './alert.types';
import type { Clock } from '../../common/clock';

export const alertNodeOf = (a: Alert): AlertNode =>
  Object.assign(new AlertNode(), {
    id: a.id,
    organizationId: a.organizationId,
    licenseId: a.licenseId,
    kind: a.kind,
    severity: a.severity,
    metric: a.metric ?? null,
    threshold: a.threshold ?? null,
    value: a.value ?? null,
    limit: a.limit ?? null,
    daysBefore: a.daysBefore ?? null,
    expiresAt: a.expiresAt ?? null,
    recommendationId: a.recommendationId ?? null,
    message: a.message,
    raisedAt: a.raisedAt,
    repeats: a.repeats,
    lastRepeatedAt: a.lastRepeatedAt ?? null,
    acknowledgedAt: a.acknowledgedAt ?? null,
    acknowledgedBy: a.acknowledgedBy ?? null,
  });

/**
 * The alerts a filter selects (within an organization, when the caller's rights are bound to one), defined once:
 * the list and the replay of `alertRaised` query the stored ones with it, and the subscription tests live ones.
 */
export function alertSelection(filter: AlertFilter, organizationId: string | null): Selection<AlertNode, FilterQuery<Alert>> {
  return new Selection<AlertNode, FilterQuery<Alert>>([
    when(organizationId, (id) => ({ query: { organizationId: id }, test: (a) => a.organizationId === id })),
    when(filter.licenseId, (id) => ({ query: { licenseId: id }, test: (a) => a.licenseId === id })),
    when(filter.kind, (kind) => ({ query: { kind }, test: (a) => a.kind === kind })),
    when(filter.severity, (severity) => ({ query: { severity }, test: (a) => a.severity === severity })),
    when(filter.acknowledged, (acknowledged) => ({
      query: { acknowledgedAt: acknowledged ? { $ne: null } : null },
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

  list(op: Operation, filter: AlertFilter, page: PageArgs): Promise<Page<AlertNode>> {
    op.principal.require(Permission.LICENSE_READ);
    const selection = alertSelection(filter, op.principal.scopeOrganization(filter.organizationId));
    return findPage(op.em, Alert, Object.assign({}, ...selection.queries), page, alertNodeOf);
  }

  /** Every organization's alerts after the one with id `after`, oldest first: what the live stream hands on. */
  async since(em: EntityManager, after: string | null, limit: number): Promise<AlertNode[]> {
    const rows = await em.find(Alert, after ? { id: { $gt: after } } : {}, { orderBy: { id: 'asc' }, limit });
    return rows.map(alertNodeOf);
  }

  /** The id of the newest alert, of any organization; null when there is none. */
  async lastId(em: EntityManager): Promise<string | null> {
    const [newest] = await em.find(Alert, {}, { orderBy: { id: 'desc' }, limit: 1, fields: ['id'] });
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
    return alertNodeOf(await op.em.fork().findOneOrFail(Alert, { id }));
  }
}
