import { Arg, Args, ArgsType, Ctx, Field, ID, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { SafeIntResolver } from 'graphql-scalars';
import { CHECKED_BY_THE_SERVICE } from '../../common/input';
import type { Operation } from '../../common/operation';
import type { UsageStream } from './usage-stream';
import { Enforcement } from '../../kernel/enforcement.types';
import { RecordUsageResult } from './record-usage.types';
import type { UsageMeter } from './usage-meter';
import type { UsageService } from './usage.service';
import { LicenseUsageChange, MetricUsage, UsageBucket, UsageMetric, UsageResolution } from './usage.types';
import { LicenseKeyArgs } from '../license/license-key.types';

/** What licenseUsageChanged needs of its operation: where usage changes come from. */
type UsageContext = Operation & { streams: { usage: UsageStream } };

/** A metric of the key's license: what a usage report and a quota check are about. */
@ArgsType()
class MetricArgs extends LicenseKeyArgs {
  @Field(() => UsageMetric, {
    description:
      'The metric. `recordUsage` takes STORAGE_BYTES and API_CALLS only; the others are derived from seats and leases (BAD_USER_INPUT).',
  })
  metric!: UsageMetric;
}

/** Checked by the service (key format, which field each metric takes): client operations skip class-validator. */
@ArgsType()
class RecordUsageArgs extends MetricArgs {
  @Field(() => SafeIntResolver, { nullable: true, description: 'The current total of a gauge (STORAGE_BYTES).' })
  value?: number | null;

  @Field(() => SafeIntResolver, {
    nullable: true,
    description:
      'How many to add to a counter (API_CALLS; 1 when omitted), or bytes added to a gauge (STORAGE_BYTES; negative when removed).',
  })
  amount?: number | null;
}

/** Checked by the service (key format, amount): client operations skip class-validator. */
@ArgsType()
class CheckQuotaArgs extends MetricArgs {
  @Field(() => SafeIntResolver, { description: 'How much more the client is about to use: bytes, calls, users or sessions.' })
  amount!: number;
}

@Resolver()
export class UsageResolver {
  constructor(
    private readonly usage: UsageService,
    private readonly meter: UsageMeter,
  ) {}

  @Query(() => [MetricUsage], { description: 'Each metric of a license: current value, limit and utilization.' })
  licenseUsage(
    @Arg('licenseId', () => ID, { description: 'The license; NOT_FOUND when the caller may not see it.' }) licenseId: string,
    @Ctx() ctx: UsageContext,
  ): Promise<MetricUsage[]> {
    return this.usage.licenseUsage(ctx, licenseId);
  }

  @Query(() => [UsageBucket], {
    description: "A metric's time series, oldest first: hourly buckets (kept 35 days) or daily ones, up to 1,000 at a time.",
  })
  usageHistory(
    @Arg('licenseId', () => ID, { description: 'The license; NOT_FOUND when the caller may not see it.' }) licenseId: string,
    @Arg('metric', () => UsageMetric, { description: 'The metric whose series to read.' }) metric: UsageMetric,
    @Arg('resolution', () => UsageResolution, { defaultValue: UsageResolution.HOUR, description: 'Hourly or daily buckets.' })
    resolution: UsageResolution,
    @Arg('from', () => Date, { nullable: true, description: 'Defaults to 24 buckets before `to`.' }) from: Date | null,
    @Arg('to', () => Date, { nullable: true, description: 'Defaults to now.' }) to: Date | null,
    @Ctx() ctx: UsageContext,
  ): Promise<UsageBucket[]> {
    return this.usage.history(ctx, licenseId, { metric, resolution, from, to });
  }

  @Mutation(() => RecordUsageResult, {
    description:
      "Reports usage by license key: STORAGE_BYTES as the current total (`value`) or a change (`amount`), API_CALLS as a count (`amount`). A change past the limit is decided by the license's overage policy: NONE denies it, PERCENT allows it up to its allowance and ALWAYS allows it, recording a violation; a total is recorded as it is, and a violation when it is over the limit.",
  })
  recordUsage(
    @Args(() => RecordUsageArgs, CHECKED_BY_THE_SERVICE) args: RecordUsageArgs,
    @Ctx() ctx: UsageContext,
  ): Promise<RecordUsageResult> {
    return this.meter.record(args.key, args.metric, { value: args.value, amount: args.amount }, ctx.requestId);
  }

  @Query(() => Enforcement, {
    description:
      "Whether `amount` more of a metric would be allowed now under the key's license and its overage policy, asked before a write. It reserves nothing: the report of the write is decided again.",
  })
  checkQuota(@Args(() => CheckQuotaArgs, CHECKED_BY_THE_SERVICE) args: CheckQuotaArgs): Promise<Enforcement> {
    return this.meter.checkQuota(args.key, args.metric, args.amount);
  }

  @Subscription(() => LicenseUsageChange, {
    description: "A license's utilization, live: first every metric as it is, then each change as seats, leases and usage change.",
    subscribe: ({ args, context }) => {
      const ctx = context as UsageContext;
      return ctx.streams.usage.subscribe(ctx.principal, args.licenseId as string);
    },
  })
  licenseUsageChanged(
    @Root() change: LicenseUsageChange,
    @Arg('licenseId', () => ID, { description: 'The license to follow; NOT_FOUND when the caller may not see it.' }) _licenseId: string,
  ): LicenseUsageChange {
    return change;
  }
}
