import { IsIn, Max, Min } from 'class-validator';
import { SafeIntResolver } from 'graphql-scalars';
import { Field, InputType, Int, ObjectType } from 'type-graphql';
import { OveragePolicy, UsagePeriod } from '../../kernel/license.enums';

/** The limits of a plan or license; a null limit does not apply. */
@ObjectType({ simpleResolvers: true, description: 'The limits of a plan or license; a null limit does not apply (unlimited).' })
export class LicenseLimits {
  @Field(() => Int, { nullable: true, description: 'Named users (USER licenses).' })
  namedUsers!: number | null;

  @Field(() => Int, { nullable: true, description: 'Simultaneous sessions (CONCURRENT licenses).' })
  concurrentSessions!: number | null;

  @Field(() => SafeIntResolver, { nullable: true, description: 'Bytes of storage (STORAGE_BYTES); null for no limit.' })
  storageBytes!: number | null;

  @Field(() => SafeIntResolver, { nullable: true, description: 'API calls per `apiCallPeriod` (API_CALLS); null for no limit.' })
  apiCallsPerPeriod!: number | null;

  @Field(() => UsagePeriod, { description: 'The period over which API calls count: a UTC day or month.' })
  apiCallPeriod!: UsagePeriod;
}

@InputType({ description: 'Limits to set; an omitted or null limit does not apply (unlimited).' })
export class LimitsInput {
  @Field(() => Int, { nullable: true, description: 'Named users (USER licenses), 0 to 10000000.' })
  @Min(0)
  @Max(10_000_000)
  namedUsers?: number | null;

  @Field(() => Int, { nullable: true, description: 'Simultaneous sessions (CONCURRENT licenses), 0 to 10000000.' })
  @Min(0)
  @Max(10_000_000)
  concurrentSessions?: number | null;

  @Field(() => SafeIntResolver, { nullable: true, description: 'Bytes of storage, at least 0.' })
  @Min(0)
  storageBytes?: number | null;

  @Field(() => SafeIntResolver, { nullable: true, description: 'API calls per `apiCallPeriod`, at least 0.' })
  @Min(0)
  apiCallsPerPeriod?: number | null;

  @Field(() => UsagePeriod, { nullable: true, description: 'The period API calls count over; defaults to MONTH.' })
  @IsIn(Object.values(UsagePeriod))
  apiCallPeriod?: UsagePeriod | null;
}

/** What happens when usage reaches a limit. */
@ObjectType({ simpleResolvers: true, description: 'What happens when usage reaches a limit.' })
export class Overage {
  @Field(() => OveragePolicy, {
    description:
      'Deny at the limit (NONE), allow a percentage over it (PERCENT), or never deny (ALWAYS); allowed overage records a violation.',
  })
  policy!: OveragePolicy;

  @Field(() => Int, { nullable: true, description: 'How far over the limit PERCENT allows.' })
  percent!: number | null;
}

@InputType({ description: 'What happens when usage reaches a limit.' })
export class OverageInput {
  @Field(() => OveragePolicy, { description: 'NONE, PERCENT (with `percent`) or ALWAYS.' })
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
