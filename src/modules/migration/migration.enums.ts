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

registerEnums(
  { MigrationEffective, ConflictStrategy, MigrationStatus, MigrationOutcome, SeatFate, MigrationWarningCode },
  {
    MigrationEffective: {
      description: 'When a migration takes effect.',
      values: {
        NOW: 'At once, in the same transaction.',
        AT_RENEWAL: "When the license's current term is renewed: it waits until then (SCHEDULED), and can be cancelled.",
      },
    },
    ConflictStrategy: {
      description: 'What a migration does with what is over its new limits.',
      values: {
        REJECT: 'Nothing changes if anything is over the new limits.',
        RELEASE_LEAST_ACTIVE: 'Frees what is over: the named seats inactive longest, the leases with the oldest heartbeats.',
        ALLOW_OVERAGE_UNTIL: 'Keeps everything, and opens violations that must clear by `until`, else they escalate to CRITICAL.',
      },
    },
    MigrationStatus: {
      description: 'Where a recorded migration stands.',
      values: {
        SCHEDULED: 'Waits for the renewal of the term (AT_RENEWAL).',
        APPLIED: 'Applied: the license has its new terms.',
        REJECTED: 'A scheduled migration that REJECT refused at renewal: something was over its limits then.',
        CANCELLED: 'Cancelled while it waited (`cancelLicenseMigration`).',
      },
    },
    MigrationOutcome: {
      description: 'What `migrateLicense` did.',
      values: {
        APPLIED: 'The license has its new terms now.',
        SCHEDULED: 'It waits for the renewal of the term.',
        REJECTED: 'REJECT and something is over the new limits: nothing changed.',
      },
    },
    SeatFate: {
      description: 'Why a migration frees a named seat or a lease.',
      values: {
        OVER_LIMIT: 'Over a lower user or session limit: freed, least active first.',
        TYPE_CHANGE: 'The new type has no named seats (or no leases).',
      },
    },
    MigrationWarningCode: {
      description: 'Something a migration does that an administrator should know before applying it.',
      values: {
        LIMIT_DROPPED: 'A type change drops a limit the new type does not count (named users off USER, sessions off CONCURRENT).',
        USERS_FAIL_VALIDATION: 'Named users kept past the new limit, beyond what the overage policy allows: their validations fail.',
        USAGE_REFUSED: 'Usage kept over the new limit, at or past what the overage policy allows: more of it is refused.',
      },
    },
  },
);
