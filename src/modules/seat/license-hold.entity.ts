import { ManyToOne } from '@mikro-orm/core';
import { EnumColumn, Timestamp } from '../../db/columns';
import { IdentifiedEntity } from '../../db/base-entities';
import { AS_MIGRATED } from '../../db/mapping';
import { License } from '../license/license.entity';
import { Organization } from '../organization/organization.entity';

/**
 * A hold on part of a license's capacity, live until released: a named seat (`Seat`) or a concurrent session
 * (`Lease`). Both tables have these columns alike; each says its own reasons for a release.
 */
export abstract class LicenseHold<ReleaseReason extends string> extends IdentifiedEntity {
  @ManyToOne(() => License, AS_MIGRATED)
  license!: License;

  @ManyToOne(() => Organization, AS_MIGRATED)
  organization!: Organization;

  @Timestamp({ nullable: true })
  releasedAt?: Date | null;

  /** Why it was released; null while live (and for seats released before reasons were kept). */
  @EnumColumn(20, { nullable: true })
  releaseReason?: ReleaseReason | null;
}
