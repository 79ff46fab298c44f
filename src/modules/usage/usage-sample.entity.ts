import { BigIntType, Entity, Index, ManyToOne, PrimaryKey, PrimaryKeyProp, Property } from '@mikro-orm/core';
import { AS_MIGRATED } from '../../db/mapping';
import { UsageMetric, UsageResolution } from './usage.types';

/**
 * One bucket of the usage time series of a license's metric, hourly or daily: how many samples fell in it, their sum,
 * highest and last value. Hourly buckets are dropped past their retention, found through the resolution index.
 */
@Entity({ tableName: 'usage_sample' })
@Index({ properties: ['resolution', 'bucketStart'] })
export class UsageSample {
  [PrimaryKeyProp]?: ['licenseId', 'metric', 'resolution', 'bucketStart'];

  @ManyToOne('License', { ...AS_MIGRATED, primary: true, mapToPk: true, fieldName: 'license_id' })
  licenseId!: string;

  @PrimaryKey({ type: 'string', length: 24 })
  metric!: UsageMetric;

  @PrimaryKey({ type: 'string', length: 8 })
  resolution!: UsageResolution;

  @PrimaryKey({ type: 'datetime', length: 3 })
  bucketStart!: Date;

  /** A plain column, not a reference: the series is kept by license, and read by organization. */
  @Property({ type: 'string', length: 36 })
  organizationId!: string;

  @Property({ type: 'integer' })
  samples!: number;

  @Property({ type: new BigIntType('number') })
  valueSum!: number;

  @Property({ type: new BigIntType('number') })
  valueMax!: number;

  @Property({ type: new BigIntType('number') })
  valueLast!: number;
}
