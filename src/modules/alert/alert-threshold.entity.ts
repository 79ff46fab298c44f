import { Entity, PrimaryKey, PrimaryKeyProp, Property } from '@mikro-orm/core';
import { LicenseMetricRow } from '../license/license-rows.entity';

/**
 * Whether one threshold of one metric of a license is armed: it fires once on the way up, then re-arms only after
 * the metric falls back below it by the rule's margin. Written by the threshold watch's SQL.
 */
@Entity({ tableName: 'alert_threshold' })
export class AlertThreshold extends LicenseMetricRow {
  [PrimaryKeyProp]?: ['licenseId', 'metric', 'threshold'];

  /**
   * In percent of the metric's limit. Not an autoincrement: MikroORM would take this entity's only own integer key for
   * one, before it adds the keys of the base.
   */
  @PrimaryKey({ type: 'integer', autoincrement: false })
  threshold!: number;

  @Property({ type: 'boolean' })
  armed!: boolean;

  /** The alert it last raised, which counts its repeats while open. */
  @Property({ type: 'string', length: 36, nullable: true })
  alertId?: string | null;
}
