import { SafeIntResolver } from 'graphql-scalars';
import { ArgsType, Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { registerEnums } from '../../kernel/register-enums';
import { LicenseLimits } from '../catalog/terms.types';
import { MigrationEffective } from '../migration/migration.enums';
import { ConflictInput } from '../migration/migration.types';

export enum RecommendationKind {
  /** Named seats whose users were not active for the window: release them and stop paying for them. */
  RECLAIM_INACTIVE_SEATS = 'RECLAIM_INACTIVE_SEATS',
  /** The limit is well above what was used (the 95th percentile of daily peaks plus a buffer), and nothing was refused. */
  RIGHT_SIZE_DOWN = 'RIGHT_SIZE_DOWN',
  /** The limit refused demand on more than a set share of days: the limit that would have met 95 % of it. */
  RIGHT_SIZE_UP = 'RIGHT_SIZE_UP',
  /** An entitled premium feature nobody used for the window. */
  UNUSED_PREMIUM_FEATURE = 'UNUSED_PREMIUM_FEATURE',
}

registerEnums({ RecommendationKind });

@ObjectType({ simpleResolvers: true, description: 'A number a recommendation rests on.' })
export class RecommendationEvidence {
  @Field(() => String, { description: 'What it is, e.g. `p95DailyPeak`, `inactiveSeats`, `daysWithUnmetDemand`.' })
  name!: string;

  @Field(() => Float)
  value!: number;
}

@ObjectType({ simpleResolvers: true, description: 'The migration a recommendation proposes: what changes, and when.' })
export class RecommendationTarget {
  @Field(() => LicenseLimits, { nullable: true, description: 'The limits after; null when they stay.' })
  limits!: LicenseLimits | null;

  @Field(() => [String], { nullable: true, description: 'The entitled features after; null when they stay.' })
  featureKeys!: string[] | null;

  @Field(() => MigrationEffective)
  effective!: MigrationEffective;
}

@ObjectType('Recommendation', { simpleResolvers: true, description: 'A change to a license that its use over a window argues for.' })
export class RecommendationNode {
  @Field(() => ID, { description: 'Stable: the same kind, license, evidence and target give the same id; new evidence, a new id.' })
  id!: string;

  @Field(() => RecommendationKind)
  kind!: RecommendationKind;

  @Field(() => ID)
  organizationId!: string;

  @Field(() => ID)
  licenseId!: string;

  @Field(() => String, { description: 'In words, with its numbers.' })
  summary!: string;

  @Field(() => Int, { description: 'The days of use it rests on, up to now.' })
  windowDays!: number;

  @Field(() => [RecommendationEvidence])
  evidence!: RecommendationEvidence[];

  @Field(() => RecommendationTarget)
  target!: RecommendationTarget;

  @Field(() => SafeIntResolver, {
    nullable: true,
    description:
      'How the yearly cost changes, in minor units of `currency` (negative saves), from its migration preview; null without prices.',
  })
  yearlyCostChangeCents!: number | null;

  @Field(() => String, { nullable: true })
  currency!: string | null;
}

@InputType({ description: 'Which recommendations to give.' })
export class RecommendationFilter {
  @Field(() => [RecommendationKind], { nullable: true })
  kinds?: RecommendationKind[] | null;

  @Field(() => [ID], { nullable: true })
  licenseIds?: string[] | null;

  @Field(() => Boolean, {
    defaultValue: false,
    description: 'Also those dismissed (until their dismissal ends or their evidence changes).',
  })
  includeDismissed!: boolean;
}

@ArgsType()
export class ApplyRecommendationArgs {
  @Field(() => ID)
  id!: string;

  @Field(() => ConflictInput, { nullable: true, description: 'As on migrateLicense; RELEASE_LEAST_ACTIVE when omitted.' })
  onConflict?: ConflictInput | null;
}

@ArgsType()
export class DismissRecommendationArgs {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'Why (at most 500 characters).' })
  reason!: string;

  @Field(() => Date, { nullable: true, description: 'Until when; for as long as its evidence stays the same when omitted.' })
  until?: Date | null;
}
