import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { CHECKED_BY_THE_SERVICE } from '../../common/input';
import { PageArgs } from '../../common/pagination';
import { LicenseKeyArgs } from './license-key.types';
import type { LicenseContext } from './license.loaders';
import { FeatureNode, PlanNode, ProductNode } from '../catalog/catalog.types';
import { OrganizationNode } from '../organization/organization.types';
import type { LicenseService } from './license.service';
import { IssuedLicense, IssueLicenseInput, LicenseConnection, LicenseFilter, LicenseNode, RenewLicenseInput } from './license.types';
import type { ValidationService } from './validation.service';
import { FeatureCheckResult, ValidationResult } from './validation.types';

@Resolver(() => LicenseNode)
export class LicenseResolver {
  constructor(private readonly licenseService: LicenseService) {}

  @Query(() => LicenseNode, { description: "One license by id; NOT_FOUND when it does not exist or is outside the caller's organization." })
  async license(@Arg('id', () => ID, { description: "The license's id." }) id: string, @Ctx() ctx: LicenseContext): Promise<LicenseNode> {
    return LicenseNode.from(await this.licenseService.get(ctx, id));
  }

  @Query(() => LicenseConnection, { description: 'Licenses the caller may see, oldest first, filtered and paginated.' })
  async licenses(
    @Arg('filter', () => LicenseFilter, { nullable: true, description: 'Which licenses; omitted, all the caller may see.' })
    filter: LicenseFilter | null,
    @Args(() => PageArgs) page: PageArgs,
    @Ctx() ctx: LicenseContext,
  ): Promise<LicenseConnection> {
    const result = await this.licenseService.list(ctx, filter ?? {}, page);
    return { nodes: result.nodes.map(LicenseNode.from), pageInfo: result.pageInfo };
  }

  @FieldResolver(() => OrganizationNode, { description: 'The organization that holds the license.' })
  async organization(@Root() license: LicenseNode, @Ctx() ctx: LicenseContext): Promise<OrganizationNode> {
    return (await ctx.loaders.organization.load(license.organizationId))!;
  }

  @FieldResolver(() => PlanNode, { description: 'The plan it was issued from (or migrated to).' })
  async plan(@Root() license: LicenseNode, @Ctx() ctx: LicenseContext): Promise<PlanNode> {
    return (await ctx.loaders.plan.load(license.planId))!;
  }

  @FieldResolver(() => ProductNode, { description: 'The product it licenses.' })
  async product(@Root() license: LicenseNode, @Ctx() ctx: LicenseContext): Promise<ProductNode> {
    return (await ctx.loaders.product.load(license.productId))!;
  }

  @FieldResolver(() => [FeatureNode], { description: 'Features the license entitles (core features of its product come with it).' })
  features(@Root() license: LicenseNode, @Ctx() ctx: LicenseContext): Promise<FeatureNode[]> {
    return ctx.loaders.featuresOfLicense.load(license.id);
  }

  @Mutation(() => IssuedLicense, { description: 'Issues a license from a plan. The key in the answer is shown only this once.' })
  async issueLicense(
    @Arg('input', () => IssueLicenseInput, { description: 'The organization, plan, and what overrides the plan.' })
    input: IssueLicenseInput,
    @Ctx() ctx: LicenseContext,
  ): Promise<IssuedLicense> {
    const { license, key } = await this.licenseService.issue(ctx, input);
    return { license: LicenseNode.from(license), key };
  }

  @Mutation(() => LicenseNode, { description: 'ACTIVE → SUSPENDED; live leases end.' })
  async suspendLicense(
    @Arg('id', () => ID, { description: 'The license to suspend; INVALID_STATE_TRANSITION unless ACTIVE.' }) id: string,
    @Arg('reason', () => String, { nullable: true, description: 'Why, shown as `statusReason` and recorded in the audit log.' }) reason:
      | string
      | null,
    @Ctx() ctx: LicenseContext,
  ): Promise<LicenseNode> {
    return LicenseNode.from(await this.licenseService.suspend(ctx, id, reason));
  }

  @Mutation(() => LicenseNode, { description: 'SUSPENDED → ACTIVE.' })
  async resumeLicense(
    @Arg('id', () => ID, { description: 'The license to resume; INVALID_STATE_TRANSITION unless SUSPENDED.' }) id: string,
    @Ctx() ctx: LicenseContext,
  ): Promise<LicenseNode> {
    return LicenseNode.from(await this.licenseService.resume(ctx, id));
  }

