import { SafeIntResolver } from 'graphql-scalars';
import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { registerEnums } from '../../kernel/register-enums';
import { UsageMetric } from '../../kernel/metrics';

// The metric vocabulary is the kernel's; the usage module's types carry it.
export { limitOfMetric, type MetricLimits, UsageMetric } from '../../kernel/metrics';

/** The width of a bucket of the usage time series. */
export enum UsageResolution {
  /** Kept for 35 days. */
  HOUR = 'HOUR',
  /** Kept for as long as the license. */
  DAY = 'DAY',
}

registerEnums(
  { UsageResolution },
  {
    UsageResolution: {
      description: 'The width of a bucket of the usage time series.',
      values: {
        HOUR: 'An hour in UTC; hourly buckets are kept for 35 days.',
        DAY: 'A day in UTC; daily buckets are kept as long as the license.',
      },
    },
  },
);

@ObjectType({ simpleResolvers: true, description: 'One metric of a license: its current value against its limit.' })
export class MetricUsage {
  @Field(() => UsageMetric, { description: 'The metric these figures are for.' })
  metric!: UsageMetric;

  @Field(() => SafeIntResolver, { description: 'Its current value: users, sessions, bytes, or calls in the current period.' })
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
  @Field(() => ID, { description: 'The license whose usage changed.' })
  licenseId!: string;

  @Field(() => Date, { description: 'When it changed (for the first message of a subscription: when it was read).' })
  changedAt!: Date;

  @Field(() => MetricUsage, { description: 'The metric that changed, with its new value against its limit.' })
  usage!: MetricUsage;
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
  @Field(() => Date, { description: 'Start of the hour or day (UTC).' })
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
