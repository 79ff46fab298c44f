import { Entity, ManyToOne, PrimaryKeyProp, Property } from '@mikro-orm/core';
import { Timestamp } from '../../db/columns';
import { AS_MIGRATED } from '../../db/mapping';

/** An organization's windows and thresholds for recommendations (the defaults where it has no row). Written by SQL. */
@Entity({ tableName: 'recommendation_settings' })
export class RecommendationSettingsRow {
  [PrimaryKeyProp]?: 'organizationId';

  @ManyToOne('Organization', { ...AS_MIGRATED, primary: true, mapToPk: true, fieldName: 'organization_id' })
  organizationId!: string;

  @Property({ type: 'integer' })
  windowDays!: number;

  @Property({ type: 'integer' })
  inactiveDays!: number;

  @Property({ type: 'integer' })
  unusedFeatureDays!: number;

  @Property({ type: 'integer' })
  bufferPercent!: number;

  @Property({ type: 'integer' })
  unmetDaySharePercent!: number;

  @Property({ type: 'integer' })
  renewalDays!: number;

  @Property({ type: 'integer', default: 10_000 })
  alertAboveCents!: number;

  @Timestamp()
  updatedAt!: Date;

  @Property({ type: 'string', length: 200 })
  updatedBy!: string;
}
