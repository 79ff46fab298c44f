import { Field, ID, ObjectType } from 'type-graphql';
import { registerEnums } from '../../kernel/register-enums';
import { LicenseStatus, LicenseType } from '../../kernel/license.enums';

/** A check that validation runs. */
export enum ValidationCheckKind {
  /** The license's status: active, suspended, expired or revoked. */
  STATUS = 'STATUS',
  /** The term: started, not ended, or within its grace period. */
  TERM = 'TERM',
  /** A named user holds a seat (USER licenses). */
  SEAT = 'SEAT',
  /** A machine fingerprint holds a live lease (CONCURRENT licenses). */
  LEASE = 'LEASE',
  /** The license entitles a feature. */
  FEATURE = 'FEATURE',
  /** The client is within the site (SITE licenses). */
  SITE = 'SITE',
  /** The client's clock against the server's, when the client sends it. */
  CLOCK = 'CLOCK',
}

export enum CheckOutcome {
  PASS = 'PASS',
  /** Passes, with something the client should know (a grace period, a drifting clock). */
  WARN = 'WARN',
  FAIL = 'FAIL',
}

/** Stable codes of validation and of each check. */
export enum ValidationCode {
  VALID = 'VALID',
  ACTIVE = 'ACTIVE',
  SUSPENDED = 'SUSPENDED',
  REVOKED = 'REVOKED',
  EXPIRED = 'EXPIRED',
  NOT_YET_VALID = 'NOT_YET_VALID',
  WITHIN_TERM = 'WITHIN_TERM',
  IN_GRACE_PERIOD = 'IN_GRACE_PERIOD',
  SEAT_ASSIGNED = 'SEAT_ASSIGNED',
  /** The user's seat is past the license's user limit: a warning within the overage policy, else a failure. */
  USER_LIMIT_EXCEEDED = 'USER_LIMIT_EXCEEDED',
  NO_SEAT_ASSIGNED = 'NO_SEAT_ASSIGNED',
  USER_REQUIRED = 'USER_REQUIRED',
  LEASE_ACTIVE = 'LEASE_ACTIVE',
  NO_ACTIVE_LEASE = 'NO_ACTIVE_LEASE',
  FEATURE_ENTITLED = 'FEATURE_ENTITLED',
  FEATURE_NOT_ENTITLED = 'FEATURE_NOT_ENTITLED',
  FEATURE_UNKNOWN = 'FEATURE_UNKNOWN',
  SITE_MATCHED = 'SITE_MATCHED',
  SITE_MISMATCH = 'SITE_MISMATCH',
  SITE_REQUIRED = 'SITE_REQUIRED',
  /** Within 5 minutes of the server's clock. */
  CLOCK_IN_SYNC = 'CLOCK_IN_SYNC',
  /** More than 5 minutes off: a warning. */
  CLOCK_DRIFT = 'CLOCK_DRIFT',
  /** More than 24 hours off, or gone backwards since the last heartbeat: a failure, recorded as a violation. */
  CLOCK_TAMPERING = 'CLOCK_TAMPERING',
}

