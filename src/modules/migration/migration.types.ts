import { ArrayMaxSize, IsIn, Length, ValidateNested } from 'class-validator';
import { SafeIntResolver } from 'graphql-scalars';
import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { AlertKind } from '../alert/alert.types';
import { LicenseLimits, LimitsInput, Overage, OverageInput } from '../catalog/terms.types';
import { ViolationKind, ViolationSeverity } from '../../kernel/compliance.enums';
import { LicenseType } from '../../kernel/license.enums';
import { LicenseRecordNode } from '../license/license-record.types';
import { SiteIdentifiersNode, SiteInput } from '../license/license.types';
import { UsageMetric } from '../usage/usage.types';
import { ConflictStrategy, MigrationEffective, MigrationOutcome, MigrationStatus, MigrationWarningCode, SeatFate } from './migration.enums';

@InputType({
  description:
    'Where to move a license: a plan (its type, limits, overage policy and features), and/or explicit type, limits, overage, features and site; what is not given stays as the plan (or the license) has it.',
})
export class MigrationTargetInput {
  @Field(() => ID, { nullable: true })
  planId?: string | null;

  @Field(() => LicenseType, { nullable: true })
  @IsIn(Object.values(LicenseType))
  type?: LicenseType | null;

  @Field(() => LimitsInput, {
    nullable: true,
    description:
      'Each limit given replaces the one it would have; null removes it, except the one a USER (namedUsers) or CONCURRENT (concurrentSessions) license counts. Those two apply to their type only: on a type change the old one is dropped.',
  })
  @ValidateNested()
  limits?: LimitsInput | null;

  @Field(() => OverageInput, { nullable: true })
  @ValidateNested()
  overage?: OverageInput | null;

  @Field(() => [String], { nullable: true, description: 'The entitled feature keys, instead of the plan’s (or the license’s).' })
  @ArrayMaxSize(500)
  @Length(1, 100, { each: true })
  featureKeys?: string[] | null;

  @Field(() => SiteInput, { nullable: true, description: 'Required when moving to SITE.' })
  @ValidateNested()
  site?: SiteInput | null;
}

@InputType({ description: 'What to do with what is over the new limits.' })
export class ConflictInput {
  @Field(() => ConflictStrategy)
  strategy!: ConflictStrategy;

  @Field(() => Date, { nullable: true, description: 'ALLOW_OVERAGE_UNTIL: by when the overage must clear, else its violation escalates.' })
  until?: Date | null;
}

@ObjectType({ simpleResolvers: true, description: 'What a license is allowed, before or after a migration.' })
export class MigrationTerms {
  @Field(() => ID)
  planId!: string;

  @Field(() => String, { nullable: true, description: 'The name of the plan (null on migrations recorded before it was kept).' })
  planName!: string | null;

  @Field(() => LicenseType)
  type!: LicenseType;

  @Field(() => LicenseLimits)
  limits!: LicenseLimits;

  @Field(() => Overage)
  overage!: Overage;

  @Field(() => [String])
  features!: string[];

  @Field(() => SiteIdentifiersNode)
  site!: SiteIdentifiersNode;
}

@ObjectType({ simpleResolvers: true })
export class LimitChange {
  @Field(() => UsageMetric)
  metric!: UsageMetric;

  @Field(() => SafeIntResolver, { nullable: true })
  before!: number | null;

  @Field(() => SafeIntResolver, { nullable: true })
  after!: number | null;

  @Field(() => SafeIntResolver, { description: 'What the license uses now (named users and sessions as the new type counts them).' })
  used!: number;

  @Field(() => SafeIntResolver, { description: 'How much of it is over the new limit.' })
  over!: number;

  @Field(() => SafeIntResolver, { description: 'What the license uses once the migration is applied (after what it frees).' })
  usedAfter!: number;
}

@ObjectType({ simpleResolvers: true, description: 'A named seat a migration releases.' })
export class SeatChange {
  @Field(() => ID)
  seatId!: string;

  @Field(() => String)
  userId!: string;

  @Field(() => Date, { description: "When its user was last active (or the seat's assignment, if never)." })
  lastActiveAt!: Date;

