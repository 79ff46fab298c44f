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
  @Field(() => ID, { nullable: true, description: 'The plan to move to; omitted, the license stays on its plan.' })
  planId?: string | null;

  @Field(() => LicenseType, { nullable: true, description: "The license type to move to; defaults to the plan's (or the license's)." })
  @IsIn(Object.values(LicenseType))
  type?: LicenseType | null;

  @Field(() => LimitsInput, {
    nullable: true,
    description:
      'Each limit given replaces the one it would have; null removes it, except the one a USER (namedUsers) or CONCURRENT (concurrentSessions) license counts. Those two apply to their type only: on a type change the old one is dropped.',
  })
  @ValidateNested()
  limits?: LimitsInput | null;

  @Field(() => OverageInput, { nullable: true, description: "The overage policy to move to; defaults to the plan's (or the license's)." })
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
  @Field(() => ConflictStrategy, { description: 'What to do with what is over.' })
  strategy!: ConflictStrategy;

  @Field(() => Date, { nullable: true, description: 'ALLOW_OVERAGE_UNTIL: by when the overage must clear, else its violation escalates.' })
  until?: Date | null;
}

@ObjectType({ simpleResolvers: true, description: 'What a license is allowed, before or after a migration.' })
export class MigrationTerms {
  @Field(() => ID, { description: 'The plan the license is on (or would be on).' })
  planId!: string;

  @Field(() => String, { nullable: true, description: 'The name of the plan (null on migrations recorded before it was kept).' })
  planName!: string | null;

  @Field(() => LicenseType, { description: 'The license type: which limits and checks apply.' })
  type!: LicenseType;

  @Field(() => LicenseLimits, { description: 'The limits; a null limit does not apply.' })
  limits!: LicenseLimits;

  @Field(() => Overage, { description: 'What happens when usage reaches a limit.' })
  overage!: Overage;

  @Field(() => [String], { description: 'The entitled feature keys.' })
  features!: string[];

  @Field(() => SiteIdentifiersNode, { description: 'The site (SITE licenses).' })
  site!: SiteIdentifiersNode;
}

@ObjectType({ simpleResolvers: true, description: 'One limit before and after a migration, against what the license uses.' })
export class LimitChange {
  @Field(() => UsageMetric, { description: 'The metric the limit is on.' })
  metric!: UsageMetric;

  @Field(() => SafeIntResolver, { nullable: true, description: 'The limit now; null when none.' })
  before!: number | null;

  @Field(() => SafeIntResolver, { nullable: true, description: 'The limit after the migration; null when none.' })
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
  @Field(() => ID, { description: "The seat's id." })
  seatId!: string;

  @Field(() => String, { description: 'The user holding it.' })
  userId!: string;

  @Field(() => Date, { description: "When its user was last active (or the seat's assignment, if never)." })
  lastActiveAt!: Date;

  @Field(() => SeatFate, { description: 'Why it is released.' })
  fate!: SeatFate;
}

@ObjectType({ simpleResolvers: true, description: 'A live lease a migration ends.' })
export class LeaseChange {
  @Field(() => ID, { description: "The lease's id." })
  leaseId!: string;

  @Field(() => String, { description: 'The machine holding it.' })
  fingerprint!: string;

  @Field(() => String, { nullable: true, description: 'The user named at checkout; null when none.' })
  userId!: string | null;

  @Field(() => Date, { description: 'When its client last sent a heartbeat.' })
  lastHeartbeatAt!: Date;

  @Field(() => SeatFate, { description: 'Why it ends.' })
  fate!: SeatFate;
}

@ObjectType({ simpleResolvers: true, description: 'A violation a migration opens (or counts on, when one is open already).' })
export class PlannedViolation {
  @Field(() => ViolationKind, { description: 'The kind of overage.' })
  kind!: ViolationKind;

  @Field(() => UsageMetric, { description: 'The metric over its new limit.' })
  metric!: UsageMetric;

  @Field(() => SafeIntResolver, { description: 'What the license uses of it, kept.' })
  value!: number;

  @Field(() => SafeIntResolver, { description: 'The new limit.' })
  limit!: number;

  @Field(() => ViolationSeverity, { description: 'Its severity, by how far over the limit it is.' })
  severity!: ViolationSeverity;

  @Field(() => Date, { nullable: true, description: 'ALLOW_OVERAGE_UNTIL: it must clear by then, else it escalates.' })
  deadline!: Date | null;

  @Field(() => ID, { nullable: true, description: 'The violation of this kind open already, which counts one more occurrence.' })
  existingViolationId!: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'An alert a migration raises.' })
export class PlannedAlert {
  @Field(() => AlertKind, { description: 'The kind of alert.' })
  kind!: AlertKind;

  @Field(() => UsageMetric, { nullable: true, description: 'THRESHOLD: the metric; null for others.' })
  metric!: UsageMetric | null;

  @Field(() => Int, { nullable: true, description: 'THRESHOLD: the threshold crossed, in percent of the new limit.' })
  threshold!: number | null;

  @Field(() => SafeIntResolver, { nullable: true, description: 'THRESHOLD: what the license uses of the metric.' })
  value!: number | null;

  @Field(() => SafeIntResolver, { nullable: true, description: 'THRESHOLD: the new limit.' })
  limit!: number | null;
}

@ObjectType({
  simpleResolvers: true,
  description: 'Prices per term from the plans, in minor units (cents), and the proration of a change now.',
})
export class MigrationPrice {
  @Field(() => String, {
    deprecationReason: 'Use currencyBefore and currencyAfter: this is currencyAfter.',
    description: 'The currency of the plan moved to.',
  })
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
  @Field(() => MigrationWarningCode, { description: 'Its stable code: what clients branch on.' })
  code!: MigrationWarningCode;

