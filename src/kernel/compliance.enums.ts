import { registerEnumType } from 'type-graphql';
import { registerEnums } from './register-enums';

/** What a license was found doing outside its terms. */
export enum ViolationKind {
  /** More named users than the license allows. */
  SEAT_OVERAGE = 'SEAT_OVERAGE',
  /** More simultaneous sessions than the license allows. */
  CONCURRENCY_OVERAGE = 'CONCURRENCY_OVERAGE',
  /** More storage than the license allows. */
  STORAGE_OVERAGE = 'STORAGE_OVERAGE',
  /** More API calls in a period than the license allows. */
  API_OVERAGE = 'API_OVERAGE',
  /** A feature asked for that the license does not entitle. */
  UNLICENSED_FEATURE = 'UNLICENSED_FEATURE',
  /** Use after the term ended: within the grace period, or after it (denied). */
  EXPIRED_USE = 'EXPIRED_USE',
  /** Use from outside a SITE license's domains and ranges. */
  SITE_MISMATCH = 'SITE_MISMATCH',
  /** A client clock more than 24 hours off, or going backwards between heartbeats. */
  CLOCK_TAMPERING = 'CLOCK_TAMPERING',
}

/** `OPEN → ACKNOWLEDGED → RESOLVED`, or `WAIVED` with a reason (and perhaps an end date). */
export enum ViolationStatus {
  OPEN = 'OPEN',
  ACKNOWLEDGED = 'ACKNOWLEDGED',
  RESOLVED = 'RESOLVED',
  WAIVED = 'WAIVED',
}

/** Ordered: a violation's severity only rises while it is active. */
export enum ViolationSeverity {
  LOW = 'LOW',
  MEDIUM = 'MEDIUM',
  HIGH = 'HIGH',
  CRITICAL = 'CRITICAL',
}

/** What happened to a violation. */
export enum ComplianceEventType {
  OPENED = 'OPENED',
  /** The breach happened again: one more occurrence, perhaps a higher severity. */
  UPDATED = 'UPDATED',
  ACKNOWLEDGED = 'ACKNOWLEDGED',
  /** An administrator acted on it (suspension, seats released, leases ended, limit raised). */
  REMEDIATED = 'REMEDIATED',
  RESOLVED = 'RESOLVED',
  WAIVED = 'WAIVED',
  /** Its waiver ended while the breach still held. */
  REOPENED = 'REOPENED',
  /** Its deadline passed while the breach still held: now CRITICAL. */
  ESCALATED = 'ESCALATED',
}

/** The answer of an enforcement point for one request against one limit. */
export enum EnforcementCode {
  /** The license sets no limit for this. */
  UNLIMITED = 'UNLIMITED',
  WITHIN_LIMIT = 'WITHIN_LIMIT',
  /** Over the limit, allowed by the overage policy (PERCENT within its allowance, or ALWAYS): a violation records it. */
  OVERAGE_ALLOWED = 'OVERAGE_ALLOWED',
  /** Denied: the limit is reached and the policy is NONE. */
  LIMIT_REACHED = 'LIMIT_REACHED',
  /** Denied: the PERCENT policy's allowance over the limit is used up. */
  OVERAGE_LIMIT_REACHED = 'OVERAGE_LIMIT_REACHED',
  /** A reported total already past what the policy allows: recorded as the fact it is, with a violation. */
  OVER_LIMIT_REPORTED = 'OVER_LIMIT_REPORTED',
}

/** What an administrator can do about a violation. */
export enum RemediationAction {
  /** Suspends the license; its live sessions end. */
  SUSPEND_LICENSE = 'SUSPEND_LICENSE',
  /** Releases the named seats whose users were inactive longest (USER licenses). */
  RELEASE_INACTIVE_SEATS = 'RELEASE_INACTIVE_SEATS',
  /** Ends the live leases whose heartbeats are oldest (CONCURRENT licenses). */
  END_LEASES = 'END_LEASES',
  /** Raises the license's limit that the violation is over. */
  RAISE_LIMIT = 'RAISE_LIMIT',
}

/** Where a license stands in a compliance report. */
export enum ComplianceStatus {
  /** Within every limit, without an active violation. */
  COMPLIANT = 'COMPLIANT',
  /** Compliant only because its active violations are waived: over a limit at most where an overage is waived. */
  COMPLIANT_WITH_WAIVERS = 'COMPLIANT_WITH_WAIVERS',
  /** An open or acknowledged violation, or over a limit without a waiver. */
  NON_COMPLIANT = 'NON_COMPLIANT',
}

