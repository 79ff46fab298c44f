import { SafeIntResolver } from 'graphql-scalars';
import { ArgsType, Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { registerEnums } from '../../kernel/register-enums';
import { LicenseLimits } from '../catalog/terms.types';
import { LicenseType } from '../../kernel/license.enums';
import { MigrationEffective } from '../migration/migration.enums';
import { ConflictInput } from '../migration/migration.types';
import { MetricUsageSummary } from './usage-report.types';

export enum RecommendationKind {
  /** Named seats whose users were not active for the window: release them and stop paying for them. */
  RECLAIM_INACTIVE_SEATS = 'RECLAIM_INACTIVE_SEATS',
  /** The limit is well above what was used (the 95th percentile of daily peaks plus a buffer), and nothing was refused. */
  RIGHT_SIZE_DOWN = 'RIGHT_SIZE_DOWN',
  /** The limit refused demand on more than a set share of days: the limit that would have met 95 % of it. */
  RIGHT_SIZE_UP = 'RIGHT_SIZE_UP',
  /** An entitled premium feature nobody used for the window. */
  UNUSED_PREMIUM_FEATURE = 'UNUSED_PREMIUM_FEATURE',
  /** Overage violations of a limit in most 30-day periods of the window: the limit that would have held them. */
  RECURRING_OVERAGE = 'RECURRING_OVERAGE',
  /** A plan of the same product and type that covers what was used (and every feature used) for less. */
  CHEAPER_PLAN = 'CHEAPER_PLAN',
  /** Like CHEAPER_PLAN, for a license whose term ends within 60 days: proposed for its renewal (AT_RENEWAL). */
  RENEWAL_RIGHT_SIZE = 'RENEWAL_RIGHT_SIZE',
}

registerEnums(
  { RecommendationKind },
  {
    RecommendationKind: {
      description: 'What a recommendation proposes, and on what evidence.',
      values: {
        RECLAIM_INACTIVE_SEATS: 'Named seats whose users were not active for `inactiveDays`: release them and stop paying for them.',
        RIGHT_SIZE_DOWN:
          'The limit is well above what was used (the 95th percentile of daily peaks plus `bufferPercent`), and nothing was refused.',
        RIGHT_SIZE_UP: 'The limit refused demand on more than `unmetDaySharePercent` of days: the limit that would have met 95 % of it.',
        UNUSED_PREMIUM_FEATURE: 'An entitled PREMIUM feature nobody used for `unusedFeatureDays`.',
        RECURRING_OVERAGE: 'Overage violations of a limit in most 30-day periods of the window: the limit that would have held them.',
        CHEAPER_PLAN: 'A plan of the same product and type that covers what was used (and every feature used) for less.',
        RENEWAL_RIGHT_SIZE: 'Like CHEAPER_PLAN, for a license whose term ends within `renewalDays`: proposed for its renewal (AT_RENEWAL).',
      },
    },
  },
);

@ObjectType({ simpleResolvers: true, description: 'A number a recommendation rests on.' })
export class RecommendationEvidence {
  @Field(() => String, { description: 'What it is, e.g. `p95DailyPeak`, `inactiveSeats`, `daysWithUnmetDemand`.' })
  name!: string;

  @Field(() => Float, { description: "Its value, in the unit its name says (days, seats, percent, cents, a metric's unit)." })
  value!: number;
}

@ObjectType({ simpleResolvers: true, description: 'The migration a recommendation proposes: what changes, and when.' })
export class RecommendationTarget {
  @Field(() => ID, { nullable: true, description: 'The plan to move to; null when the license stays on its plan.' })
  planId!: string | null;

  @Field(() => LicenseLimits, { nullable: true, description: 'The limits after; null when they stay.' })
  limits!: LicenseLimits | null;

  @Field(() => [String], { nullable: true, description: 'The entitled features after; null when they stay.' })
  featureKeys!: string[] | null;

  @Field(() => MigrationEffective, { description: 'NOW, or AT_RENEWAL (RENEWAL_RIGHT_SIZE).' })
  effective!: MigrationEffective;
}

@ObjectType('Recommendation', { simpleResolvers: true, description: 'A change to a license that its use over a window argues for.' })
export class RecommendationNode {
  @Field(() => ID, { description: 'Stable: the same kind, license, evidence and target give the same id; new evidence, a new id.' })
  id!: string;

  @Field(() => RecommendationKind, { description: 'What it proposes.' })
  kind!: RecommendationKind;

  @Field(() => ID, { description: 'The organization of the license.' })
  organizationId!: string;

  @Field(() => ID, { description: 'The license it is about.' })
  licenseId!: string;

  @Field(() => String, { description: 'In words, with its numbers.' })
  summary!: string;

  @Field(() => Int, { description: 'The days of use it rests on, up to now.' })
  windowDays!: number;

  @Field(() => [RecommendationEvidence], { description: 'The numbers it rests on.' })
  evidence!: RecommendationEvidence[];

  @Field(() => RecommendationTarget, { description: 'The migration it proposes; `previewRecommendation` shows exactly what it would do.' })
  target!: RecommendationTarget;

  @Field(() => SafeIntResolver, {
    nullable: true,
    description:
      'How the yearly cost changes, in minor units of `currency` (negative saves), from its migration preview; null without prices.',
  })
  yearlyCostChangeCents!: number | null;

  @Field(() => String, { nullable: true, description: 'ISO 4217 currency of `yearlyCostChangeCents`; null without prices.' })
  currency!: string | null;
}

@InputType({ description: 'Which recommendations to give.' })
export class RecommendationFilter {
  @Field(() => [RecommendationKind], { nullable: true, description: 'Only these kinds.' })
  kinds?: RecommendationKind[] | null;

  @Field(() => [ID], { nullable: true, description: 'Only recommendations for these licenses.' })
  licenseIds?: string[] | null;

  @Field(() => Boolean, {
    defaultValue: false,
    description: 'Also those dismissed (until their dismissal ends or their evidence changes).',
  })
  includeDismissed!: boolean;
}

@ArgsType()
export class ApplyRecommendationArgs {
  @Field(() => ID, { description: 'The recommendation; NOT_FOUND once its evidence changed.' })
  id!: string;

  @Field(() => ConflictInput, { nullable: true, description: 'As on migrateLicense; RELEASE_LEAST_ACTIVE when omitted.' })
  onConflict?: ConflictInput | null;
}

@ArgsType()
export class DismissRecommendationArgs {
  @Field(() => ID, { description: 'The recommendation to hide.' })
  id!: string;

  @Field(() => String, { description: 'Why (at most 500 characters).' })
  reason!: string;

  @Field(() => Date, { nullable: true, description: 'Until when; for as long as its evidence stays the same when omitted.' })
  until?: Date | null;
}

@ObjectType('Renewal', {
  simpleResolvers: true,
  description: 'A license whose term ends soon: what it costs, how it was used, and what to change.',
})
export class RenewalNode {
  @Field(() => ID, { description: 'The license whose term ends soon.' })
  licenseId!: string;

  @Field(() => ID, { description: 'Its organization.' })
  organizationId!: string;

  @Field(() => String, { description: 'The name of its plan.' })
  planName!: string;

  @Field(() => LicenseType, { description: 'Its license type.' })
  type!: LicenseType;

  @Field(() => Date, { description: 'When its term ends.' })
  expiresAt!: Date;

  @Field(() => Boolean, { description: 'Whether it renews by itself at the end of its term.' })
  autoRenew!: boolean;

  @Field(() => SafeIntResolver, {
    nullable: true,
    description:
      'What a year of it costs at its plan’s prices (per term, times the terms in 365 days), in minor units; null without prices.',
  })
  yearlyCostCents!: number | null;

  @Field(() => String, { nullable: true, description: 'ISO 4217 currency of `yearlyCostCents`; null without prices.' })
  currency!: string | null;

  @Field(() => [MetricUsageSummary], { description: 'Its metrics over the last 90 days, as usageReport gives them.' })
  utilization!: MetricUsageSummary[];

  @Field(() => [RecommendationNode], { description: 'What its use argues for, RENEWAL_RIGHT_SIZE among them.' })
  recommendations!: RecommendationNode[];
}

@ObjectType('RecommendationSettings', {
  simpleResolvers: true,
  description: 'The windows and thresholds an organization’s recommendations are made with.',
})
export class RecommendationSettingsNode {
  @Field(() => ID, { description: 'The organization they apply to.' })
  organizationId!: string;

  @Field(() => Int, { description: 'The days of use right-sizing and the other kinds look at (30 to 365; 90 by default).' })
  windowDays!: number;

  @Field(() => Int, { description: 'A named seat unused this long is inactive (7 to 365; 30 by default).' })
  inactiveDays!: number;

  @Field(() => Int, { description: 'A premium feature unused this long is unused (7 to 365; 60 by default).' })
  unusedFeatureDays!: number;

  @Field(() => Int, {
    description: 'Above the 95th percentile of daily peaks, in percent of it, at least one unit (0 to 100; 10 by default).',
  })
  bufferPercent!: number;

  @Field(() => Int, {
    description: 'More than this share of days, in percent, with demand left unmet argues for a higher limit (1 to 100; 10 by default).',
  })
  unmetDaySharePercent!: number;

  @Field(() => Int, { description: 'A license ending this soon is right-sized for its renewal (1 to 365; 60 by default).' })
  renewalDays!: number;

  @Field(() => Int, {
    description:
      'A new recommendation whose yearly effect, saving or cost, reaches this many minor units of its currency raises a RECOMMENDATION alert (0 to 2,000,000,000; 10,000 by default).',
  })
  alertAboveCents!: number;

  @Field(() => Boolean, { description: 'Whether these are the defaults (never set for the organization).' })
  isDefault!: boolean;
}

@InputType({ description: 'Changes an organization’s recommendation settings; a field omitted (or null) keeps its value.' })
export class RecommendationSettingsInput {
  @Field(() => Int, { nullable: true, description: 'The days of use looked at (30 to 365).' })
  windowDays?: number | null;

  @Field(() => Int, { nullable: true, description: 'Days unused after which a named seat is inactive (7 to 365).' })
  inactiveDays?: number | null;

  @Field(() => Int, { nullable: true, description: 'Days unused after which a premium feature is unused (7 to 365).' })
  unusedFeatureDays?: number | null;

  @Field(() => Int, { nullable: true, description: 'Headroom above the 95th percentile of daily peaks, in percent (0 to 100).' })
  bufferPercent?: number | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Share of days with unmet demand, in percent, above which a higher limit is recommended (1 to 100).',
  })
  unmetDaySharePercent?: number | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Days before the end of a term from which a license is right-sized for its renewal (1 to 365).',
  })
  renewalDays?: number | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Yearly effect, in minor units, from which a new recommendation raises a RECOMMENDATION alert (0 to 2000000000).',
  })
  alertAboveCents?: number | null;
}