  @Field(() => UsageMetric, { nullable: true, description: 'The metric concerned; null when none.' })
  metric!: UsageMetric | null;

  @Field(() => String, { description: 'A readable explanation.' })
  message!: string;

  @Field(() => [String], { description: 'USERS_FAIL_VALIDATION: the named users whose validations will fail.' })
  userIds!: string[];
}

@ObjectType({ simpleResolvers: true, description: 'Exactly what migrating a license would do: applying it does this and nothing else.' })
export class MigrationPreview {
  @Field(() => ID, { description: 'The license to migrate.' })
  licenseId!: string;

  @Field(() => MigrationEffective, { description: 'When it would take effect.' })
  effective!: MigrationEffective;

  @Field(() => ConflictStrategy, { description: 'What it would do with what is over the new limits.' })
  strategy!: ConflictStrategy;

  @Field(() => Date, { nullable: true, description: 'ALLOW_OVERAGE_UNTIL: by when the overage must clear.' })
  overageUntil!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it takes effect: now, or the end of the current term.' })
  effectiveAt!: Date | null;

  @Field(() => MigrationOutcome, { description: 'What migrateLicense with this strategy would answer.' })
  outcome!: MigrationOutcome;

  @Field(() => MigrationTerms, { description: 'The terms now.' })
  from!: MigrationTerms;

  @Field(() => MigrationTerms, { description: 'The terms after.' })
  to!: MigrationTerms;

  @Field(() => [String], { description: 'Feature keys entitled after and not now.' })
  featuresGained!: string[];

  @Field(() => [String], { description: 'Feature keys entitled now and not after.' })
  featuresLost!: string[];

  @Field(() => [LimitChange], { description: 'Each limit before and after, against what the license uses.' })
  limits!: LimitChange[];

  @Field(() => Boolean, { description: 'Something is over the new limits (REJECT refuses).' })
  conflicts!: boolean;

  @Field(() => [SeatChange], { description: 'Named seats released, least recently active first.' })
  seatsReleased!: SeatChange[];

  @Field(() => [String], { description: 'Users of leases given named seats (CONCURRENT → USER), most recently active first.' })
  seatsAssigned!: string[];

  @Field(() => [LeaseChange], { description: 'Live leases ended, oldest heartbeat first.' })
  leasesEnded!: LeaseChange[];

  @Field(() => [PlannedViolation], { description: 'Overage violations it would open, or count on when one is open already.' })
  violationsOpened!: PlannedViolation[];

  @Field(() => [ID], { description: 'Open overage violations the new limits clear.' })
  violationsResolved!: string[];

  @Field(() => [PlannedAlert], { description: 'Alerts it would raise: LICENSE_MIGRATED, and thresholds the new limits cross.' })
  alerts!: PlannedAlert[];

  @Field(() => [MigrationWarning], { description: 'What applying it does that may surprise: limits dropped, usage refused after.' })
  warnings!: MigrationWarning[];

  @Field(() => MigrationPrice, { description: 'Prices before and after, and the proration.' })
  price!: MigrationPrice;

  @Field(() => String, { description: 'The change in words, plans by name: what its LICENSE_MIGRATED alert says.' })
  summary!: string;
}

@ObjectType('LicenseMigration', {
  simpleResolvers: true,
  description: 'A migration of a license, applied, waiting for renewal, or cancelled.',
})
export class LicenseMigrationNode extends LicenseRecordNode {
  @Field(() => MigrationStatus, { description: 'Where it stands.' })
  status!: MigrationStatus;

  @Field(() => MigrationEffective, { description: 'When it takes effect.' })
  effective!: MigrationEffective;

  @Field(() => ConflictStrategy, { description: 'What it does with what is over the new limits.' })
  strategy!: ConflictStrategy;

  @Field(() => Date, { nullable: true, description: 'ALLOW_OVERAGE_UNTIL: by when the overage must clear.' })
  overageUntil!: Date | null;

  @Field(() => MigrationTerms, { description: 'The terms before it.' })
  from!: MigrationTerms;

  @Field(() => MigrationTerms, { nullable: true, description: 'The terms it applied (null while it waits).' })
  to!: MigrationTerms | null;

  @Field(() => Date, { nullable: true, description: 'AT_RENEWAL: the end of the term whose renewal applies it.' })
  dueTermEndsAt!: Date | null;

  @Field(() => Date, { description: 'When it was asked for.' })
  requestedAt!: Date;

  @Field(() => String, { description: 'Who asked for it.' })
  requestedBy!: string;

  @Field(() => Date, { nullable: true, description: 'When it was applied; null unless APPLIED.' })
  appliedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Who applied it; null unless APPLIED.' })
  appliedBy!: string | null;

  @Field(() => Date, { nullable: true, description: 'When it was cancelled; null unless CANCELLED.' })
  cancelledAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Who cancelled it.' })
  cancelledBy!: string | null;

  @Field(() => MigrationPreview, { nullable: true, description: 'What it did (applied or refused), as its preview said it would.' })
  outcome!: MigrationPreview | null;

  @Field(() => String, { nullable: true, description: 'REJECTED: why it was refused at renewal; null otherwise.' })
  detail!: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'What `migrateLicense` did.' })
export class MigrateLicenseResult {
  @Field(() => MigrationOutcome, { description: 'Applied, scheduled, or rejected.' })
  outcome!: MigrationOutcome;

  @Field(() => MigrationPreview, { description: 'What it did, or (SCHEDULED) what it would do with today’s usage, or (REJECTED) why not.' })
  preview!: MigrationPreview;

  @Field(() => LicenseMigrationNode, {
    nullable: true,
    description: 'The migration kept on the license; null when rejected (nothing is kept).',
  })
  migration!: LicenseMigrationNode | null;
}
