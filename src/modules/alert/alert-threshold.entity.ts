import { Entity, ManyToOne, PrimaryKey, PrimaryKeyProp, Property } from '@mikro-orm/core';
import { AS_MIGRATED } from '../../db/mapping';
import { UsageMetric } from '../usage/usage.types';

/**
 * Whether one threshold of one metric of a license is armed: it fires once on the way up, then re-arms only after
 * the metric falls back below it by the rule's margin. Written by the threshold watch's SQL.
 */
@Entity({ tableName: 'alert_threshold' })
export class AlertThreshold {
  [PrimaryKeyProp]?: ['licenseId', 'metric', 'threshold'];

  @ManyToOne('License', { ...AS_MIGRATED, primary: true, mapToPk: true, fieldName: 'license_id' })
  licenseId!: string;

  @PrimaryKey({ type: 'string', length: 24 })
  metric!: UsageMetric;

  /** In percent of the metric's limit. */
  @PrimaryKey({ type: 'integer' })
  threshold!: number;

  @Property({ type: 'boolean' })
  armed!: boolean;
}