  @Mutation(() => IssuedLicense, {
    description:
      'Gives the license a new key, for one leaked or lost: the old key stops at once. The new key in the answer is shown only this once.',
  })
  async regenerateLicenseKey(
    @Arg('id', () => ID, { description: 'The license whose key to replace; INVALID_STATE_TRANSITION when it is REVOKED.' }) id: string,
    @Ctx() ctx: LicenseContext,
  ): Promise<IssuedLicense> {
    const { license, key } = await this.licenseService.regenerateKey(ctx, id);
    return { license: LicenseNode.from(license), key };
  }

  @Mutation(() => LicenseNode, { description: 'Ends a license for good; live leases end.' })
  async revokeLicense(
    @Arg('id', () => ID, { description: 'The license to revoke; INVALID_STATE_TRANSITION when already REVOKED.' }) id: string,
    @Arg('reason', () => String, { nullable: true, description: 'Why, shown as `statusReason` and recorded in the audit log.' }) reason:
      | string
      | null,
    @Ctx() ctx: LicenseContext,
  ): Promise<LicenseNode> {
    return LicenseNode.from(await this.licenseService.revoke(ctx, id, reason));
  }

  @Mutation(() => LicenseNode, {
    description:
      'Turns automatic renewal on or off: an auto-renewing license is renewed by its term at the end of each term (off, it ends with its term).',
  })
  async setLicenseAutoRenew(
    @Arg('id', () => ID, { description: 'The license; INVALID_STATE_TRANSITION when it is REVOKED.' }) id: string,
    @Arg('autoRenew', () => Boolean, { description: 'True to renew at the end of each term, false to end with the term.' })
    autoRenew: boolean,
    @Ctx() ctx: LicenseContext,
  ): Promise<LicenseNode> {
    return LicenseNode.from(await this.licenseService.setAutoRenew(ctx, id, autoRenew));
  }

  @Mutation(() => LicenseNode, { description: 'Extends the term by its length, or to a given end.' })
  async renewLicense(
    @Arg('id', () => ID, { description: 'The license to renew; an EXPIRED license becomes ACTIVE again.' }) id: string,
    @Arg('input', () => RenewLicenseInput, {
      nullable: true,
      description: "How far; omitted, by the license's term length (BAD_USER_INPUT when it has none).",
    })
    input: RenewLicenseInput | null,
    @Ctx() ctx: LicenseContext,
  ): Promise<LicenseNode> {
    return LicenseNode.from(await this.licenseService.renew(ctx, id, input ?? {}));
  }
}

/** Checked by the service (lengths, key format): client operations skip class-validator. */
@ArgsType()
class ValidateLicenseArgs extends LicenseKeyArgs {
  @Field(() => String, { nullable: true, description: 'The machine; checked against its lease (CONCURRENT).' })
  fingerprint?: string | null;

  @Field(() => String, { nullable: true, description: 'The named user; checked against its seat (USER), or its e-mail domain (SITE).' })
  user?: string | null;

  @Field(() => String, { nullable: true, description: 'A feature key to check the entitlement of.' })
  feature?: string | null;

  @Field(() => String, { nullable: true, description: 'An IP address or e-mail domain (SITE).' })
  site?: string | null;

  @Field(() => Date, {
    nullable: true,
    description: "The client's clock: over 5 minutes off adds a warning; over 24 hours fails and is recorded as CLOCK_TAMPERING.",
  })
  clientTime?: Date | null;
}

/** Checked by the service (lengths, key format): client operations skip class-validator. */
@ArgsType()
class CheckFeatureArgs extends LicenseKeyArgs {
  @Field(() => String, { description: 'The feature key to check.' })
  feature!: string;
}

/** Client-facing reads, authorized by the license key alone. */
@Resolver()
export class LicenseClientResolver {
  constructor(private readonly validation: ValidationService) {}

  @Query(() => ValidationResult, {
    description: 'Runs every check that applies and returns each with its code, not only the first failure.',
  })
  validateLicense(
    @Args(() => ValidateLicenseArgs, CHECKED_BY_THE_SERVICE) args: ValidateLicenseArgs,
    @Ctx() ctx: LicenseContext,
  ): Promise<ValidationResult> {
    const { key, ...request } = args;
    return this.validation.validate(key, request, ctx.requestId);
  }

  @Query(() => FeatureCheckResult, {
    description: "Whether a feature may be used now under the key's license; a denial is recorded as a violation.",
  })
  checkFeature(
    @Args(() => CheckFeatureArgs, CHECKED_BY_THE_SERVICE) args: CheckFeatureArgs,
    @Ctx() ctx: LicenseContext,
  ): Promise<FeatureCheckResult> {
    return this.validation.checkFeature(args.key, args.feature, ctx.requestId);
  }
}
