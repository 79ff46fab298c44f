import { IsIn, Max, Min } from 'class-validator';
import { SafeIntResolver } from 'graphql-scalars';
import { Field, InputType, Int, ObjectType } from 'type-graphql';
import { OveragePolicy, UsagePeriod } from '../../kernel/license.enums';

/** The limits of a plan or license; a null limit does not apply. */
@ObjectType({ simpleResolvers: true })
export class LicenseLimits {
  @Field(() => Int, { nullable: true, description: 'Named users (USER licenses).' })
  namedUsers!: number | null;

  @Field(() => Int, { nullable: true, description: 'Simultaneous sessions (CONCURRENT licenses).' })
  concurrentSessions!: number | null;

  @Field(() => SafeIntResolver, { nullable: true })
  storageBytes!: number | null;

  @Field(() => SafeIntResolver, { nullable: true })
  apiCallsPerPeriod!: number | null;

  @Field(() => UsagePeriod)
  apiCallPeriod!: UsagePeriod;
}

@InputType()
export class LimitsInput {
  @Field(() => Int, { nullable: true })
  @Min(0)
  @Max(10_000_000)
  namedUsers?: number | null;

  @Field(() => Int, { nullable: true })
  @Min(0)
  @Max(10_000_000)
  concurrentSessions?: number | null;

  @Field(() => SafeIntResolver, { nullable: true })
  @Min(0)
  storageBytes?: number | null;

  @Field(() => SafeIntResolver, { nullable: true })
  @Min(0)
  apiCallsPerPeriod?: number | null;

  @Field(() => UsagePeriod, { nullable: true })
  @IsIn(Object.values(UsagePeriod))
  apiCallPeriod?: UsagePeriod | null;
}

/** What happens when usage reaches a limit. */
@ObjectType({ simpleResolvers: true })
export class Overage {
  @Field(() => OveragePolicy)
  policy!: OveragePolicy;

  @Field(() => Int, { nullable: true, description: 'How far over the limit PERCENT allows.' })
  percent!: number | null;
}

@InputType()
export class OverageInput {
  @Field(() => OveragePolicy)
  policy!: OveragePolicy;

  @Field(() => Int, { nullable: true, description: 'Required with PERCENT: 1 to 1000.' })
  @Min(1)
  @Max(1000)
  percent?: number | null;
}

/** The limit and overage columns that plans and licenses share. */
export interface TermColumns {
  namedUsers?: number | null;
  concurrentSessions?: number | null;
  storageBytes?: number | null;
  apiCallsPerPeriod?: number | null;
  apiCallPeriod: UsagePeriod;
  overagePolicy: OveragePolicy;
  overagePercent?: number | null;
}

export function limitsOf(row: TermColumns): LicenseLimits {
  return {
    namedUsers: row.namedUsers ?? null,
    concurrentSessions: row.concurrentSessions ?? null,
    storageBytes: row.storageBytes ?? null,
    apiCallsPerPeriod: row.apiCallsPerPeriod ?? null,
    apiCallPeriod: row.apiCallPeriod,
  };
}

export function overageOf(row: TermColumns): Overage {
  return { policy: row.overagePolicy, percent: row.overagePercent ?? null };
}
