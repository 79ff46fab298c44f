import { Arg, Args, ArgsType, Ctx, Field, ID, Mutation, Query, Resolver } from 'type-graphql';
import { SafeIntResolver } from 'graphql-scalars';
import type { GraphQLContext } from '../../server/context';
import type { UsageMeter } from './usage-meter';
import type { UsageService } from './usage.service';
import { MetricUsage, UsageMetric } from './usage.types';

/** Checked by the service (key format, which field each metric takes): client operations skip class-validator. */
@ArgsType()
class RecordUsageArgs {
  @Field(() => String)
  key!: string;

  @Field(() => UsageMetric)
  metric!: UsageMetric;

  @Field(() => SafeIntResolver, { nullable: true, description: 'The current total of a gauge (STORAGE_BYTES).' })
  value?: number | null;

  @Field(() => SafeIntResolver, { nullable: true, description: 'How many to add to a counter (API_CALLS); 1 when omitted.' })
  amount?: number | null;
}

@Resolver()
export class UsageResolver {
  constructor(
    private readonly usage: UsageService,
    private readonly meter: UsageMeter,
  ) {}

  @Query(() => [MetricUsage], { description: 'Each metric of a license: current value, limit and utilization.' })
  licenseUsage(@Arg('licenseId', () => ID) licenseId: string, @Ctx() ctx: GraphQLContext): Promise<MetricUsage[]> {
    return this.usage.licenseUsage(ctx, licenseId);
  }

  @Mutation(() => MetricUsage, {
    description: 'Reports usage by license key: STORAGE_BYTES as the current total (`value`), API_CALLS as a count (`amount`).',
  })
  recordUsage(@Args(() => RecordUsageArgs, { validate: false }) args: RecordUsageArgs, @Ctx() ctx: GraphQLContext): Promise<MetricUsage> {
    return this.meter.record(args.key, args.metric, { value: args.value, amount: args.amount }, ctx.requestId);
  }
}