  @Field(() => SeatFate)
  fate!: SeatFate;
}

@ObjectType({ simpleResolvers: true, description: 'A live lease a migration ends.' })
export class LeaseChange {
  @Field(() => ID)
  leaseId!: string;

  @Field(() => String)
  fingerprint!: string;

  @Field(() => String, { nullable: true })
  userId!: string | null;

  @Field(() => Date)
  lastHeartbeatAt!: Date;

  @Field(() => SeatFate)
  fate!: SeatFate;
}

@ObjectType({ simpleResolvers: true, description: 'A violation a migration opens (or counts on, when one is open already).' })
export class PlannedViolation {
  @Field(() => ViolationKind)
  kind!: ViolationKind;

  @Field(() => UsageMetric)
  metric!: UsageMetric;

  @Field(() => SafeIntResolver)
  value!: number;

  @Field(() => SafeIntResolver)
  limit!: number;

  @Field(() => ViolationSeverity)
  severity!: ViolationSeverity;

  @Field(() => Date, { nullable: true, description: 'ALLOW_OVERAGE_UNTIL: it must clear by then, else it escalates.' })
  deadline!: Date | null;

  @Field(() => ID, { nullable: true, description: 'The violation of this kind open already, which counts one more occurrence.' })
  existingViolationId!: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'An alert a migration raises.' })
export class PlannedAlert {
  @Field(() => AlertKind)
  kind!: AlertKind;

  @Field(() => UsageMetric, { nullable: true })
  metric!: UsageMetric | null;

  @Field(() => Int, { nullable: true })
  threshold!: number | null;

  @Field(() => SafeIntResolver, { nullable: true })
  value!: number | null;

  @Field(() => SafeIntResolver, { nullable: true })
  limit!: number | null;
}

@ObjectType({
  simpleResolvers: true,
  description: 'Prices per term from the plans, in minor units (cents), and the proration of a change now.',
})
export class MigrationPrice {
  @Field(() => String, { deprecationReason: 'Use currencyBefore and currencyAfter: this is currencyAfter.' })
  currency!: string;

  @Field(() => String, { description: 'The currency of perPeriodBefore: the plan the license is on.' })
  currencyBefore!: string;

  @Field(() => String, { description: 'The currency of perPeriodAfter, and of the difference and proration when there are.' })
  currencyAfter!: string;

  @Field(() => Int, {
    nullable: true,
    description: 'The length of the license’s term, in days (rounded): the period the prices are for. Null when perpetual.',
  })
  termDays!: number | null;

  @Field(() => SafeIntResolver, {
    nullable: true,
    description: 'Per term, in currencyBefore: price per period + price per seat × seats (users or sessions).',
  })
  perPeriodBefore!: number | null;

  @Field(() => SafeIntResolver, { nullable: true, description: 'Per term, in currencyAfter.' })
  perPeriodAfter!: number | null;

  @Field(() => SafeIntResolver, { nullable: true, description: 'After − before; null when a price is missing or the currencies differ.' })
  differencePerPeriod!: number | null;

  @Field(() => SafeIntResolver, {
    nullable: true,
    description:
      'The difference for the rest of the license’s time (negative: a credit), the term’s length being one period, rounded half away from zero; 0 at renewal.',
  })
  prorationCents!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'The time left when it takes effect, in terms: above 1 when the license was renewed ahead.',
  })
  remainingFraction!: number | null;
}

@ObjectType({ simpleResolvers: true, description: 'Something a migration does that an administrator should know before applying it.' })
export class MigrationWarning {
  @Field(() => MigrationWarningCode)
  code!: MigrationWarningCode;

  @Field(() => UsageMetric, { nullable: true })
  metric!: UsageMetric | null;

  @Field(() => String)
  message!: string;

  @Field(() => [String], { description: 'USERS_FAIL_VALIDATION: the named users whose validations will fail.' })
  userIds!: string[];
}

@ObjectType({ simpleResolvers: true, description: 'Exactly what migrating a license would do: applying it does this and nothing else.' })
export class MigrationPreview {
  @Field(() => ID)
  licenseId!: string;

