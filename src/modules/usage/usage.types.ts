import { SafeIntResolver } from 'graphql-scalars';
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';

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

/** The width of a bucket of the usage time series. */
export enum UsageResolution {
  /** Kept for 35 days. */
  HOUR = 'HOUR',
  /** Kept for as long as the license. */
  DAY = 'DAY',
}

registerEnumType(UsageResolution, { name: 'UsageResolution' });

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

@ObjectType({ simpleResolvers: true, description: 'A metric of a license that changed, with its new value against its limit.' })
export class LicenseUsageChange {
  @Field(() => ID)
  licenseId!: string;

  @Field(() => Date)
  changedAt!: Date;

  @Field(() => MetricUsage)
  usage!: MetricUsage;
}

/** The limits of a license or plan, by the names they carry there. */
export interface MetricLimits {
  namedUsers: number | null;
  concurrentSessions: number | null;
  storageBytes: number | null;
  apiCallsPerPeriod: number | null;
}

/** The limit that applies to a metric: named users to active users, and so on. */
export function limitOfMetric(limits: MetricLimits, metric: UsageMetric): number | null {
  switch (metric) {
    case UsageMetric.ACTIVE_USERS:
      return limits.namedUsers;
    case UsageMetric.CONCURRENT_SESSIONS:
      return limits.concurrentSessions;
    case UsageMetric.STORAGE_BYTES:
      return limits.storageBytes;
    case UsageMetric.API_CALLS:
      return limits.apiCallsPerPeriod;
  }
}

/** A metric's value against its limit, with its counting period where it has one. */
export function metricUsage(metric: UsageMetric, value: number, limit: number | null, period?: { start: Date; end: Date }): MetricUsage {
  return Object.assign(new MetricUsage(), {
    metric,
    value,
    limit,
    utilization: limit ? value / limit : null,
    periodStart: period?.start ?? null,
    periodEnd: period?.end ?? null,
  });
}

@ObjectType({ simpleResolvers: true, description: 'The reports of one metric within one hour or day.' })
export class UsageBucket {
  @Field(() => Date)
  start!: Date;

  @Field(() => Int, { description: 'How many reports fell in it.' })
  samples!: number;

  @Field(() => SafeIntResolver, { description: 'The values reported, added up: for API_CALLS, the calls made in the bucket.' })
  sum!: number;

  @Field(() => SafeIntResolver, { description: 'The highest value the metric reached in it.' })
  max!: number;

  @Field(() => SafeIntResolver, { description: 'The value of the metric at its last report in it.' })
  last!: number;

  @Field(() => Float, { description: 'sum / samples: the average reported value (STORAGE_BYTES).' })
  average!: number;
}
