import { BigIntType, Entity, Index, Opt, Property } from '@mikro-orm/core';
import { EnumColumn, Timestamp } from '../../db/columns';
import { PartialUnique } from '../../db/indexes';
import { LicenseRecord } from '../license/license-rows.entity';
import { ViolationKind, ViolationSeverity, ViolationStatus } from '../../kernel/compliance.enums';

/**
 * One breach of one license, kept from detection to resolution: a breach that repeats while the violation is active
 * (open, acknowledged or waived) counts another occurrence on it. Written by the violation log's SQL.
 */
@Entity({ tableName: 'violation' })
@Index({ properties: ['organizationId', 'id'] })
@Index({ properties: ['licenseId', 'id'] })
@Index({ properties: ['status', 'id'] })
// One active violation per license, kind and subject, also under concurrent writers.
@PartialUnique('violation_active_unique', 'violation', ['license_id', 'kind', 'subject'], "status in ('OPEN', 'ACKNOWLEDGED', 'WAIVED')")
export class Violation extends LicenseRecord {
  @EnumColumn(24)
  kind!: ViolationKind;

  /** What in the license it is about (a feature key, a site); empty when the kind says it all. */
  @Property({ type: 'string', length: 200 })
  subject: Opt<string> = '';

  @EnumColumn(12)
  severity!: ViolationSeverity;

  @EnumColumn(16)
  status!: ViolationStatus;

  @Property({ type: new BigIntType('number') })
  occurrences!: number;

  @Property({ type: new BigIntType('number'), nullable: true })
  value?: number | null;

  @Property({ type: new BigIntType('number'), nullable: true })
  peakValue?: number | null;

  @Property({ type: new BigIntType('number'), nullable: true, fieldName: 'limit_value' })
  limit?: number | null;

  /** JSON text: what was observed. */
  @Property({ type: 'text' })
  evidence!: string;

  @Property({ type: 'string', length: 500 })
  detail!: string;

  @Timestamp()
  firstSeenAt!: Date;

  @Timestamp()
  lastSeenAt!: Date;

  @Timestamp({ nullable: true })
  acknowledgedAt?: Date | null;

  @Property({ type: 'string', length: 200, nullable: true })
  acknowledgedBy?: string | null;

  @Timestamp({ nullable: true })
  resolvedAt?: Date | null;

  @Property({ type: 'string', length: 200, nullable: true })
  resolvedBy?: string | null;

  @Property({ type: 'string', length: 500, nullable: true })
  resolution?: string | null;

  @Timestamp({ nullable: true })
  waivedAt?: Date | null;

  @Property({ type: 'string', length: 200, nullable: true })
  waivedBy?: string | null;

  @Property({ type: 'string', length: 500, nullable: true })
  waiverReason?: string | null;

  @Timestamp({ nullable: true })
  waivedUntil?: Date | null;

  /** JSON text: the remediations applied, in order. */
  @Property({ type: 'text' })
  remediations!: string;

  /** An overage a license migration allowed until this date resolves by then or escalates. */
  @Timestamp({ nullable: true })
  deadlineAt?: Date | null;

  @Timestamp()
  updatedAt!: Date;
}
