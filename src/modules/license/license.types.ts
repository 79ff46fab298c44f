import { ArrayMaxSize, IsIn, Length, Max, Min, ValidateNested } from 'class-validator';
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { Connection } from '../../common/pagination';
import { LicenseLimits, LimitsInput, limitsOf, Overage, OverageInput, overageOf } from '../catalog/terms.types';
import type { License } from './license.entity';
import { LicenseStatus, LicenseType } from '../../kernel/license.enums';
import { latestTerm } from './term';
import { graceEndsAt } from './validation';

@ObjectType({ simpleResolvers: true, description: 'When a license is in force: its term, grace period and renewal.' })
export class LicenseTerm {
  @Field(() => Date, { description: 'When the license starts; validation fails with NOT_YET_VALID before it.' })
  startsAt!: Date;

  @Field(() => Date, { nullable: true, description: 'End of the current term; null for a perpetual license.' })
  expiresAt!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description: 'Start of the latest term (a renewal before the end starts its term where the one before ends); null when perpetual.',
  })
  termStartedAt!: Date | null;

  @Field(() => Int, { description: 'Days after `expiresAt` during which the license still validates, with the warning IN_GRACE_PERIOD.' })
  gracePeriodDays!: number;

  @Field(() => Date, { nullable: true, description: 'When access ends: the term plus its grace period.' })
  graceEndsAt!: Date | null;

  @Field(() => Int, { nullable: true, description: 'Length of one term; renewals extend by it.' })
  termDays!: number | null;

  @Field(() => Boolean, {
    description: 'Renewed at the end of each term by the expiry watch, by `termDays` (else the length of the latest term).',
  })
  autoRenew!: boolean;
}

@ObjectType({ simpleResolvers: true, description: 'The site a SITE license is bound to; empty lists for other types.' })
export class SiteIdentifiersNode {
  @Field(() => [String], { description: 'E-mail domains within the site; their subdomains are included.' })
  domains!: string[];

  @Field(() => [String], { description: 'IPv4 or IPv6 CIDR ranges within the site.' })
  cidrs!: string[];
}

@ObjectType('License', { simpleResolvers: true, description: 'A license of one organization. Its key is shown once, when issued.' })
export class LicenseNode {
  @Field(() => ID, { description: "The license's id." })
  id!: string;

  @Field(() => ID, { description: 'The organization that holds the license.' })
  organizationId!: string;

  @Field(() => ID, { description: 'The plan it was issued from (or migrated to).' })
  planId!: string;

  @Field(() => ID, { description: "The product it licenses (its plan's)." })
  productId!: string;

  @Field(() => String, { description: 'The last characters of the key, to recognise it.' })
  keyHint!: string;

  @Field(() => LicenseType, { description: 'How it grants access; decides which limits and checks apply.' })
  type!: LicenseType;

  @Field(() => LicenseStatus, { description: 'Where it is in its lifecycle; only ACTIVE validates.' })
  status!: LicenseStatus;

  @Field(() => String, { nullable: true, description: 'Why the license was suspended or revoked.' })
  statusReason!: string | null;

  @Field(() => LicenseTerm, { description: 'When it is in force: term, grace period, renewal.' })
  term!: LicenseTerm;

  @Field(() => LicenseLimits, { description: 'Its limits; null in a limit means unlimited.' })
  limits!: LicenseLimits;

  @Field(() => Overage, { description: 'What happens when usage reaches a limit.' })
  overage!: Overage;

  @Field(() => Int, { description: 'Seconds a concurrent lease lives without a heartbeat; each heartbeat extends it by this much.' })
  leaseTtlSeconds!: number;

  @Field(() => Int, { nullable: true, description: 'Client calls its key may make per minute; null for no limit.' })
  clientCallsPerMinute!: number | null;

  @Field(() => SiteIdentifiersNode, { description: 'The site it is bound to (SITE licenses).' })
  site!: SiteIdentifiersNode;

  @Field(() => Date, { description: 'When it was issued.' })
  createdAt!: Date;

  @Field(() => Date, { description: 'When it last changed (status, term, limits, key).' })
  updatedAt!: Date;

  static from(l: License): LicenseNode {
    return Object.assign(new LicenseNode(), {
      id: l.id,
      organizationId: l.organization.id,
      planId: l.plan.id,
      productId: l.product.id,
      keyHint: l.keyHint,
      type: l.type,
      status: l.status,
      statusReason: l.statusReason ?? null,
      term: {
        startsAt: l.startsAt,
        expiresAt: l.expiresAt ?? null,
        termStartedAt: latestTerm(l)?.startedAt ?? null,
        gracePeriodDays: l.gracePeriodDays,
        graceEndsAt: graceEndsAt(l.expiresAt ?? null, l.gracePeriodDays),
        termDays: l.termDays ?? null,
        autoRenew: l.autoRenew,
      },
      limits: limitsOf(l),
      overage: overageOf(l),
      leaseTtlSeconds: l.leaseTtlSeconds,
      clientCallsPerMinute: l.clientCallsPerMinute ?? null,
      site: { domains: [...l.siteDomains], cidrs: [...l.siteCidrs] },
      createdAt: l.createdAt,
      updatedAt: l.updatedAt,
    });
  }
}

