import type { FilterQuery } from '@mikro-orm/knex';
import { Permission } from '../../auth/roles';
import type { Operation } from '../../common/operation';
import { findPage, type Page, type PageArgs } from '../../common/pagination';
import { newId } from '../../db/ids';
import { fromJson, type SqlRunner, toDate } from '../../db/sql';
import type { Tx } from '../../db/transaction';
import type { AuditAction, AuditRecord } from './audit-actions';
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
    // Nothing in the transaction reads it back: it goes with the next statement's round trip (PostgreSQL).
    tx.queue(
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

  /**
   * The events of one action on one object since `from`, newest first, at most `limit`: what diagnostics explain a
   * total with (the usage reports of a license). The caller has checked the right to the object.
   */
  async changesOf(
    sql: SqlRunner,
    change: { objectId: string; action: AuditAction; from: Date; limit: number },
  ): Promise<{ at: Date; requestId: string | null; actor: string; before: unknown; after: unknown }[]> {
    const rows = await sql.all<{ occurred_at: unknown; request_id: string | null; actor_label: string; before: unknown; after: unknown }>(
      `select occurred_at, request_id, actor_label, before, after from audit_event
        where object_id = ? and action = ? and occurred_at >= ? order by id desc limit ?`,
      [change.objectId, change.action, change.from, change.limit],
    );
    return rows.map((row) => ({
      at: toDate(row.occurred_at),
      requestId: row.request_id,
      actor: row.actor_label,
      before: row.before === null ? null : fromJson(row.before),
      after: row.after === null ? null : fromJson(row.after),
    }));
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
