import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { LicenseStatus, LicenseType } from '../../kernel/license.enums';
import { UsageMetric } from '../../kernel/metrics';
import { LeaseNode, SeatNode } from '../seat/seat.types';

@ObjectType({ simpleResolvers: true, description: 'A count of a license (users or sessions), and what makes it.' })
export class CountExplanation {
  @Field(() => UsageMetric)
  metric!: UsageMetric;

  @Field(() => Int, { description: 'The count as usage and enforcement read it now.' })
  count!: number;

  @Field(() => Float, { nullable: true, description: "The license's limit; null when it has none." })
  limit!: number | null;

  @Field(() => String, { description: 'What is counted, and what ends it.' })
  explanation!: string;
}

@ObjectType({ simpleResolvers: true, description: 'One usage report of a license, as recorded.' })
export class UsageReportEntry {
  @Field(() => Date)
  at!: Date;

  @Field(() => String, { nullable: true, description: 'The request that reported it.' })
  requestId!: string | null;

  @Field(() => Float, { description: 'What was reported: the calls counted, the storage total, or a change of it.' })
  reported!: number;

  @Field(() => Float, { description: 'The total once it was recorded.' })
  totalAfter!: number;
}

@ObjectType({ simpleResolvers: true, description: 'A reported total of a license (storage or API calls), and the reports that make it.' })
export class UsageExplanation {
  @Field(() => UsageMetric)
  metric!: UsageMetric;

  @Field(() => Float, { description: 'The total as usage and enforcement read it now.' })
  total!: number;

  @Field(() => Float, { nullable: true, description: "The license's limit; null when it has none." })
  limit!: number | null;

  @Field(() => Date, { nullable: true, description: 'The start of the period counted (API calls); null for a gauge (storage).' })
  periodStart!: Date | null;

  @Field(() => Date, { nullable: true, description: 'The end of the period counted; null for a gauge.' })
  periodEnd!: Date | null;

  @Field(() => Int, { description: 'Reports recorded in the period (API calls), or ever (storage), of those read.' })
  reportCount!: number;

  @Field(() => [UsageReportEntry], { description: 'The reports, newest first (at most 100).' })
  reports!: UsageReportEntry[];

  @Field(() => String, { description: 'How the reports make the total.' })
  explanation!: string;
}

@ObjectType({
  simpleResolvers: true,
  description:
    'Why a license counts what it counts: the seats and leases behind its user and session counts, the reports behind its storage and API totals.',
})
export class LicenseDiagnostics {
  @Field(() => ID)
  licenseId!: string;

  @Field(() => LicenseType)
  type!: LicenseType;

  @Field(() => LicenseStatus)
  status!: LicenseStatus;

  @Field(() => Date)
  checkedAt!: Date;

  @Field(() => CountExplanation, { description: 'Named users (ACTIVE_USERS).' })
  users!: CountExplanation;

  @Field(() => [SeatNode], { description: 'The live named seats that make the user count, inactive longest first.' })
  seats!: SeatNode[];

  @Field(() => CountExplanation, { description: 'Concurrent sessions (CONCURRENT_SESSIONS).' })
  sessions!: CountExplanation;

  @Field(() => [LeaseNode], { description: 'The live leases that make the session count, oldest heartbeat first.' })
  leases!: LeaseNode[];

  @Field(() => UsageExplanation)
  storage!: UsageExplanation;

  @Field(() => UsageExplanation)
  apiCalls!: UsageExplanation;
}