  @Field(() => MigrationEffective)
  effective!: MigrationEffective;

  @Field(() => ConflictStrategy)
  strategy!: ConflictStrategy;

  @Field(() => Date, { nullable: true })
  overageUntil!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it takes effect: now, or the end of the current term.' })
  effectiveAt!: Date | null;

  @Field(() => MigrationOutcome, { description: 'What migrateLicense with this strategy would answer.' })
  outcome!: MigrationOutcome;

  @Field(() => MigrationTerms)
  from!: MigrationTerms;

  @Field(() => MigrationTerms)
  to!: MigrationTerms;

  @Field(() => [String])
  featuresGained!: string[];

  @Field(() => [String])
  featuresLost!: string[];

  @Field(() => [LimitChange])
  limits!: LimitChange[];

  @Field(() => Boolean, { description: 'Something is over the new limits (REJECT refuses).' })
  conflicts!: boolean;

  @Field(() => [SeatChange], { description: 'Named seats released, least recently active first.' })
  seatsReleased!: SeatChange[];

  @Field(() => [String], { description: 'Users of leases given named seats (CONCURRENT → USER), most recently active first.' })
  seatsAssigned!: string[];

  @Field(() => [LeaseChange], { description: 'Live leases ended, oldest heartbeat first.' })
  leasesEnded!: LeaseChange[];

  @Field(() => [PlannedViolation])
  violationsOpened!: PlannedViolation[];

  @Field(() => [ID], { description: 'Open overage violations the new limits clear.' })
  violationsResolved!: string[];

  @Field(() => [PlannedAlert])
  alerts!: PlannedAlert[];

  @Field(() => [MigrationWarning], { description: 'What applying it does that may surprise: limits dropped, usage refused after.' })
  warnings!: MigrationWarning[];

  @Field(() => MigrationPrice)
  price!: MigrationPrice;

  @Field(() => String, { description: 'The change in words, plans by name: what its LICENSE_MIGRATED alert says.' })
  summary!: string;
}

@ObjectType('LicenseMigration', {
  simpleResolvers: true,
  description: 'A migration of a license, applied, waiting for renewal, or cancelled.',
})
export class LicenseMigrationNode extends LicenseRecordNode {
  @Field(() => MigrationStatus)
  status!: MigrationStatus;

  @Field(() => MigrationEffective)
  effective!: MigrationEffective;

  @Field(() => ConflictStrategy)
  strategy!: ConflictStrategy;

  @Field(() => Date, { nullable: true })
  overageUntil!: Date | null;

  @Field(() => MigrationTerms)
  from!: MigrationTerms;

  @Field(() => MigrationTerms, { nullable: true, description: 'The terms it applied (null while it waits).' })
  to!: MigrationTerms | null;

  @Field(() => Date, { nullable: true, description: 'AT_RENEWAL: the end of the term whose renewal applies it.' })
  dueTermEndsAt!: Date | null;

  @Field(() => Date)
  requestedAt!: Date;

  @Field(() => String)
  requestedBy!: string;

  @Field(() => Date, { nullable: true })
  appliedAt!: Date | null;

  @Field(() => String, { nullable: true })
  appliedBy!: string | null;

  @Field(() => Date, { nullable: true })
  cancelledAt!: Date | null;

  @Field(() => String, { nullable: true })
  cancelledBy!: string | null;

  @Field(() => MigrationPreview, { nullable: true, description: 'What it did (applied or refused), as its preview said it would.' })
  outcome!: MigrationPreview | null;

  @Field(() => String, { nullable: true })
  detail!: string | null;
}

@ObjectType({ simpleResolvers: true })
export class MigrateLicenseResult {
  @Field(() => MigrationOutcome)
  outcome!: MigrationOutcome;

  @Field(() => MigrationPreview, { description: 'What it did, or (SCHEDULED) what it would do with today’s usage, or (REJECTED) why not.' })
  preview!: MigrationPreview;

  @Field(() => LicenseMigrationNode, {
    nullable: true,
    description: 'The migration kept on the license; null when rejected (nothing is kept).',
  })
  migration!: LicenseMigrationNode | null;
}
