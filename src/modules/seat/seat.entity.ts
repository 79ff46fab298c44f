import { Entity, Index, Opt, Property, Unique } from '@mikro-orm/core';
import { Timestamp } from '../../db/columns';
import { LicenseHold } from './license-hold.entity';
import { SeatReleaseReason } from './seat.enums';

/** A named seat: one user's assignment on a USER license, live until released. */
@Entity({ tableName: 'seat' })
@Index({ properties: ['license', 'releasedAt'] })
// One live seat per user: a partial index, which MikroORM knows by its name and its SQL.
@Unique({
  name: 'seat_live_user_unique',
  expression: 'create unique index seat_live_user_unique on seat (license_id, user_id) where released_at is null',
})
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
