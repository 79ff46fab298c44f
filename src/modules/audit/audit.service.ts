import type { FilterQuery } from '@mikro-orm/knex';
import { Permission } from '../../auth/roles';
import type { Operation } from '../../common/operation';
import { findPage, type Page, type PageArgs } from '../../common/pagination';
import { newId } from '../../db/ids';
import type { Tx } from '../../db/transaction';
import type { AuditRecord } from './audit-actions';
import { AuditEvent } from './audit-event.entity';

export interface AuditFilter {
  organizationId?: string | null;
  objectType?: string | null;
  objectId?: string | null;
  actorId?: string | null;
  action?: string | null;
  from?: Date | null;
  to?: Date | null;
}

/** Responsible for the audit log: records every change inside the transaction that makes it, and reads it back. */
export class AuditService {
  /**
   * Writes the event inside the caller's transaction: it is stored if and only if the change it records is. `before`
   * and `after` are kept as JSON (dates as ISO strings).
   */
  async record(tx: Tx, event: AuditRecord): Promise<void> {
    const json = (state: object | null | undefined) => (state ? JSON.stringify(state) : null);
    await tx.run(
      `insert into audit_event (id, organization_id, actor_type, actor_id, actor_label, action, object_type, object_id, before, after, request_id, occurred_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        newId(event.at.getTime()),
        event.organizationId,
        event.actor.type,
        event.actor.id,
        event.actor.label.slice(0, 200),
        event.action,
        event.objectType,
        event.objectId,
        json(event.before),
        json(event.after),
        event.requestId,
        event.at,
      ],
    );
  }

  async list(op: Operation, filter: AuditFilter, page: PageArgs): Promise<Page<AuditEvent>> {
    op.principal.require(Permission.AUDIT_READ);
    const organizationId = op.principal.scopeOrganization(filter.organizationId);
    const where: FilterQuery<AuditEvent> = {};
    if (organizationId) where.organizationId = organizationId;
    if (filter.objectType) where.objectType = filter.objectType;
    if (filter.objectId) where.objectId = filter.objectId;
    if (filter.actorId) where.actorId = filter.actorId;
    if (filter.action) where.action = filter.action;
    if (filter.from || filter.to) {
      where.occurredAt = {};
      if (filter.from) where.occurredAt.$gte = filter.from;
      if (filter.to) where.occurredAt.$lt = filter.to;
    }
    return findPage(op.em, AuditEvent, where, page, (row) => row);
  }
}
