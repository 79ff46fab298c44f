import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { UsageMetric } from '../usage/usage.types';

/** Where a license's rule for a subject comes from: its own, its plan's, or the built-in default. */
export enum RuleSource {
  LICENSE = 'LICENSE',
  PLAN = 'PLAN',
  DEFAULT = 'DEFAULT',
}

registerEnumType(RuleSource, {
  name: 'AlertRuleSource',
  description: "Where the rule that applies comes from: the license's own, its plan's, or the built-in default.",
  valuesConfig: {
    LICENSE: { description: 'Set on the license itself.' },
    PLAN: { description: "The license's plan's (or, for a plan, its own)." },
    DEFAULT: { description: 'The built-in default: thresholds at 80, 90 and 100 %, reminders 90, 30, 7 and 1 days before expiry.' },
  },
});

@ObjectType({ simpleResolvers: true, description: 'When a metric raises threshold alerts.' })
export class ThresholdRule {
  @Field(() => UsageMetric, { description: 'The metric the rule watches.' })
  metric!: UsageMetric;

  @Field(() => [Int], { description: 'Thresholds in percent of the limit, ascending; empty when the metric raises none.' })
  thresholds!: number[];

  @Field(() => Int, { description: 'How many points below a threshold the metric must fall before that threshold fires again.' })
  rearmMargin!: number;

  @Field(() => Int, {
    description:
      'Minutes after an alert is raised during which its threshold, crossed again, counts on the open alert (`repeats`) instead of raising a new one; 0 raises one each time.',
  })
  repeatIntervalMinutes!: number;

  @Field(() => RuleSource, { description: 'Where this rule comes from.' })
  source!: RuleSource;
}

@ObjectType({ simpleResolvers: true, description: 'When a license is reminded that its term ends.' })
export class ExpiryNoticeRule {
  @Field(() => [Int], { description: 'Days before the term ends, descending; empty when no reminder is wanted.' })
  daysBefore!: number[];

  @Field(() => RuleSource, { description: 'Where this rule comes from.' })
  source!: RuleSource;
}

@ObjectType({ simpleResolvers: true, description: "A license's or a plan's alert rules, as they apply." })
export class AlertRules {
  @Field(() => ID, { nullable: true, description: "The license the rules apply to; null for a plan's rules." })
  licenseId!: string | null;

  @Field(() => ID, { nullable: true, description: 'The plan whose rules these are (for a license: its plan).' })
  planId!: string | null;

  @Field(() => [ThresholdRule], { description: 'One rule per metric.' })
  thresholds!: ThresholdRule[];

  @Field(() => ExpiryNoticeRule, { description: 'When expiry reminders are raised.' })
  expiry!: ExpiryNoticeRule;
}

/** Whose rule an input sets: a license's own, or a plan's (the default of its licenses). */
@InputType()
abstract class RuleOwnerInput {
  @Field(() => ID, { nullable: true, description: 'The license; give this or `planId`.' })
  licenseId?: string | null;

  @Field(() => ID, { nullable: true, description: 'The plan; give this or `licenseId`.' })
  planId?: string | null;
}

@InputType({ description: "Sets a metric's thresholds for a license, or for a plan (the default of its licenses)." })
export class ThresholdRuleInput extends RuleOwnerInput {
  @Field(() => UsageMetric, { description: 'The metric whose thresholds to set.' })
  metric!: UsageMetric;

  @Field(() => [Int], {
    nullable: true,
    description: 'Percent of the limit (1 to 1000, at most 10); empty for none; null to inherit from the plan or the default.',
  })
  thresholds?: number[] | null;

  @Field(() => Int, { nullable: true, description: 'Points below a threshold that re-arm it (0 to 50); 5 when omitted.' })
  rearmMargin?: number | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Minutes an open alert counts the repeats of its threshold (0 to 1440; 0 raises a new alert each time); 15 when omitted.',
  })
  repeatIntervalMinutes?: number | null;
}

@InputType({ description: 'Sets the expiry reminders of a license, or of a plan (the default of its licenses).' })
export class ExpiryNoticesInput extends RuleOwnerInput {
  @Field(() => [Int], {
    nullable: true,
    description: 'Days before the term ends (1 to 3650, at most 10); empty for none; null to inherit from the plan or the default.',
  })
  daysBefore?: number[] | null;
}