@ObjectType({ simpleResolvers: true, description: 'A page of licenses, oldest first.' })
export class LicenseConnection extends Connection(LicenseNode) {}

@ObjectType({ simpleResolvers: true, description: 'A newly issued license and its key. The key is shown this once and never again.' })
export class IssuedLicense {
  @Field(() => LicenseNode, { description: 'The license as issued.' })
  license!: LicenseNode;

  @Field(() => String, { description: 'The license key, shown this once: the server keeps only a digest of it.' })
  key!: string;
}

@InputType({ description: 'The site a SITE license is bound to: an address or e-mail domain within one of these validates.' })
export class SiteInput {
  @Field(() => [String], { description: 'E-mail domains; subdomains are included.' })
  @ArrayMaxSize(100)
  @Length(1, 253, { each: true })
  domains: string[] = [];

  @Field(() => [String], { description: 'IPv4 or IPv6 CIDR ranges, e.g. 10.20.0.0/16.' })
  @ArrayMaxSize(100)
  @Length(1, 64, { each: true })
  cidrs: string[] = [];
}

@InputType({ description: 'A license from a plan; every field but the organization and plan overrides the plan.' })
export class IssueLicenseInput {
  @Field(() => ID, { description: 'The organization that will hold the license.' })
  organizationId!: string;

  @Field(() => ID, { description: 'The plan it is issued from; it gives every default.' })
  planId!: string;

  @Field(() => LicenseType, { nullable: true, description: "Defaults to the plan's type." })
  @IsIn(Object.values(LicenseType))
  type?: LicenseType | null;

  @Field(() => Date, { nullable: true, description: 'Defaults to now.' })
  startsAt?: Date | null;

  @Field(() => Date, { nullable: true, description: "Defaults to the start plus the plan's term." })
  expiresAt?: Date | null;

  @Field(() => Int, {
    nullable: true,
    description: "Length of one term in days (1 to 36500); renewals extend by it. Defaults to the plan's.",
  })
  @Min(1)
  @Max(36_500)
  termDays?: number | null;

  @Field(() => Int, {
    nullable: true,
    description: "Days after the end during which it still validates (0 to 365). Defaults to the plan's.",
  })
  @Min(0)
  @Max(365)
  gracePeriodDays?: number | null;

  @Field(() => Boolean, { nullable: true, description: 'Renew at the end of each term by itself. Defaults to false.' })
  autoRenew?: boolean | null;

  @Field(() => LimitsInput, { nullable: true, description: "Each limit given replaces the plan's." })
  @ValidateNested()
  limits?: LimitsInput | null;

  @Field(() => OverageInput, { nullable: true, description: "What happens at a limit. Defaults to the plan's policy." })
  @ValidateNested()
  overage?: OverageInput | null;

  @Field(() => Int, {
    nullable: true,
    description: "Seconds a concurrent lease lives without a heartbeat (1 to 604800). Defaults to the plan's.",
  })
  @Min(1)
  @Max(7 * 86_400)
  leaseTtlSeconds?: number | null;

  @Field(() => Int, { nullable: true, description: "Client calls its key may make per minute; defaults to the plan's." })
  @Min(1)
  @Max(100_000_000)
  clientCallsPerMinute?: number | null;

  @Field(() => [String], { nullable: true, description: "Feature keys entitled; defaults to the plan's features." })
  @ArrayMaxSize(500)
  @Length(1, 100, { each: true })
  featureKeys?: string[] | null;

  @Field(() => SiteInput, { nullable: true, description: 'Required for SITE licenses.' })
  @ValidateNested()
  site?: SiteInput | null;
}

@InputType({ description: "How far to extend a license: by days, or to a new end; neither renews by the license's own term length." })
export class RenewLicenseInput {
  @Field(() => Int, { nullable: true, description: "Days to add; defaults to the license's term." })
  @Min(1)
  @Max(36_500)
  termDays?: number | null;

  @Field(() => Date, { nullable: true, description: 'The new end of the term, instead of `termDays`.' })
  expiresAt?: Date | null;
}

@InputType({ description: 'Which licenses to list; every field given must match.' })
export class LicenseFilter {
  @Field(() => ID, { nullable: true, description: 'Only licenses of this organization (others than platform admins see their own only).' })
  organizationId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only licenses of this plan.' })
  planId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only licenses of this product.' })
  productId?: string | null;

  @Field(() => LicenseType, { nullable: true, description: 'Only licenses of this type.' })
  type?: LicenseType | null;

  @Field(() => LicenseStatus, { nullable: true, description: 'Only licenses in this status.' })
  status?: LicenseStatus | null;
}
