import type { Actor } from '../../auth/principal';

/**
 * Every action the audit log records, by the name its events carry (`object.verb`): the audit log's vocabulary,
 * in one place, so that an action is never misspelled and a reader finds every kind of change here.
 */
export enum AuditAction {
  ALERT_ACKNOWLEDGE = 'alert.acknowledge',
  ALERT_RULE_SET = 'alertRule.set',
  ALERT_RULE_CLEAR = 'alertRule.clear',
  API_TOKEN_CREATE = 'apiToken.create',
  API_TOKEN_REVOKE = 'apiToken.revoke',
  CERTIFICATE_ISSUE = 'certificate.issue',
  FEATURE_CREATE = 'feature.create',
  LEASE_CHECKOUT = 'lease.checkout',
  LEASE_CHECKOUT_REUSED = 'lease.checkout.reused',
  LEASE_EXPIRE = 'lease.expire',
  LEASE_HEARTBEAT = 'lease.heartbeat',
  LEASE_CHECKIN = 'lease.checkin',
  LEASE_END = 'lease.end',
  LICENSE_EXPIRE = 'license.expire',
  LICENSE_ISSUE = 'license.issue',
  LICENSE_MIGRATE = 'license.migrate',
  LICENSE_RENEW = 'license.renew',
  LICENSE_SUSPEND = 'license.suspend',
  LICENSE_REVOKE = 'license.revoke',
  LICENSE_REGENERATE_KEY = 'license.regenerateKey',
  LICENSE_RESUME = 'license.resume',
  LICENSE_RAISE_LIMIT = 'license.raiseLimit',
  LICENSE_SET_AUTO_RENEW = 'license.setAutoRenew',
  LICENSE_MIGRATION_CANCEL = 'licenseMigration.cancel',
  LICENSE_MIGRATION_REJECT = 'licenseMigration.reject',
  LICENSE_MIGRATION_SCHEDULE = 'licenseMigration.schedule',
  ORGANIZATION_CREATE = 'organization.create',
  ORGANIZATION_UPDATE = 'organization.update',
  PLAN_CREATE = 'plan.create',
  PRODUCT_CREATE = 'product.create',
  RECOMMENDATION_DISMISS = 'recommendation.dismiss',
  RECOMMENDATION_SETTINGS_SET = 'recommendationSettings.set',
  SEAT_ASSIGN = 'seat.assign',
  SIGNING_KEY_ROTATE = 'signingKey.rotate',
  SEAT_RELEASE = 'seat.release',
  USAGE_RECORD = 'usage.record',
  VIOLATION_OPEN = 'violation.open',
  VIOLATION_ACKNOWLEDGE = 'violation.acknowledge',
  VIOLATION_RESOLVE = 'violation.resolve',
  VIOLATION_WAIVE = 'violation.waive',
  VIOLATION_REOPEN = 'violation.reopen',
  VIOLATION_REMEDIATE = 'violation.remediate',
  VIOLATION_ESCALATE = 'violation.escalate',
}

/** The kind of object each action changes: an event's `objectType` follows from its action. */
interface ObjectOf {
  [AuditAction.ALERT_ACKNOWLEDGE]: 'Alert';
  // A rule belongs to the license or the plan it watches.
  [AuditAction.ALERT_RULE_SET]: 'License' | 'Plan';
  [AuditAction.ALERT_RULE_CLEAR]: 'License' | 'Plan';
  [AuditAction.API_TOKEN_CREATE]: 'ApiToken';
  [AuditAction.API_TOKEN_REVOKE]: 'ApiToken';
  // A certificate is of a license: it is the license's event.
  [AuditAction.CERTIFICATE_ISSUE]: 'License';
  [AuditAction.FEATURE_CREATE]: 'Feature';
  [AuditAction.LEASE_CHECKOUT]: 'Lease';
  [AuditAction.LEASE_CHECKOUT_REUSED]: 'Lease';
  [AuditAction.LEASE_EXPIRE]: 'Lease';
  [AuditAction.LEASE_HEARTBEAT]: 'Lease';
  [AuditAction.LEASE_CHECKIN]: 'Lease';
  [AuditAction.LEASE_END]: 'Lease';
  [AuditAction.LICENSE_EXPIRE]: 'License';
  [AuditAction.LICENSE_ISSUE]: 'License';
  [AuditAction.LICENSE_MIGRATE]: 'License';
  [AuditAction.LICENSE_RENEW]: 'License';
  [AuditAction.LICENSE_SUSPEND]: 'License';
  [AuditAction.LICENSE_REVOKE]: 'License';
  [AuditAction.LICENSE_REGENERATE_KEY]: 'License';
  [AuditAction.LICENSE_RESUME]: 'License';
  [AuditAction.LICENSE_RAISE_LIMIT]: 'License';
  [AuditAction.LICENSE_SET_AUTO_RENEW]: 'License';
  [AuditAction.LICENSE_MIGRATION_CANCEL]: 'LicenseMigration';
  [AuditAction.LICENSE_MIGRATION_REJECT]: 'LicenseMigration';
  [AuditAction.LICENSE_MIGRATION_SCHEDULE]: 'LicenseMigration';
  [AuditAction.ORGANIZATION_CREATE]: 'Organization';
  [AuditAction.ORGANIZATION_UPDATE]: 'Organization';
  [AuditAction.PLAN_CREATE]: 'Plan';
  [AuditAction.PRODUCT_CREATE]: 'Product';
  [AuditAction.RECOMMENDATION_DISMISS]: 'Recommendation';
  [AuditAction.RECOMMENDATION_SETTINGS_SET]: 'Organization';
  [AuditAction.SEAT_ASSIGN]: 'Seat';
  [AuditAction.SIGNING_KEY_ROTATE]: 'SigningKey';
  [AuditAction.SEAT_RELEASE]: 'Seat';
  [AuditAction.USAGE_RECORD]: 'License';
  [AuditAction.VIOLATION_OPEN]: 'Violation';
  [AuditAction.VIOLATION_ACKNOWLEDGE]: 'Violation';
  [AuditAction.VIOLATION_RESOLVE]: 'Violation';
  [AuditAction.VIOLATION_WAIVE]: 'Violation';
  [AuditAction.VIOLATION_REOPEN]: 'Violation';
  [AuditAction.VIOLATION_REMEDIATE]: 'Violation';
  [AuditAction.VIOLATION_ESCALATE]: 'Violation';
}

/** The kinds of object the audit log speaks of. */
export type AuditedObject = ObjectOf[AuditAction];

/** The actions that change an object of kind `T`. */
export type ActionOn<T extends AuditedObject> = { [A in AuditAction]: T extends ObjectOf[A] ? A : never }[AuditAction];

/**
 * One change to record, keyed by its action: what was done to which object, with its state before and after. The
 * union has one member an action (an action missing from `ObjectOf` does not compile), and the object's kind is the
 * one the action changes.
 */
export type AuditEntry = {
  [A in AuditAction]: {
    action: A;
    objectType: ObjectOf[A];
    objectId: string;
    organizationId: string | null;
    before?: object | null;
    after?: object | null;
  };
}[AuditAction];

/** A change as the audit log records it: the entry, who made it, in which request, and when. */
export type AuditRecord = AuditEntry & { actor: Actor; requestId: string | null; at: Date };
