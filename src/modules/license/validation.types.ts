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

registerEnums({ ValidationCheckKind, CheckOutcome, ValidationCode });

@ObjectType({ simpleResolvers: true, description: 'One check that validation ran, with its outcome.' })
export class ValidationCheck {
  @Field(() => ValidationCheckKind)
  check!: ValidationCheckKind;

  @Field(() => CheckOutcome)
  outcome!: CheckOutcome;

  @Field(() => ValidationCode)
  code!: ValidationCode;

  @Field(() => String, { description: 'A readable explanation.' })
  detail!: string;
}

@ObjectType({ simpleResolvers: true, description: 'What a client application may know of the license its key opens.' })
export class ValidatedLicense {
  @Field(() => ID)
  id!: string;

  @Field(() => LicenseType)
  type!: LicenseType;

  @Field(() => LicenseStatus)
  status!: LicenseStatus;

  @Field(() => Date, { nullable: true })
  expiresAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When access ends after expiry, grace period included.' })
  graceEndsAt!: Date | null;
}

/** What a validation answers, of the whole license or of one feature: a code, and each check it ran. */
@ObjectType({ simpleResolvers: true })
abstract class CheckedResult {
  @Field(() => ValidationCode)
  code!: ValidationCode;

  @Field(() => [ValidationCheck])
  checks!: ValidationCheck[];
}

@ObjectType({ simpleResolvers: true, description: 'Every check validation ran, and the verdict.' })
export class ValidationResult extends CheckedResult {
  @Field(() => Boolean, { description: 'True when no check failed (warnings allowed).' })
  valid!: boolean;

  @Field(() => ValidationCode, { description: 'The first failure, else the first warning, else VALID.' })
  override code!: ValidationCode;

  @Field(() => ValidatedLicense)
  license!: ValidatedLicense;

  @Field(() => Date)
  validatedAt!: Date;
}

@ObjectType({ simpleResolvers: true, description: 'Whether a feature may be used now under a license.' })
export class FeatureCheckResult extends CheckedResult {
  @Field(() => Boolean)
  allowed!: boolean;

  @Field(() => String)
  feature!: string;
}