registerEnums(
  { ViolationKind, ViolationStatus, ComplianceEventType, EnforcementCode, RemediationAction, ComplianceStatus },
  {
    ViolationKind: {
      description: 'What a license was found doing outside its terms.',
      values: {
        SEAT_OVERAGE: 'More named users hold seats than `namedUsers` allows.',
        CONCURRENCY_OVERAGE: 'More simultaneous sessions than `concurrentSessions` allows.',
        STORAGE_OVERAGE: 'More bytes stored than `storageBytes` allows.',
        API_OVERAGE: 'More API calls in a period than `apiCallsPerPeriod` allows.',
        UNLICENSED_FEATURE: 'A PREMIUM feature was asked for that the license does not entitle.',
        EXPIRED_USE: 'Use after the term ended: within the grace period (allowed), or after it (denied).',
        SITE_MISMATCH: "Use from outside a SITE license's domains and CIDR ranges.",
        CLOCK_TAMPERING: 'A client clock more than 24 hours off, or gone backwards between heartbeats.',
      },
    },
    ViolationStatus: {
      description: 'The lifecycle of a violation: OPEN → ACKNOWLEDGED → RESOLVED, or WAIVED with a reason.',
      values: {
        OPEN: 'Found and not yet looked at; the license is non-compliant.',
        ACKNOWLEDGED: 'Seen by an administrator and still in force; the license is still non-compliant.',
        RESOLVED: 'Over: resolved by hand, or by itself once its cause cleared. A repeat opens a new violation.',
        WAIVED: 'Accepted with a reason, perhaps until a date; repeats count on it without making the license non-compliant.',
      },
    },
    ComplianceEventType: {
      description: 'What happened to a violation, as told by the compliance stream and log.',
      values: {
        OPENED: 'A new violation was found.',
        UPDATED: 'The breach happened again: one more occurrence, perhaps a higher severity.',
        ACKNOWLEDGED: 'An administrator acknowledged it.',
        REMEDIATED: 'An administrator acted on it (license suspended, seats released, leases ended, limit raised).',
        RESOLVED: 'It was resolved, by hand or because its cause cleared.',
        WAIVED: 'It was waived, with a reason.',
        REOPENED: 'Its waiver ended while the breach still held.',
        ESCALATED: 'Its deadline passed while the breach still held: it is now CRITICAL.',
      },
    },
    EnforcementCode: {
      description: 'The answer of an enforcement point for one request against one limit.',
      values: {
        UNLIMITED: 'Allowed: the license sets no limit for this metric.',
        WITHIN_LIMIT: 'Allowed: within the limit.',
        OVERAGE_ALLOWED: 'Allowed over the limit by the overage policy (PERCENT within its allowance, or ALWAYS); a violation records it.',
        LIMIT_REACHED: 'Denied: the limit is reached and the overage policy is NONE.',
        OVERAGE_LIMIT_REACHED: "Denied: the PERCENT policy's allowance over the limit is used up.",
        OVER_LIMIT_REPORTED:
          'A reported total (storage) already past what the policy allows: recorded as the fact it is, with a violation.',
      },
    },
    RemediationAction: {
      description: 'What an administrator can do about a violation.',
      values: {
        SUSPEND_LICENSE: 'Suspends the license; its live sessions end.',
        RELEASE_INACTIVE_SEATS: 'Releases the named seats whose users were inactive longest (USER licenses).',
        END_LEASES: 'Ends the live leases whose heartbeats are oldest (CONCURRENT licenses).',
        RAISE_LIMIT: "Raises the license's limit that the violation is over.",
      },
    },
    ComplianceStatus: {
      description: 'Where a license stands in a compliance report.',
      values: {
        COMPLIANT: 'Within every limit, without an active violation.',
        COMPLIANT_WITH_WAIVERS: 'Compliant only because its active violations are waived: over a limit at most where an overage is waived.',
        NON_COMPLIANT: 'An open or acknowledged violation, or over a limit without a waiver.',
      },
    },
  },
);
registerEnumType(ViolationSeverity, {
  name: 'ViolationSeverity',
  description: 'How serious a violation is, ordered LOW < MEDIUM < HIGH < CRITICAL; it only rises while the violation is active.',
  valuesConfig: {
    LOW: { description: 'An overage of at most 10 %, use within a grace period, or an unknown feature asked for.' },
    MEDIUM: { description: 'An overage of at most 25 %, or use from outside the site.' },
    HIGH: {
      description:
        'An overage of at most 50 % (any reported past the policy), an unentitled feature, use after expiry, or clock tampering.',
    },
    CRITICAL: { description: 'An overage beyond 50 %, or a violation still in force when its deadline passed.' },
  },
});

/** Statuses in which a violation is still being followed: a repeat of its breach counts on it. */
export const ACTIVE_STATUSES = [ViolationStatus.OPEN, ViolationStatus.ACKNOWLEDGED, ViolationStatus.WAIVED] as const;
/** Statuses that make a license non-compliant. */
export const OPEN_STATUSES = [ViolationStatus.OPEN, ViolationStatus.ACKNOWLEDGED] as const;

export const SEVERITY_RANK: Record<ViolationSeverity, number> = { LOW: 1, MEDIUM: 2, HIGH: 3, CRITICAL: 4 };
