import { SafeIntResolver } from 'graphql-scalars';
import { Field, Float, ObjectType, registerEnumType } from 'type-graphql';

/** What is metered per license. */
export enum UsageMetric {
  /** Named users holding a seat; derived from seats, not reported. */
  ACTIVE_USERS = 'ACTIVE_USERS',
  /** Live concurrent leases; derived from leases, not reported. */
  CONCURRENT_SESSIONS = 'CONCURRENT_SESSIONS',
  /** Bytes stored: a gauge, reported as the current total. */
  STORAGE_BYTES = 'STORAGE_BYTES',
  /** API calls: a counter within the license's period (a day or a month, from its start in UTC). */
  API_CALLS = 'API_CALLS',
}

registerEnumType(UsageMetric, { name: 'UsageMetric' });

@ObjectType({ simpleResolvers: true, description: 'One metric of a license: its current value against its limit.' })
export class MetricUsage {
  @Field(() => UsageMetric)
  metric!: UsageMetric;

  @Field(() => SafeIntResolver)
  value!: number;

  @Field(() => SafeIntResolver, { nullable: true, description: 'Null when the license sets no limit for it.' })
  limit!: number | null;

  @Field(() => Float, { nullable: true, description: 'value / limit, e.g. 0.8 for 80 %; null without a limit.' })
  utilization!: number | null;

  @Field(() => Date, { nullable: true, description: 'Start of the counting period (API_CALLS).' })
  periodStart!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When the counter starts again from zero (API_CALLS).' })
  periodEnd!: Date | null;
}
