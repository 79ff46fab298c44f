import type { EntityManager, FilterQuery } from '@mikro-orm/knex';
import type { Actor } from '../../auth/principal';
import { Permission } from '../../auth/roles';
import type { Clock } from '../../common/clock';
import type { Operation } from '../../common/operation';
import { findPage, type Page, type PageArgs } from '../../common/pagination';
import { newId } from '../../db/ids';
import type { SqlRunner } from '../../db/sql';
import type { AuditAction } from './audit-actions';
import { AuditEvent } from './audit-event.entity';

/** One change to record: what was done to which object, with its state before and after. */
export interface AuditEntry {
  organizationId: string | null;
  action: AuditAction;
  objectType: string;
  objectId: string;
  before?: object | null;
  after?: object | null;
}

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
  constructor(private readonly clock: Clock) {}

  /** The event's columns, with `before` and `after` as JSON text (dates as ISO strings, like the ORM stores them). */
  private row(actor: Actor, requestId: string | null, entry: AuditEntry, at: Date) {
    return {
      id: newId(at.getTime()),
      organizationId: entry.organizationId,
      actorType: actor.type,
      actorId: actor.id,
      actorLabel: actor.label.slice(0, 200),
      action: entry.action,
      objectType: entry.objectType,
      objectId: entry.objectId,
      before: entry.before ? JSON.stringify(entry.before) : null,
      after: entry.after ? JSON.stringify(entry.after) : null,
      requestId,
      occurredAt: at,
    };
  }

  /** Adds the event to the unit of work of `em`: it is written by the same flush, in the same transaction. */
  record(em: EntityManager, actor: Actor, requestId: string | null, entry: AuditEntry): void {
    const row = this.row(actor, requestId, entry, this.clock.now());
    const json = (text: string | null) => (text === null ? null : (JSON.parse(text) as Record<string, unknown>));
    em.persist(em.create(AuditEvent, { ...row, before: json(row.before), after: json(row.after) }));
  }

  /** Writes the event with plain SQL, inside the caller's transaction. */
  async recordSql(sql: SqlRunner, actor: Actor, requestId: string | null, entry: AuditEntry, at: Date): Promise<void> {
    const row = this.row(actor, requestId, entry, at);
    await sql.run(
      `insert into audit_event (id, organization_id, actor_type, actor_id, actor_label, action, object_type, object_id, before, after, request_id, occurred_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        row.id,
        row.organizationId,
        row.actorType,
        row.actorId,
        row.actorLabel,
        row.action,
        row.objectType,
        row.objectId,
        row.before,
        row.after,
        row.requestId,
        at,
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
