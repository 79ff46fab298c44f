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
  @Field(() => Boolean)
  allowed!: boolean;

  @Field(() => EnforcementCode)
  code!: EnforcementCode;

  @Field(() => String)
  detail!: string;

  @Field(() => UsageMetric)
  metric!: UsageMetric;

  @Field(() => SafeIntResolver, { description: 'What the license had before the request.' })
  current!: number;

  @Field(() => SafeIntResolver, { description: 'What the request asked to add (negative: to give back).' })
  requested!: number;

  @Field(() => SafeIntResolver, { description: 'What the license has after the request (the current value when denied).' })
  value!: number;

  @Field(() => SafeIntResolver, { nullable: true })
  limit!: number | null;

  @Field(() => SafeIntResolver, { nullable: true, description: 'The most the overage policy allows; null when nothing caps it.' })
  ceiling!: number | null;

  @Field(() => OveragePolicy)
  policy!: OveragePolicy;

  @Field(() => Int, { nullable: true })
  overagePercent!: number | null;
}
