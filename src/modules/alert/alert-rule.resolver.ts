import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { Operation } from '../../common/operation';
import type { AlertRuleService } from './alert-rules';
import { AlertRules, ExpiryNoticesInput, ThresholdRuleInput } from './alert-rule.types';

@Resolver()
export class AlertRuleResolver {
  constructor(private readonly rules: AlertRuleService) {}

  @Query(() => AlertRules, {
    description: "The alert rules of a license (its own, else its plan's, else the defaults) or of a plan: name one.",
  })
  alertRules(
    @Arg('licenseId', () => ID, { nullable: true, description: 'The license whose rules to read; give this or `planId`.' }) licenseId:
      | string
      | null,
    @Arg('planId', () => ID, { nullable: true, description: 'The plan whose rules to read; give this or `licenseId`.' }) planId:
      | string
      | null,
    @Ctx() ctx: Operation,
  ): Promise<AlertRules> {
    return this.rules.rules(ctx, { licenseId, planId });
  }

  @Mutation(() => AlertRules, {
    description: "Sets the thresholds of a metric for a license or a plan; `thresholds: null` goes back to the plan's or the default.",
  })
  setThresholdRule(
    @Arg('input', () => ThresholdRuleInput, { description: 'The license or plan, the metric and its thresholds.' })
    input: ThresholdRuleInput,
    @Ctx() ctx: Operation,
  ): Promise<AlertRules> {
    return this.rules.setThresholds(ctx, input);
  }

  @Mutation(() => AlertRules, {
    description: "Sets the expiry reminders of a license or a plan; `daysBefore: null` goes back to the plan's or the default.",
  })
  setExpiryNotices(
    @Arg('input', () => ExpiryNoticesInput, { description: 'The license or plan, and the days before expiry.' }) input: ExpiryNoticesInput,
    @Ctx() ctx: Operation,
  ): Promise<AlertRules> {
    return this.rules.setExpiryNotices(ctx, input);
  }
}
