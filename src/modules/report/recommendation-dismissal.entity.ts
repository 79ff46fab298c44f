import { Entity, Index, Property } from '@mikro-orm/core';
import { EnumColumn, Timestamp } from '../../db/columns';
import { LicenseRecord } from '../license/license-rows.entity';
import type { RecommendationKind } from './recommendation.types';

/** A recommendation dismissed, until a date or for as long as its evidence (and so its id) stays. Written by SQL. */
@Entity({ tableName: 'recommendation_dismissal' })
@Index({ properties: ['organizationId'] })
export class RecommendationDismissal extends LicenseRecord {
  /** The recommendation's id (36 characters, like the UUIDs of other records), not one of its own. */
  declare id: string;

  @EnumColumn(32)
  kind!: RecommendationKind;

  @Property({ type: 'string', length: 500 })
  reason!: string;

  @Timestamp({ nullable: true })
  until?: Date | null;

  @Timestamp()
  dismissedAt!: Date;

  @Property({ type: 'string', length: 200 })
  dismissedBy!: string;
}
