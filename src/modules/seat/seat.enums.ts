import { registerEnums } from '../../kernel/register-enums';

/** Why a lease ended. */
export enum LeaseReleaseReason {
  /** The client checked it in. */
  CHECKED_IN = 'CHECKED_IN',
  /** Its heartbeats stopped and its TTL ran out. */
  EXPIRED = 'EXPIRED',
  /** Its license was suspended or revoked. */
  LICENSE_INACTIVE = 'LICENSE_INACTIVE',
  /** Its license moved to other terms: fewer sessions, or a type without leases. */
  LICENSE_MIGRATED = 'LICENSE_MIGRATED',
  /** An administrator ended it (remediating a concurrency overage). */
  ENDED_BY_ADMIN = 'ENDED_BY_ADMIN',
}

/** Why a named seat was released. */
export enum SeatReleaseReason {
  /** An administrator released it. */
  RELEASED_BY_ADMIN = 'RELEASED_BY_ADMIN',
  /** A remediation of a seat overage released it: its user was inactive longest. */
  INACTIVE = 'INACTIVE',
  /** Its license moved to other terms: fewer named users, or a type without named seats. */
  LICENSE_MIGRATED = 'LICENSE_MIGRATED',
}

registerEnums(
  { LeaseReleaseReason, SeatReleaseReason },
  {
    LeaseReleaseReason: {
      description: 'Why a concurrent lease ended.',
      values: {
        CHECKED_IN: 'The client checked it in (`checkinSeat`).',
        EXPIRED: 'Its heartbeats stopped and its TTL ran out (or a borrow ended).',
        LICENSE_INACTIVE: 'Its license was suspended or revoked.',
        LICENSE_MIGRATED: 'Its license moved to other terms: fewer sessions, or a type without leases.',
        ENDED_BY_ADMIN: 'An administrator ended it, remediating a concurrency overage.',
      },
    },
    SeatReleaseReason: {
      description: 'Why a named seat was released.',
      values: {
        RELEASED_BY_ADMIN: 'An administrator released it (`releaseSeat`).',
        INACTIVE: 'A remediation of a seat overage released it: its user had been inactive longest.',
        LICENSE_MIGRATED: 'Its license moved to other terms: fewer named users, or a type without named seats.',
      },
    },
  },
);
