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

registerEnums({ ViolationKind, ViolationStatus, ComplianceEventType, EnforcementCode, RemediationAction, ComplianceStatus });
registerEnumType(ViolationSeverity, { name: 'ViolationSeverity', description: 'LOW < MEDIUM < HIGH < CRITICAL.' });

/** Statuses in which a violation is still being followed: a repeat of its breach counts on it. */
export const ACTIVE_STATUSES = [ViolationStatus.OPEN, ViolationStatus.ACKNOWLEDGED, ViolationStatus.WAIVED] as const;
/** Statuses that make a license non-compliant. */
export const OPEN_STATUSES = [ViolationStatus.OPEN, ViolationStatus.ACKNOWLEDGED] as const;

export const SEVERITY_RANK: Record<ViolationSeverity, number> = { LOW: 1, MEDIUM: 2, HIGH: 3, CRITICAL: 4 };