registerEnums(
  { ValidationCheckKind, CheckOutcome, ValidationCode },
  {
    ValidationCheckKind: {
      description: 'A check that validation runs; which ones run depends on the license type and on what the client sent.',
      values: {
        STATUS: "The license's status: active, suspended, expired or revoked.",
        TERM: 'The term: started, not ended, or within its grace period.',
        SEAT: 'The named `user` holds a seat (USER licenses).',
        LEASE: 'The `fingerprint` holds a live lease (CONCURRENT licenses, when a fingerprint is sent).',
        FEATURE: 'The license entitles the `feature` asked for.',
        SITE: 'The client is within the site (SITE licenses).',
        CLOCK: "The client's clock against the server's (when `clientTime` is sent).",
      },
    },
    CheckOutcome: {
      description: 'How one check came out.',
      values: {
        PASS: 'Passed.',
        WARN: 'Passed, with something the client should know (a grace period, a drifting clock, an allowed overage).',
        FAIL: 'Failed: the license is not valid for this request.',
      },
    },
    ValidationCode: {
      description: 'Stable codes of a validation and of each of its checks; clients branch on these, never on `detail`.',
      values: {
        VALID: 'Every check passed.',
        ACTIVE: 'STATUS passed: the license is active.',
        SUSPENDED: 'STATUS failed: the license is suspended.',
        REVOKED: 'STATUS failed: the license was revoked.',
        EXPIRED: 'STATUS or TERM failed: the term and its grace period are over.',
        NOT_YET_VALID: 'TERM failed: the term has not started.',
        WITHIN_TERM: 'TERM passed: within the term, or the license is perpetual.',
        IN_GRACE_PERIOD: 'TERM warned: the term ended and the grace period still runs; recorded as EXPIRED_USE.',
        SEAT_ASSIGNED: 'SEAT passed: the user holds a seat.',
        USER_LIMIT_EXCEEDED:
          "SEAT warned or failed: the user's seat is past the license's user limit (a warning within the overage policy, else a failure).",
        NO_SEAT_ASSIGNED: 'SEAT failed: the user holds no seat on this license.',
        USER_REQUIRED: 'SEAT failed: a USER license validates for a named user; pass `user`.',
        LEASE_ACTIVE: 'LEASE passed: the fingerprint holds a live lease.',
        NO_ACTIVE_LEASE: 'LEASE failed: the fingerprint holds no live lease; check a seat out.',
        FEATURE_ENTITLED: 'FEATURE passed: a CORE feature, or a PREMIUM one the license entitles.',
        FEATURE_NOT_ENTITLED: 'FEATURE failed: a PREMIUM feature the license does not entitle; recorded as UNLICENSED_FEATURE.',
        FEATURE_UNKNOWN: 'FEATURE failed: the product has no feature with this key.',
        SITE_MATCHED: 'SITE passed: the address or e-mail domain is within the site.',
        SITE_MISMATCH: 'SITE failed: outside the site; recorded as a violation.',
        SITE_REQUIRED: 'SITE failed: a SITE license validates within its site; pass `site` (or an e-mail address as `user`).',
        CLOCK_IN_SYNC: "CLOCK passed: within 5 minutes of the server's clock.",
        CLOCK_DRIFT: 'CLOCK warned: more than 5 minutes off.',
        CLOCK_TAMPERING: 'CLOCK failed: more than 24 hours off, or gone backwards since the last heartbeat; recorded as a violation.',
      },
    },
  },
);

@ObjectType({ simpleResolvers: true, description: 'One check that validation ran, with its outcome.' })
export class ValidationCheck {
  @Field(() => ValidationCheckKind, { description: 'Which check ran; which ones run depends on the license type and the arguments sent.' })
  check!: ValidationCheckKind;

  @Field(() => CheckOutcome, { description: 'Whether it passed, warned or failed.' })
  outcome!: CheckOutcome;

  @Field(() => ValidationCode, { description: 'Its stable code: what clients branch on.' })
  code!: ValidationCode;

  @Field(() => String, { description: 'A readable explanation.' })
  detail!: string;
}

@ObjectType({ simpleResolvers: true, description: 'What a client application may know of the license its key opens.' })
export class ValidatedLicense {
  @Field(() => ID, { description: "The license's id." })
  id!: string;

  @Field(() => LicenseType, { description: 'Its type: which checks apply (a USER license needs `user`, a SITE license `site`).' })
  type!: LicenseType;

  @Field(() => LicenseStatus, { description: 'Its status; only ACTIVE validates.' })
  status!: LicenseStatus;

  @Field(() => Date, { nullable: true, description: 'End of its term; null when perpetual.' })
  expiresAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When access ends after expiry, grace period included.' })
  graceEndsAt!: Date | null;
}

/** What a validation answers, of the whole license or of one feature: a code, and each check it ran. */
@ObjectType({ simpleResolvers: true })
abstract class CheckedResult {
  @Field(() => ValidationCode, { description: 'The first failure, else the first warning, else VALID.' })
  code!: ValidationCode;

  @Field(() => [ValidationCheck], { description: 'Every check that ran, in order, with its outcome.' })
  checks!: ValidationCheck[];
}

@ObjectType({ simpleResolvers: true, description: 'Every check validation ran, and the verdict.' })
export class ValidationResult extends CheckedResult {
  @Field(() => Boolean, { description: 'True when no check failed (warnings allowed).' })
  valid!: boolean;

  @Field(() => ValidationCode, { description: 'The first failure, else the first warning, else VALID.' })
  override code!: ValidationCode;

  @Field(() => ValidatedLicense, { description: 'What the client may know of the license its key opens.' })
  license!: ValidatedLicense;

  @Field(() => Date, { description: "The server's time of the validation, to compare clocks with." })
  validatedAt!: Date;
}

@ObjectType({ simpleResolvers: true, description: 'Whether a feature may be used now under a license.' })
export class FeatureCheckResult extends CheckedResult {
  @Field(() => Boolean, { description: 'True when the feature may be used now (the license valid, the feature CORE or entitled).' })
  allowed!: boolean;

  @Field(() => String, { description: 'The feature key that was asked about.' })
  feature!: string;
}
