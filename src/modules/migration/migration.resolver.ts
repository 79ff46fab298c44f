import { ValidateNested } from 'class-validator';
import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { MigrationContext } from './migration.loaders';
import type { LicenseService } from '../license/license.service';
import { IssuedLicense, LicenseNode } from '../license/license.types';
import type { FeatureTransfer } from './feature-transfer';
import { ConflictStrategy, MigrationEffective } from './migration.enums';
import { MigrationService } from './migration.service';
import { ConflictInput, LicenseMigrationNode, MigrateLicenseResult, MigrationPreview, MigrationTargetInput } from './migration.types';

/** What a migration and its preview are asked, with the same defaults: a preview is of exactly that migration. */
@ArgsType()
class MigrationArgs {
  @Field(() => ID, { description: 'The license to migrate.' })
  licenseId!: string;

  @Field(() => MigrationTargetInput, { description: 'Where to move it.' })
  @ValidateNested()
  target!: MigrationTargetInput;

  @Field(() => MigrationEffective, { defaultValue: MigrationEffective.NOW, description: 'Now, or at the renewal of its term.' })
  effective!: MigrationEffective;

  @Field(() => ConflictInput, {
    defaultValue: Object.assign(new ConflictInput(), { strategy: ConflictStrategy.RELEASE_LEAST_ACTIVE }),
    description: 'What to do with what is over the new limits; RELEASE_LEAST_ACTIVE by default.',
  })
  onConflict!: ConflictInput;
}

@Resolver(() => LicenseNode)
export class MigrationResolver {
  constructor(
    private readonly migrationService: MigrationService,
    private readonly transfer: FeatureTransfer,
    private readonly licenses: LicenseService,
  ) {}

  @Query(() => MigrationPreview, {
    description:
      'What migrating a license would do, exactly: features gained and lost, limits before and after, the seats and leases freed (least active first), the violations and alerts, the price difference and proration, and warnings. `onConflict` defaults to RELEASE_LEAST_ACTIVE, as on migrateLicense.',
  })
  previewLicenseMigration(@Args(() => MigrationArgs) args: MigrationArgs, @Ctx() ctx: MigrationContext): Promise<MigrationPreview> {
    return this.migrationService.preview(ctx, args.licenseId, args.target, args.effective, args.onConflict);
  }

  @Mutation(() => MigrateLicenseResult, {
    description:
      'Moves a license to another plan, other limits or another type, as its preview says, in one transaction; or, AT_RENEWAL, when its term is renewed. REJECT changes nothing if anything is over the new limits; `onConflict` defaults to RELEASE_LEAST_ACTIVE, as on its preview.',
  })
  migrateLicense(@Args(() => MigrationArgs) args: MigrationArgs, @Ctx() ctx: MigrationContext): Promise<MigrateLicenseResult> {
    return this.migrationService.migrate(ctx, args.licenseId, args.target, args.effective, args.onConflict);
  }

  @Mutation(() => LicenseNode, {
    description:
      'Merges a FEATURE license into another license of its organization and product: that one gains its features, and the FEATURE license is revoked as merged. Returns the license merged into.',
  })
  async mergeFeatureLicense(
    @Arg('featureLicenseId', () => ID, { description: 'The FEATURE license to merge; it ends REVOKED.' }) featureLicenseId: string,
    @Arg('intoLicenseId', () => ID, { description: 'The license that gains its features (same organization and product).' })
    intoLicenseId: string,
    @Ctx() ctx: MigrationContext,
  ): Promise<LicenseNode> {
    const merged = await this.transfer.merge(ctx, featureLicenseId, intoLicenseId);
    return LicenseNode.from(await this.licenses.get(ctx, merged.intoLicenseId));
  }

  @Mutation(() => IssuedLicense, {
    description:
      'Splits features off a license into a new FEATURE license of the same organization, plan and term. The key in the answer is shown only this once.',
  })
  async splitFeatureLicense(
    @Arg('licenseId', () => ID, { description: 'The license to take the features from.' }) licenseId: string,
    @Arg('featureKeys', () => [String], {
      description: 'The feature keys to move to the new FEATURE license; each must be entitled by the license.',
    })
    featureKeys: string[],
    @Ctx() ctx: MigrationContext,
  ): Promise<IssuedLicense> {
    const split = await this.transfer.split(ctx, licenseId, featureKeys);
    return { license: LicenseNode.from(await this.licenses.get(ctx, split.licenseId)), key: split.key };
  }

  @Mutation(() => LicenseMigrationNode, { description: 'Cancels a migration waiting for renewal.' })
  cancelLicenseMigration(
    @Arg('id', () => ID, { description: 'The migration; INVALID_STATE_TRANSITION unless SCHEDULED.' }) id: string,
    @Ctx() ctx: MigrationContext,
  ): Promise<LicenseMigrationNode> {
    return this.migrationService.cancel(ctx, id);
  }

  @FieldResolver(() => [LicenseMigrationNode], {
    description: 'Every migration of the license, oldest first: applied, waiting, cancelled.',
  })
  migrations(@Root() license: LicenseNode, @Ctx() ctx: MigrationContext): Promise<LicenseMigrationNode[]> {
    return ctx.loaders.migrationsOfLicense.load(license.id);
  }

  @FieldResolver(() => LicenseMigrationNode, { nullable: true, description: 'The migration waiting for the renewal of the term, if any.' })
  async scheduledMigration(@Root() license: LicenseNode, @Ctx() ctx: MigrationContext): Promise<LicenseMigrationNode | null> {
    return MigrationService.waiting(await ctx.loaders.migrationsOfLicense.load(license.id));
  }
}
