import { Arg, Args, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { Operation } from '../../common/operation';
import { MigrateLicenseResult, MigrationPreview } from '../migration/migration.types';
import {
  ApplyRecommendationArgs,
  DismissRecommendationArgs,
  RecommendationFilter,
  RecommendationNode,
  RecommendationSettingsInput,
  RecommendationSettingsNode,
  RenewalNode,
} from './recommendation.types';
import type { RecommendationService } from './recommendations';
import type { RecommendationSettingsService } from './recommendation-settings';

@Resolver()
export class RecommendationResolver {
  constructor(
    private readonly service: RecommendationService,
    private readonly settings: RecommendationSettingsService,
  ) {}

  @Query(() => RecommendationSettingsNode, { description: 'The windows and thresholds of an organization’s recommendations.' })
  recommendationSettings(
    @Arg('organizationId', () => ID, { description: 'The organization; its defaults when it never set any.' }) organizationId: string,
    @Ctx() op: Operation,
  ): Promise<RecommendationSettingsNode> {
    return this.settings.get(op, organizationId);
  }

  @Mutation(() => RecommendationSettingsNode, {
    description: 'Changes the windows and thresholds of an organization’s recommendations (who manages its licenses); audited.',
  })
  setRecommendationSettings(
    @Arg('organizationId', () => ID, { description: 'The organization whose settings to change.' }) organizationId: string,
    @Arg('input', () => RecommendationSettingsInput, { description: 'What to change; out-of-range values are BAD_USER_INPUT.' })
    input: RecommendationSettingsInput,
    @Ctx() op: Operation,
  ): Promise<RecommendationSettingsNode> {
    return this.settings.set(op, organizationId, input);
  }

  @Query(() => [RecommendationNode], {
    description:
      'What the last 90 days of an organization’s licenses argue for: seats to reclaim, limits to lower or raise, premium features unused; each with its evidence, the migration it proposes and what it does to the yearly cost. Dismissed ones are left out unless asked for.',
  })
  recommendations(
    @Arg('organizationId', () => ID, { description: 'The organization whose licenses to look at.' }) organizationId: string,
    @Arg('filter', () => RecommendationFilter, {
      nullable: true,
      description: 'Which recommendations; omitted, every kind for every license, dismissed ones left out.',
    })
    filter: RecommendationFilter | null,
    @Ctx() op: Operation,
  ): Promise<RecommendationNode[]> {
    return this.service.list(op, organizationId, filter);
  }

  @Query(() => [RenewalNode], {
    description:
      'The active licenses whose term ends within `withinDays` (90 by default), soonest first: yearly cost, use over the last 90 days, and recommendations, RENEWAL_RIGHT_SIZE among them.',
  })
  renewals(
    @Arg('organizationId', () => ID, { description: 'The organization whose licenses to look at.' }) organizationId: string,
    @Arg('withinDays', () => Int, { defaultValue: 90, description: 'How many days ahead to look.' }) withinDays: number,
    @Ctx() op: Operation,
  ): Promise<RenewalNode[]> {
    return this.service.renewals(op, organizationId, withinDays);
  }

  @Query(() => MigrationPreview, { description: 'The exact preview of the migration a recommendation proposes, as it stands now.' })
  previewRecommendation(
    @Arg('id', () => ID, { description: 'The recommendation; NOT_FOUND once its evidence changed.' }) id: string,
    @Ctx() op: Operation,
  ): Promise<MigrationPreview> {
    return this.service.preview(op, id);
  }

  @Mutation(() => MigrateLicenseResult, {
    description:
      'Applies a recommendation through migrateLicense, exactly as previewRecommendation shows it; audited with the recommendation’s id. NOT_FOUND once its evidence changed (it has a new id then).',
  })
  applyRecommendation(
    @Args(() => ApplyRecommendationArgs) args: ApplyRecommendationArgs,
    @Ctx() op: Operation,
  ): Promise<MigrateLicenseResult> {
    return this.service.apply(op, args.id, args.onConflict);
  }

  @Mutation(() => RecommendationNode, {
    description: 'Hides a recommendation until `until`, or until its evidence changes; audited.',
  })
  dismissRecommendation(
    @Args(() => DismissRecommendationArgs) args: DismissRecommendationArgs,
    @Ctx() op: Operation,
  ): Promise<RecommendationNode> {
    return this.service.dismiss(op, args.id, args.reason, args.until);
  }
}
