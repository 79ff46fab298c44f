/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
export type AlertFilter = {
  acknowledged?: boolean | null | undefined;
  kind?: AlertKind | null | undefined;
  licenseId?: string | null | undefined;
  organizationId?: string | null | undefined;
  severity?: AlertSeverity | null | undefined;
};

export type AlertKind =
  | 'DENIALS'
  | 'EXPIRY_NOTICE'
  | 'GRACE_PERIOD_STARTED'
  | 'LICENSE_EXPIRED'
  | 'LICENSE_MIGRATED'
  | 'LICENSE_RENEWED'
  | 'RECOMMENDATION'
  | 'THRESHOLD';

export type AlertSeverity =
  | 'CRITICAL'
  | 'INFO'
  | 'WARNING';

export type CheckOutcome =
  | 'FAIL'
  | 'PASS'
  | 'WARN';

export type CheckinOutcome =
  | 'ALREADY_RELEASED'
  | 'RELEASED';

export type CheckoutOutcome =
  | 'GRANTED'
  | 'LICENSE_EXPIRED'
  | 'LICENSE_INACTIVE'
  | 'NO_SEAT_AVAILABLE';

export type HeartbeatOutcome =
  | 'EXTENDED'
  | 'LEASE_ENDED';

export type UsageMetric =
  | 'ACTIVE_USERS'
  | 'API_CALLS'
  | 'CONCURRENT_SESSIONS'
  | 'STORAGE_BYTES';

export type ValidationCheckKind =
  | 'CLOCK'
  | 'FEATURE'
  | 'LEASE'
  | 'SEAT'
  | 'SITE'
  | 'STATUS'
  | 'TERM';

export type ValidationCode =
  | 'ACTIVE'
  | 'CLOCK_DRIFT'
  | 'CLOCK_IN_SYNC'
  | 'CLOCK_TAMPERING'
  | 'EXPIRED'
  | 'FEATURE_ENTITLED'
  | 'FEATURE_NOT_ENTITLED'
  | 'FEATURE_UNKNOWN'
  | 'IN_GRACE_PERIOD'
  | 'LEASE_ACTIVE'
  | 'NOT_YET_VALID'
  | 'NO_ACTIVE_LEASE'
  | 'NO_SEAT_ASSIGNED'
  | 'REVOKED'
  | 'SEAT_ASSIGNED'
  | 'SITE_MATCHED'
  | 'SITE_MISMATCH'
  | 'SITE_REQUIRED'
  | 'SUSPENDED'
  | 'USER_LIMIT_EXCEEDED'
  | 'USER_REQUIRED'
  | 'VALID'
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
