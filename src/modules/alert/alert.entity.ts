import { BigIntType, Entity, Enum, PrimaryKey, Property } from '@mikro-orm/core';
import { UsageMetric } from '../usage/usage.types';
import { AlertKind, AlertSeverity } from './alert.types';

/** An alert as stored: written by the alert log's SQL, read and acknowledged through the ORM. */
@Entity({ tableName: 'alert' })
export class Alert {
  /** A UUIDv7: ordering by id orders by the time it was raised. */
  @PrimaryKey({ type: 'string', length: 36 })
  id!: string;

  @Property({ type: 'string', length: 36 })
  organizationId!: string;

  @Property({ type: 'string', length: 36 })
  licenseId!: string;

  @Enum({ items: () => AlertKind, type: 'string' })
  kind!: AlertKind;

  @Enum({ items: () => AlertSeverity, type: 'string' })
  severity!: AlertSeverity;

  @Enum({ items: () => UsageMetric, type: 'string', nullable: true })
  metric?: UsageMetric | null;

  @Property({ type: 'integer', nullable: true })
  threshold?: number | null;

  @Property({ type: new BigIntType('number'), nullable: true })
  value?: number | null;

  @Property({ type: new BigIntType('number'), nullable: true, fieldName: 'limit_value' })
  limit?: number | null;

  @Property({ type: 'integer', nullable: true })
  daysBefore?: number | null;

  @Property({ type: 'datetime', nullable: true })
  expiresAt?: Date | null;

  @Property({ type: 'string', length: 500 })
  message!: string;

  @Property({ type: 'datetime' })
  raisedAt!: Date;

  @Property({ type: 'datetime', nullable: true })
  acknowledgedAt?: Date | null;

  @Property({ type: 'string', length: 200, nullable: true })
  acknowledgedBy?: string | null;
}
