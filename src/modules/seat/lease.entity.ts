import { Entity, Index, Property } from '@mikro-orm/core';
import { Timestamp } from '../../db/columns';
import { PartialUnique } from '../../db/indexes';
import { LicenseHold } from './license-hold.entity';
import { LeaseReleaseReason } from './seat.enums';

/**
 * A concurrent session on a CONCURRENT license: held by one machine fingerprint until checked in, or until its
 * heartbeats stop and it expires. Written by the lease ledger's SQL; mapped here for queries and the schema.
 */
@Entity({ tableName: 'lease' })
@Index({ properties: ['license', 'releasedAt'] })
@Index({ properties: ['releasedAt', 'expiresAt'] })
// One live lease per fingerprint.
@PartialUnique('lease_live_fingerprint_unique', 'lease', ['license_id', 'fingerprint'], 'released_at is null')
export class Lease extends LicenseHold<LeaseReleaseReason> {
  @Property({ type: 'string', length: 200 })
  fingerprint!: string;

  @Property({ type: 'string', length: 320, nullable: true })
  userId?: string | null;

  @Timestamp()
  checkedOutAt!: Date;

  @Timestamp()
  lastHeartbeatAt!: Date;

  @Timestamp()
  expiresAt!: Date;

  /** Borrowed: held offline until then, without heartbeats (its expiry is that date). */
  @Timestamp({ nullable: true })
  borrowedUntil?: Date | null;

  /** The client's clock at its last checkout or heartbeat: a clock that goes backwards is tampering. */
  @Timestamp({ nullable: true })
  clientClockAt?: Date | null;
}
