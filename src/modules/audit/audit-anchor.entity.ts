import { BigIntType, Entity, PrimaryKey, Property } from '@mikro-orm/core';
import { Timestamp } from '../../db/columns';

/**
 * The audit chain's head at one moment, signed with the server's signing key when it has one: a chain cut short
 * after it, or rewritten before it, no longer fits it. Written by SQL (see AuditChain).
 */
@Entity({ tableName: 'audit_anchor' })
export class AuditAnchorRow {
  @PrimaryKey({ type: new BigIntType('number'), autoincrement: false })
  seq!: number;

  @Property({ type: 'string', length: 64 })
  hash!: string;

  /** A compact JWS (EdDSA) over `{ seq, hash, anchoredAt }`; null when the server had no signing key. */
  @Property({ type: 'text', nullable: true })
  signature?: string | null;

  @Timestamp()
  anchoredAt!: Date;
}
