import { BigIntType, Entity, ManyToOne, PrimaryKeyProp, Property } from '@mikro-orm/core';
import { Timestamp } from '../../db/columns';
import { AS_MIGRATED } from '../../db/mapping';
import { LicenseMetricRow } from '../license/license-rows.entity';

/**
 * The current reading of one reported metric of a license: a gauge (storage), or a counter within its period (API
 * calls). Written by the SQL of the `UsageMeter` service, which has that name; hence this entity's.
 */
@Entity({ tableName: 'usage_meter' })
export class UsageMeterReading extends LicenseMetricRow {
  [PrimaryKeyProp]?: ['licenseId', 'metric'];

  @ManyToOne('Organization', { ...AS_MIGRATED, mapToPk: true, fieldName: 'organization_id' })
  organizationId!: string;

  @Property({ type: new BigIntType('number') })
  value!: number;

  /** Start of the period a counter runs in; null for a gauge. */
  @Timestamp({ nullable: true })
  periodStart?: Date | null;

  @Timestamp()
  updatedAt!: Date;
}
