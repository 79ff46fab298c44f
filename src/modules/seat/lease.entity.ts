import { Entity, Enum, ManyToOne, Opt, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../../db/ids';
import { License } from '../license/license.entity';
import { Organization } from '../organization/organization.entity';
import { LeaseReleaseReason } from './seat.enums';

/**
 * A concurrent session on a CONCURRENT license: held by one machine fingerprint until checked in, or until its
 * heartbeats stop and it expires. Written by the lease ledger's SQL; mapped here for queries and the schema.
 */
@Entity({ tableName: 'lease' })
export class Lease {
  @PrimaryKey({ type: 'string', length: 36 })
  id: Opt<string> = newId();

  @ManyToOne(() => License)
  license!: License;

  @ManyToOne(() => Organization)
  organization!: Organization;

  @Property({ type: 'string', length: 200 })
  fingerprint!: string;

  @Property({ type: 'string', length: 320, nullable: true })
  userId?: string | null;

  @Property({ type: 'datetime' })
  checkedOutAt!: Date;

  @Property({ type: 'datetime' })
  lastHeartbeatAt!: Date;

  @Property({ type: 'datetime' })
  expiresAt!: Date;

  @Property({ type: 'datetime', nullable: true })
  releasedAt?: Date | null;

  @Enum({ items: () => LeaseReleaseReason, type: 'string', nullable: true })
  releaseReason?: LeaseReleaseReason | null;
}
