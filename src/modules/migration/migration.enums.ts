import { registerEnums } from '../../kernel/register-enums';

export enum MigrationEffective {
  /** At once. */
  NOW = 'NOW',
  /** When the license's current term is renewed: it waits until then, and can be cancelled. */
  AT_RENEWAL = 'AT_RENEWAL',
}

/** What a migration does with what is over its new limits. */
export enum ConflictStrategy {
  /** Nothing changes if anything is over the new limits. */
  REJECT = 'REJECT',
  /** Frees what is over: the named seats inactive longest, the leases with the oldest heartbeats. */
  RELEASE_LEAST_ACTIVE = 'RELEASE_LEAST_ACTIVE',
  /** Keeps everything, and opens violations that must clear by a date, else escalate. */
  ALLOW_OVERAGE_UNTIL = 'ALLOW_OVERAGE_UNTIL',
}

export enum MigrationStatus {
  /** Waits for the renewal of the term (AT_RENEWAL). */
  SCHEDULED = 'SCHEDULED',
  APPLIED = 'APPLIED',
  /** A scheduled migration that REJECT refused at renewal: something was over its limits then. */
  REJECTED = 'REJECTED',
  CANCELLED = 'CANCELLED',
}

export enum MigrationOutcome {
  APPLIED = 'APPLIED',
  SCHEDULED = 'SCHEDULED',
  /** REJECT and something is over the new limits: nothing changed. */
  REJECTED = 'REJECTED',
}

/** What happens to a named seat or a lease in a migration. */
export enum SeatFate {
  /** Over a lower user or session limit: freed, least active first. */
  OVER_LIMIT = 'OVER_LIMIT',
  /** The new type has no named seats (or no leases). */
  TYPE_CHANGE = 'TYPE_CHANGE',
}

/** Something a migration does that an administrator should know before applying it. */
export enum MigrationWarningCode {
  /** A type change drops a limit the new type does not count (named users off USER, sessions off CONCURRENT). */
  LIMIT_DROPPED = 'LIMIT_DROPPED',
  /** Named users kept past the new limit, beyond what the overage policy allows: their validations fail. */
  USERS_FAIL_VALIDATION = 'USERS_FAIL_VALIDATION',
  /** Usage kept over the new limit, at or past what the overage policy allows: more of it is refused. */
  USAGE_REFUSED = 'USAGE_REFUSED',
}

registerEnums({ MigrationEffective, ConflictStrategy, MigrationStatus, MigrationOutcome, SeatFate, MigrationWarningCode });
