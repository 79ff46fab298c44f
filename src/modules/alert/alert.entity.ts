import { BigIntType, Entity, Index, Property } from '@mikro-orm/core';
import { EnumColumn, Timestamp } from '../../db/columns';
import { LicenseRecord } from '../license/license-rows.entity';
import { UsageMetric } from '../usage/usage.types';
import { AlertKind, AlertSeverity } from './alert.types';

/** An alert as stored: written by the alert log's SQL, read and acknowledged through the ORM. */
@Entity({ tableName: 'alert' })
@Index({ properties: ['organizationId', 'id'] })
@Index({ properties: ['licenseId', 'id'] })
export class Alert extends LicenseRecord {
  @EnumColumn(20)
  kind!: AlertKind;

  @EnumColumn(12)
  severity!: AlertSeverity;

  @EnumColumn(24, { nullable: true })
  metric?: UsageMetric | null;

  @Property({ type: 'integer', nullable: true })
  threshold?: number | null;

  @Property({ type: new BigIntType('number'), nullable: true })
  value?: number | null;

  @Property({ type: new BigIntType('number'), nullable: true, fieldName: 'limit_value' })
  limit?: number | null;

  @Property({ type: 'integer', nullable: true })
  daysBefore?: number | null;

  @Timestamp({ nullable: true })
  expiresAt?: Date | null;

  @Property({ type: 'string', length: 36, nullable: true })
  recommendationId?: string | null;

  @Property({ type: 'string', length: 500 })
  message!: string;

  @Timestamp()
  raisedAt!: Date;

  /** How many times its threshold was crossed again while it was open, within the rule's repeat interval. */
  @Property({ type: 'integer', default: 0 })
  repeats!: number;

  @Timestamp({ nullable: true })
  lastRepeatedAt?: Date | null;

  @Timestamp({ nullable: true })
  acknowledgedAt?: Date | null;

  @Property({ type: 'string', length: 200, nullable: true })
  acknowledgedBy?: string | null;
}
