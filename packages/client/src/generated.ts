/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** Which alerts; every field given must match. */
export type AlertFilter = {
  /** Only acknowledged (true) or only open (false) alerts. */
  acknowledged?: boolean | null | undefined;
  /** Only alerts of this kind. */
  kind?: AlertKind | null | undefined;
  /** Only records of this license. */
  licenseId?: string | null | undefined;
  /** Only records of this organization (a platform admin's filter; others see their own organization only). */
  organizationId?: string | null | undefined;
  /** Only alerts of this severity. */
  severity?: AlertSeverity | null | undefined;
};

/** What an alert is about; it says which of its fields are set. */
export type AlertKind =
  /** A limit kept refusing demand that no grant met within a minute, often enough within an hour: `metric` and `value` (the refusals) say which. Once an hour per license and metric. */
  | 'DENIALS'
  /** The license's term ends in `daysBefore` days (at `expiresAt`): time to renew. */
  | 'EXPIRY_NOTICE'
  /** The term has ended and the grace period begun: the license still validates, until the grace period ends. */
  | 'GRACE_PERIOD_STARTED'
  /** The term and any grace period have ended: the license no longer validates. */
  | 'LICENSE_EXPIRED'
  /** The license moved to another plan, other limits or another type. */
  | 'LICENSE_MIGRATED'
  /** The license renewed by itself at the end of its term: `expiresAt` is the end of its new term. */
  | 'LICENSE_RENEWED'
  /** A new recommendation whose yearly effect reaches the organization's `alertAboveCents`: `recommendationId` names it, `value` is its yearly cost change in cents. */
  | 'RECOMMENDATION'
  /** A metric crossed a threshold of its limit on the way up: `metric`, `threshold`, `value` and `limit` say which. */
  | 'THRESHOLD';

/** How urgent an alert is. */
export type AlertSeverity =
  /** Act now: a limit reached (100 % or more), expiry within 7 days, grace period begun, license expired. */
  | 'CRITICAL'
  /** For information: thresholds below 90 %, expiry 30 days or more ahead, renewals, migrations, recommendations. */
  | 'INFO'
  /** Act soon: thresholds from 90 %, expiry within 30 days, repeated denials. */
  | 'WARNING';

/** How one check came out. */
export type CheckOutcome =
  /** Failed: the license is not valid for this request. */
  | 'FAIL'
  /** Passed. */
  | 'PASS'
  /** Passed, with something the client should know (a grace period, a drifting clock, an allowed overage). */
  | 'WARN';

/** How a check-in came out. */
export type CheckinOutcome =
  /** The lease had ended before; nothing changed. */
  | 'ALREADY_RELEASED'
  /** The lease ended now and its seat is free. */
  | 'RELEASED';

/** How a checkout of a concurrent seat came out. */
export type CheckoutOutcome =
  /** The machine holds a lease (new, or its live one extended). */
  | 'GRANTED'
  /** The license's term has not started, or ended beyond its grace period. */
  | 'LICENSE_EXPIRED'
  /** The license is suspended, revoked or expired by status. */
  | 'LICENSE_INACTIVE'
  /** Every concurrent seat is taken and the overage policy allows no more; try again later. */
  | 'NO_SEAT_AVAILABLE';

/** How a heartbeat came out. */
export type HeartbeatOutcome =
  /** The lease lives another TTL from now. */
  | 'EXTENDED'
  /** The lease had ended (expired, checked in or ended by an administrator); check a seat out again. */
  | 'LEASE_ENDED';

/** What is metered per license; each metric has its limit in `LicenseLimits`. */
export type UsageMetric =
  /** Named users holding a seat, against `namedUsers`; derived from seats, never reported. */
  | 'ACTIVE_USERS'
  /** API calls, against `apiCallsPerPeriod`: a counter within the license's period (a day or a month in UTC). */
  | 'API_CALLS'
  /** Live leases, against `concurrentSessions`; derived from leases, never reported. */
  | 'CONCURRENT_SESSIONS'
  /** Bytes stored, against `storageBytes`: a gauge, reported as the current total. */
  | 'STORAGE_BYTES';

/** A check that validation runs; which ones run depends on the license type and on what the client sent. */
export type ValidationCheckKind =
  /** The client's clock against the server's (when `clientTime` is sent). */
  | 'CLOCK'
  /** The license entitles the `feature` asked for. */
  | 'FEATURE'
  /** The `fingerprint` holds a live lease (CONCURRENT licenses, when a fingerprint is sent). */
  | 'LEASE'
  /** The named `user` holds a seat (USER licenses). */
  | 'SEAT'
  /** The client is within the site (SITE licenses). */
  | 'SITE'
  /** The license's status: active, suspended, expired or revoked. */
  | 'STATUS'
  /** The term: started, not ended, or within its grace period. */
  | 'TERM';

