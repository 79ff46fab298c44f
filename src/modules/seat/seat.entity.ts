import { Entity, Enum, ManyToOne, Opt, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../../db/ids';
import { License } from '../license/license.entity';
import { Organization } from '../organization/organization.entity';
import { SeatReleaseReason } from './seat.enums';

/** A named seat: one user's assignment on a USER license, live until released. */
@Entity({ tableName: 'seat' })
export class Seat {
  @PrimaryKey({ type: 'string', length: 36 })
  id: Opt<string> = newId();

  @ManyToOne(() => License)
  license!: License;

  @ManyToOne(() => Organization)
  organization!: Organization;

  /** The named user: an e-mail address or a directory id. */
  @Property({ type: 'string', length: 320 })
  userId!: string;

  @Property({ type: 'datetime' })
  assignedAt: Opt<Date> = new Date();

  @Property({ type: 'datetime', nullable: true })
  releasedAt?: Date | null;

  @Enum({ items: () => SeatReleaseReason, type: 'string', nullable: true })
  releaseReason?: SeatReleaseReason | null;

  /** Never written: activity is kept in `lastActiveAt`. */
  @Property({ type: 'datetime', nullable: true })
  lastSeenAt?: Date | null;

  /** When its user last validated with it; null when never since assigned. */
  @Property({ type: 'datetime', nullable: true })
  lastActiveAt?: Date | null;
}
