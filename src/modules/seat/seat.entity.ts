import { Entity, Index, Opt, Property } from '@mikro-orm/core';
import { Timestamp } from '../../db/columns';
import { PartialUnique } from '../../db/indexes';
import { LicenseHold } from './license-hold.entity';
import { SeatReleaseReason } from './seat.enums';

/** A named seat: one user's assignment on a USER license, live until released. */
@Entity({ tableName: 'seat' })
@Index({ properties: ['license', 'releasedAt'] })
// One live seat per user.
@PartialUnique('seat_live_user_unique', 'seat', ['license_id', 'user_id'], 'released_at is null')
export class Seat extends LicenseHold<SeatReleaseReason> {
  /** The named user: an e-mail address or a directory id. */
  @Property({ type: 'string', length: 320 })
  userId!: string;

  @Timestamp()
  assignedAt: Opt<Date> = new Date();

  @Timestamp({ nullable: true })
  lastSeenAt?: Date | null;

  /** When the user last validated with the license: who a downgrade frees first. */
  @Timestamp({ nullable: true })
  lastActiveAt?: Date | null;
}
