import { BigIntType, Entity, Index, PrimaryKeyProp, Property } from '@mikro-orm/core';
import { EnumColumn, Timestamp } from '../../db/columns';
import { LicenseMetricRow } from '../license/license-rows.entity';
import { UsageResolution } from './usage.types';

/**
 * One bucket of the usage time series of a license's metric, hourly or daily: how many samples fell in it, their sum,
 * highest and last value. Hourly buckets are dropped past their retention, found through the resolution index.
 */
@Entity({ tableName: 'usage_sample' })
@Index({ properties: ['resolution', 'bucketStart'] })
export class UsageSample extends LicenseMetricRow {
  [PrimaryKeyProp]?: ['licenseId', 'metric', 'resolution', 'bucketStart'];

  @EnumColumn(8, { primary: true })
  resolution!: UsageResolution;

  @Timestamp({ primary: true })
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
