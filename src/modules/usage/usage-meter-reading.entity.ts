import { BigIntType, Entity, ManyToOne, PrimaryKey, PrimaryKeyProp, Property } from '@mikro-orm/core';
import { AS_MIGRATED } from '../../db/mapping';
import { UsageMetric } from './usage.types';

/**
 * The current reading of one reported metric of a license: a gauge (storage), or a counter within its period (API
 * calls). Written by the SQL of the `UsageMeter` service, which has that name; hence this entity's.
 */
@Entity({ tableName: 'usage_meter' })
export class UsageMeterReading {
  [PrimaryKeyProp]?: ['licenseId', 'metric'];

  @ManyToOne('License', { ...AS_MIGRATED, primary: true, mapToPk: true, fieldName: 'license_id' })
  licenseId!: string;

  @PrimaryKey({ type: 'string', length: 24 })
  metric!: UsageMetric;

  @ManyToOne('Organization', { ...AS_MIGRATED, mapToPk: true, fieldName: 'organization_id' })
  organizationId!: string;

  @Property({ type: new BigIntType('number') })
  value!: number;

  /** Start of the period a counter runs in; null for a gauge. */
  @Property({ type: 'datetime', length: 3, nullable: true })
  periodStart?: Date | null;

  @Property({ type: 'datetime', length: 3 })
  updatedAt!: Date;
}