/** Stable codes of a validation and of each of its checks; clients branch on these, never on `detail`. */
export type ValidationCode =
  /** STATUS passed: the license is active. */
  | 'ACTIVE'
  /** CLOCK warned: more than 5 minutes off. */
  | 'CLOCK_DRIFT'
  /** CLOCK passed: within 5 minutes of the server's clock. */
  | 'CLOCK_IN_SYNC'
  /** CLOCK failed: more than 24 hours off, or gone backwards since the last heartbeat; recorded as a violation. */
  | 'CLOCK_TAMPERING'
  /** STATUS or TERM failed: the term and its grace period are over. */
  | 'EXPIRED'
  /** FEATURE passed: a CORE feature, or a PREMIUM one the license entitles. */
  | 'FEATURE_ENTITLED'
  /** FEATURE failed: a PREMIUM feature the license does not entitle; recorded as UNLICENSED_FEATURE. */
  | 'FEATURE_NOT_ENTITLED'
  /** FEATURE failed: the product has no feature with this key. */
  | 'FEATURE_UNKNOWN'
  /** TERM warned: the term ended and the grace period still runs; recorded as EXPIRED_USE. */
  | 'IN_GRACE_PERIOD'
  /** LEASE passed: the fingerprint holds a live lease. */
  | 'LEASE_ACTIVE'
  /** TERM failed: the term has not started. */
  | 'NOT_YET_VALID'
  /** LEASE failed: the fingerprint holds no live lease; check a seat out. */
  | 'NO_ACTIVE_LEASE'
  /** SEAT failed: the user holds no seat on this license. */
  | 'NO_SEAT_ASSIGNED'
  /** STATUS failed: the license was revoked. */
  | 'REVOKED'
  /** SEAT passed: the user holds a seat. */
  | 'SEAT_ASSIGNED'
  /** SITE passed: the address or e-mail domain is within the site. */
  | 'SITE_MATCHED'
  /** SITE failed: outside the site; recorded as a violation. */
  | 'SITE_MISMATCH'
  /** SITE failed: a SITE license validates within its site; pass `site` (or an e-mail address as `user`). */
  | 'SITE_REQUIRED'
  /** STATUS failed: the license is suspended. */
  | 'SUSPENDED'
  /** SEAT warned or failed: the user's seat is past the license's user limit (a warning within the overage policy, else a failure). */
  | 'USER_LIMIT_EXCEEDED'
  /** SEAT failed: a USER license validates for a named user; pass `user`. */
  | 'USER_REQUIRED'
  /** Every check passed. */
  | 'VALID'
  /** TERM passed: within the term, or the license is perpetual. */
  | 'WITHIN_TERM';

export type ClientValidateQueryVariables = Exact<{
  key: string;
  fingerprint?: string | null | undefined;
  user?: string | null | undefined;
  feature?: string | null | undefined;
  clientTime?: string | null | undefined;
}>;


export type ClientValidateQuery = { validateLicense: { valid: boolean, code: ValidationCode, checks: Array<{ check: ValidationCheckKind, outcome: CheckOutcome, code: ValidationCode, detail: string }> } };

export type ClientCheckoutMutationVariables = Exact<{
  key: string;
  fingerprint: string;
  user?: string | null | undefined;
  clientTime?: string | null | undefined;
}>;


export type ClientCheckoutMutation = { checkoutSeat: { outcome: CheckoutOutcome, detail: string, lease: { id: string, expiresAt: string } | null, certificate: { certificate: string } | null } };

export type ClientHeartbeatMutationVariables = Exact<{
  key: string;
  leaseId: string;
  clientTime?: string | null | undefined;
}>;


export type ClientHeartbeatMutation = { heartbeatSeat: { outcome: HeartbeatOutcome, lease: { id: string, expiresAt: string } } };

export type ClientCheckinMutationVariables = Exact<{
  key: string;
  leaseId: string;
}>;


export type ClientCheckinMutation = { checkinSeat: { outcome: CheckinOutcome } };

export type ClientCertificateMutationVariables = Exact<{
  key: string;
  fingerprint?: string | null | undefined;
  ttlSeconds?: number | null | undefined;
}>;


export type ClientCertificateMutation = { issueLicenseCertificate: { certificate: string, expiresAt: string } };

export type ClientBorrowMutationVariables = Exact<{
  key: string;
  fingerprint: string;
  until: string;
}>;


export type ClientBorrowMutation = { borrowSeat: { checkout: { outcome: CheckoutOutcome, detail: string, lease: { id: string, expiresAt: string, borrowedUntil: string | null } | null }, certificate: { certificate: string, expiresAt: string } | null } };

export type ClientAlertsSubscriptionVariables = Exact<{
  after?: string | null | undefined;
  filter?: AlertFilter | null | undefined;
}>;


export type ClientAlertsSubscription = { alertRaised: { id: string, organizationId: string, licenseId: string, kind: AlertKind, severity: AlertSeverity, metric: UsageMetric | null, threshold: number | null, value: number | null, limit: number | null, message: string, raisedAt: string, recommendationId: string | null } };
