import { BigIntType, Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { AS_MIGRATED } from '../../db/mapping';
import { UsageMetric } from '../usage/usage.types';
import { AlertKind, AlertSeverity } from './alert.types';

/** An alert as stored: written by the alert log's SQL, read and acknowledged through the ORM. */
@Entity({ tableName: 'alert' })
@Index({ properties: ['organizationId', 'id'] })
@Index({ properties: ['licenseId', 'id'] })
export class Alert {
  /** A UUIDv7: ordering by id orders by the time it was raised. */
  @PrimaryKey({ type: 'string', length: 36 })
  id!: string;

  @ManyToOne('Organization', { ...AS_MIGRATED, mapToPk: true, fieldName: 'organization_id' })
  organizationId!: string;

  @ManyToOne('License', { ...AS_MIGRATED, mapToPk: true, fieldName: 'license_id' })
  licenseId!: string;

  @Property({ type: 'string', length: 20 })
  kind!: AlertKind;

  @Property({ type: 'string', length: 12 })
  severity!: AlertSeverity;

  @Property({ type: 'string', length: 24, nullable: true })
  metric?: UsageMetric | null;

  @Property({ type: 'integer', nullable: true })
  threshold?: number | null;

  @Property({ type: new BigIntType('number'), nullable: true })
  value?: number | null;

  @Property({ type: new BigIntType('number'), nullable: true, fieldName: 'limit_value' })
  limit?: number | null;

  @Property({ type: 'integer', nullable: true })
  daysBefore?: number | null;

  @Property({ type: 'datetime', length: 3, nullable: true })
  expiresAt?: Date | null;

  @Property({ type: 'string', length: 500 })
  message!: string;

  @Property({ type: 'datetime', length: 3 })
  raisedAt!: Date;

  @Property({ type: 'datetime', length: 3, nullable: true })
  acknowledgedAt?: Date | null;

  @Property({ type: 'string', length: 200, nullable: true })
  acknowledgedBy?: string | null;
}
