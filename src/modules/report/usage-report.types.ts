import { SafeIntResolver } from 'graphql-scalars';
import { ArgsType, Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { LicenseStatus, LicenseType } from '../../kernel/license.enums';
import { UsageMetric } from '../../kernel/metrics';
import { FeatureTier } from '../catalog/catalog.enums';
import { UsageResolution } from '../usage/usage.types';

@InputType({ description: 'The licenses a usage report covers: those of an organization, of a product, or the ones named. Give one.' })
export class UsageReportFilter {
  @Field(() => ID, { nullable: true, description: "An organization's licenses." })
  organizationId?: string | null;

  @Field(() => ID, {
    nullable: true,
    description: "A product's licenses (within the caller's organization, unless a platform admin asks).",
  })
  productId?: string | null;

  @Field(() => [ID], { nullable: true, description: 'At most 1,000 licenses.' })
  licenseIds?: string[] | null;
}

@ArgsType()
export class UsageReportArgs {
  @Field(() => UsageReportFilter, { description: 'The licenses to report on: of an organization, of a product, or named.' })
  filter!: UsageReportFilter;

  @Field(() => Date, { description: 'The start of the window, floored to its first bucket (UTC).' })
  from!: Date;

  @Field(() => Date, { description: 'The end of the window (exclusive), at most now.' })
  to!: Date;

  @Field(() => UsageResolution, {
    defaultValue: UsageResolution.DAY,
    description: 'The buckets of the series and of the time over thresholds: DAY (up to 400 days), or HOUR (the last 35 days).',
  })
  resolution!: UsageResolution;
}

@ObjectType({ simpleResolvers: true, description: 'How many buckets of the window a metric spent at or over a threshold of its limit.' })
export class ThresholdTime {
  @Field(() => Int, { description: 'In percent of the limit: the thresholds of the license’s alert rule.' })
  threshold!: number;

  @Field(() => Int, { description: "Buckets (hours or days, per `resolution`) in which the metric's peak was at or over the threshold." })
  buckets!: number;
}

@ObjectType({ simpleResolvers: true, description: 'One bucket of a metric over the window.' })
export class UsagePoint {
  @Field(() => Date, { description: 'Start of the bucket (UTC).' })
  start!: Date;

  @Field(() => Float, { description: 'Gauges: the mean of the values seen; API_CALLS: the calls made in the bucket.' })
  average!: number;

  @Field(() => SafeIntResolver, {
    description: 'Gauges: the highest value (the last one known, when nothing changed in the bucket); API_CALLS: the calls made.',
  })
  peak!: number;

  @Field(() => Int, { description: 'Requests the limit refused in the bucket.' })
  denials!: number;
}

@ObjectType({ simpleResolvers: true, description: 'A metric of a license (or of all, in totals) over the report’s window.' })
export class MetricUsageSummary {
  @Field(() => UsageMetric, { description: 'The metric these figures are for.' })
  metric!: UsageMetric;

  @Field(() => SafeIntResolver, { nullable: true, description: 'The limit; null when the metric is unlimited. Totals add the limits set.' })
  limit!: number | null;

  @Field(() => Float, { description: 'The mean of the buckets’ averages.' })
  average!: number;

  @Field(() => SafeIntResolver, { description: 'The highest bucket peak. Totals add the licenses’ peaks.' })
  peak!: number;

  @Field(() => Float, {
    description: 'The 95th percentile (nearest rank) of the daily peaks of the window; for API_CALLS, of the calls made each day.',
  })
  p95DailyPeak!: number;

  @Field(() => Float, {
    nullable: true,
    description:
      'The peak against the limit (1 is at the limit); for API_CALLS, the highest count of a period against its limit. Null without a limit.',
  })
  utilization!: number | null;

  @Field(() => [ThresholdTime], { description: 'For each threshold of the alert rule, how many buckets the metric spent at or over it.' })
  overThresholds!: ThresholdTime[];

  @Field(() => Int, { description: 'Requests the limit refused.' })
  denials!: number;

  @Field(() => Int, { description: 'Of those, retries that a grant to the same client met within a minute.' })
  retries!: number;

  @Field(() => Int, { description: 'Denials that were not retries: demand the license did not meet.' })
  unmetDemand!: number;

  @Field(() => Int, { description: 'Distinct clients (machines or users) refused and not granted within a minute, counted per day.' })
  clientsRefused!: number;

  @Field(() => [UsagePoint], { description: 'Each bucket of the window, oldest first (empty in totals).' })
  series!: UsagePoint[];
}

@ObjectType({ simpleResolvers: true, description: 'A feature of a license’s product: entitled or named by its clients.' })
export class FeatureUsageSummary {
  @Field(() => String, { description: 'The feature key.' })
  key!: string;

  @Field(() => FeatureTier, { description: 'CORE or PREMIUM.' })
  tier!: FeatureTier;

  @Field(() => Boolean, { description: 'Whether the license entitles it now.' })
  entitled!: boolean;

  @Field(() => Int, { description: 'Validations and feature checks that named it and were allowed, within the window.' })
  uses!: number;

  @Field(() => Int, { description: 'Those refused, within the window.' })
  denials!: number;

  @Field(() => Date, { nullable: true, description: 'Its last allowed use before the end of the window; null when never used.' })
  lastUsedAt!: Date | null;
}

@ObjectType({
  simpleResolvers: true,
  description: 'The named seats of a USER license at the end of the window, by how recently their users were active.',
})
export class SeatActivitySummary {
  @Field(() => Int, { description: 'Named seats live at the end of the window.' })
  assigned!: number;

  @Field(() => Int, { description: 'Active (or assigned) within the 30 days before the end of the window.' })
  activeWithin30Days!: number;

  @Field(() => Int, { description: 'Active (or assigned) within the 60 days before the end of the window.' })
  activeWithin60Days!: number;

  @Field(() => Int, { description: 'Active (or assigned) within the 90 days before the end of the window.' })
  activeWithin90Days!: number;
}

@ObjectType({ simpleResolvers: true, description: 'A license’s usage over the report’s window.' })
export class LicenseUsageReport {
  @Field(() => ID, { description: 'The license these figures are for.' })
  licenseId!: string;

  @Field(() => ID, { description: 'Its organization.' })
  organizationId!: string;

  @Field(() => ID, { description: 'Its product.' })
  productId!: string;

  @Field(() => String, { description: 'The name of its plan.' })
  planName!: string;

  @Field(() => LicenseType, { description: 'Its license type: which limits and metrics apply.' })
  type!: LicenseType;

  @Field(() => LicenseStatus, { description: 'Its status now (not at the end of the window).' })
  status!: LicenseStatus;

  @Field(() => [MetricUsageSummary], { description: 'One per metric, in the order of UsageMetric.' })
  metrics!: MetricUsageSummary[];

  @Field(() => [FeatureUsageSummary], { description: 'Its product’s features it entitles or its clients named, by key.' })
  features!: FeatureUsageSummary[];

  @Field(() => SeatActivitySummary, { nullable: true, description: 'USER licenses only.' })
  seats!: SeatActivitySummary | null;
}

@ObjectType({ simpleResolvers: true, description: 'Usage, denials and feature use of a set of licenses over a window.' })
export class UsageReport {
  @Field(() => Date, { description: 'The start of the first bucket.' })
  from!: Date;

  @Field(() => Date, { description: 'The end of the window (exclusive).' })
  to!: Date;

  @Field(() => UsageResolution, { description: 'The width of its buckets.' })
  resolution!: UsageResolution;

  @Field(() => [LicenseUsageReport], { description: 'By license id.' })
  licenses!: LicenseUsageReport[];

  @Field(() => [MetricUsageSummary], { description: 'Each metric over every license of the report: their figures added up.' })
  totals!: MetricUsageSummary[];
}
