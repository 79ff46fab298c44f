import { SafeIntResolver } from 'graphql-scalars';
import { Field, Int, ObjectType } from 'type-graphql';
import { EnforcementCode } from './compliance.enums';
import { OveragePolicy } from './license.enums';
import { UsageMetric } from './metrics';

@ObjectType({
  simpleResolvers: true,
  description: 'The answer of an enforcement point: allowed or denied, with a reason code and the numbers.',
})
export class Enforcement {
  @Field(() => Boolean, { description: 'True when the request may proceed (within the limit, or over it as the policy allows).' })
  allowed!: boolean;

  @Field(() => EnforcementCode, { description: 'Why: a stable code.' })
  code!: EnforcementCode;

  @Field(() => String, { description: 'A readable explanation.' })
  detail!: string;

  @Field(() => UsageMetric, { description: 'The metric the limit is on.' })
  metric!: UsageMetric;

  @Field(() => SafeIntResolver, { description: 'What the license had before the request.' })
  current!: number;

  @Field(() => SafeIntResolver, { description: 'What the request asked to add (negative: to give back).' })
  requested!: number;

  @Field(() => SafeIntResolver, { description: 'What the license has after the request (the current value when denied).' })
  value!: number;

  @Field(() => SafeIntResolver, { nullable: true, description: "The license's limit; null when it sets none." })
  limit!: number | null;

  @Field(() => SafeIntResolver, { nullable: true, description: 'The most the overage policy allows; null when nothing caps it.' })
  ceiling!: number | null;

  @Field(() => OveragePolicy, { description: "The license's overage policy." })
  policy!: OveragePolicy;

  @Field(() => Int, { nullable: true, description: 'PERCENT: how far over the limit it allows, in percent; null otherwise.' })
  overagePercent!: number | null;
}
