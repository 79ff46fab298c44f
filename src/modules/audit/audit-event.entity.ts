import { BigIntType, Entity, Index, PrimaryKey, Property } from '@mikro-orm/core';
import { Timestamp } from '../../db/columns';

/**
 * One change: who did what to which object, before and after, and when. Append-only; its organization and
 * object are plain columns so that the record outlives what it describes. Sealed into the audit chain shortly after
 * it commits (see AuditChain): from then on it has its place in the chain and its hash.
 */
@Entity({ tableName: 'audit_event' })
@Index({ name: 'audit_event_unsealed_index', expression: 'create index audit_event_unsealed_index on audit_event (id) where seq is null' })
@Index({ properties: ['organizationId', 'id'] })
@Index({ properties: ['objectId'] })
@Index({ properties: ['actorId'] })
export class AuditEvent {
  /** A UUIDv7: ordering by id orders by time. */
  @PrimaryKey({ type: 'string', length: 36 })
  id!: string;

  @Property({ type: 'string', length: 36, nullable: true })
  organizationId?: string | null;

  @Property({ type: 'string', length: 20 })
  actorType!: string;

  @Property({ type: 'string', length: 36, nullable: true })
  actorId?: string | null;

  @Property({ type: 'string', length: 200 })
  actorLabel!: string;

  @Property({ type: 'string', length: 60 })
  action!: string;

  @Property({ type: 'string', length: 40 })
  objectType!: string;

  @Property({ type: 'string', length: 36 })
  objectId!: string;

  @Property({ type: 'json', nullable: true })
  before?: Record<string, unknown> | null;

  @Property({ type: 'json', nullable: true })
  after?: Record<string, unknown> | null;

  @Property({ type: 'string', length: 64, nullable: true })
  requestId?: string | null;

  @Timestamp()
  occurredAt!: Date;

  /** Its place in the audit chain, from 1, in the order events were sealed; null until it is sealed. */
  @Property({ type: new BigIntType('number'), nullable: true, unique: true })
  seq?: number | null;

  /** SHA-256 (hex) over its place, the previous event's hash and its content; null until it is sealed. */
  @Property({ type: 'string', length: 64, nullable: true })
  hash?: string | null;
}
