import { Entity, Property } from '@mikro-orm/core';
import { Timestamp } from '../../db/columns';
import { LicenseRecord } from '../license/license-rows.entity';

/** A recommendation that raised its RECOMMENDATION alert: each raises one, once. Written by SQL. */
@Entity({ tableName: 'recommendation_alert' })
export class RecommendationAlert extends LicenseRecord {
  /** The recommendation's id, not one of its own. */
  declare id: string;

  @Property({ type: 'string', length: 36, nullable: true })
  alertId?: string | null;

  @Timestamp()
  raisedAt!: Date;
}
