import { registerEnumType } from 'type-graphql';

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

registerEnumType(LeaseReleaseReason, { name: 'LeaseReleaseReason' });
