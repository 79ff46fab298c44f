import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../../server/context';
import { LicenseNode } from '../license/license.types';
import { ConflictStrategy, MigrationEffective, MigrationStatus } from './migration.enums';
import type { MigrationService } from './migration.service';
import { ConflictInput, LicenseMigrationNode, MigrateLicenseResult, MigrationPreview, MigrationTargetInput } from './migration.types';

@Resolver(() => LicenseNode)
export class MigrationResolver {
  constructor(private readonly migrationService: MigrationService) {}

  @Query(() => MigrationPreview, {
    description:
      'What migrating a license would do, exactly: features gained and lost, limits before and after, the seats and leases freed (least active first), the violations and alerts, the price difference and proration. `onConflict` defaults to RELEASE_LEAST_ACTIVE.',
  })
  previewLicenseMigration(
    @Arg('licenseId', () => ID) licenseId: string,
    @Arg('target', () => MigrationTargetInput) target: MigrationTargetInput,
    @Arg('effective', () => MigrationEffective, { defaultValue: MigrationEffective.NOW }) effective: MigrationEffective,
    @Arg('onConflict', () => ConflictInput, { nullable: true }) onConflict: ConflictInput | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<MigrationPreview> {
    return this.migrationService.preview(
      ctx,
      licenseId,
      target,
      effective,
      onConflict ?? { strategy: ConflictStrategy.RELEASE_LEAST_ACTIVE },
    );
  }

  @Mutation(() => MigrateLicenseResult, {
    description:
      'Moves a license to another plan, other limits or another type, as its preview says, in one transaction; or, AT_RENEWAL, when its term is renewed. REJECT changes nothing if anything is over the new limits.',
  })
  migrateLicense(
    @Arg('licenseId', () => ID) licenseId: string,
    @Arg('target', () => MigrationTargetInput) target: MigrationTargetInput,
    @Arg('effective', () => MigrationEffective, { defaultValue: MigrationEffective.NOW }) effective: MigrationEffective,
    @Arg('onConflict', () => ConflictInput) onConflict: ConflictInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<MigrateLicenseResult> {
    return this.migrationService.migrate(ctx, licenseId, target, effective, onConflict);
  }

  @Mutation(() => LicenseMigrationNode, { description: 'Cancels a migration waiting for renewal.' })
  cancelLicenseMigration(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<LicenseMigrationNode> {
    return this.migrationService.cancel(ctx, id);
  }

  @FieldResolver(() => [LicenseMigrationNode], {
    description: 'Every migration of the license, oldest first: applied, waiting, cancelled.',
  })
  migrations(@Root() license: LicenseNode, @Ctx() ctx: GraphQLContext): Promise<LicenseMigrationNode[]> {
    return this.migrationService.list(ctx, license.id);
  }

  @FieldResolver(() => LicenseMigrationNode, { nullable: true, description: 'The migration waiting for the renewal of the term, if any.' })
  async scheduledMigration(@Root() license: LicenseNode, @Ctx() ctx: GraphQLContext): Promise<LicenseMigrationNode | null> {
    return (await this.migrationService.list(ctx, license.id)).find((m) => m.status === MigrationStatus.SCHEDULED) ?? null;
  }
}
