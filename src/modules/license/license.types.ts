import { ArrayMaxSize, IsIn, Length, Max, Min, ValidateNested } from 'class-validator';
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { Connection } from '../../common/pagination';
import { LicenseLimits, LimitsInput, limitsOf, Overage, OverageInput, overageOf } from '../catalog/terms.types';
import type { License } from './license.entity';
import { LicenseStatus, LicenseType } from '../../kernel/license.enums';
import { latestTerm } from './term';
import { graceEndsAt } from './validation';

@ObjectType({ simpleResolvers: true })
export class LicenseTerm {
  @Field(() => Date)
  startsAt!: Date;

  @Field(() => Date, { nullable: true, description: 'End of the current term; null for a perpetual license.' })
  expiresAt!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description: 'Start of the latest term (a renewal before the end starts its term where the one before ends); null when perpetual.',
  })
  termStartedAt!: Date | null;

  @Field(() => Int)
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

@ObjectType({ simpleResolvers: true })
export class SiteIdentifiersNode {
  @Field(() => [String])
  domains!: string[];

  @Field(() => [String])
  cidrs!: string[];
}

@ObjectType('License', { simpleResolvers: true, description: 'A license of one organization. Its key is shown once, when issued.' })
export class LicenseNode {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  organizationId!: string;

  @Field(() => ID)
  planId!: string;

  @Field(() => ID)
  productId!: string;

  @Field(() => String, { description: 'The last characters of the key, to recognise it.' })
  keyHint!: string;

  @Field(() => LicenseType)
  type!: LicenseType;

  @Field(() => LicenseStatus)
  status!: LicenseStatus;

  @Field(() => String, { nullable: true, description: 'Why the license was suspended or revoked.' })
  statusReason!: string | null;

  @Field(() => LicenseTerm)
  term!: LicenseTerm;

  @Field(() => LicenseLimits)
  limits!: LicenseLimits;

  @Field(() => Overage)
  overage!: Overage;

  @Field(() => Int)
  leaseTtlSeconds!: number;

  @Field(() => Int, { nullable: true, description: 'Client calls its key may make per minute; null for no limit.' })
  clientCallsPerMinute!: number | null;

  @Field(() => SiteIdentifiersNode)
  site!: SiteIdentifiersNode;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
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

@ObjectType({ simpleResolvers: true })
export class LicenseConnection extends Connection(LicenseNode) {}

@ObjectType({ simpleResolvers: true, description: 'A newly issued license and its key. The key is shown this once and never again.' })
export class IssuedLicense {
  @Field(() => LicenseNode)
  license!: LicenseNode;

  @Field(() => String)
  key!: string;
}

@InputType()
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
  @Field(() => ID)
  organizationId!: string;

  @Field(() => ID)
  planId!: string;

  @Field(() => LicenseType, { nullable: true, description: "Defaults to the plan's type." })
  @IsIn(Object.values(LicenseType))
  type?: LicenseType | null;

  @Field(() => Date, { nullable: true, description: 'Defaults to now.' })
  startsAt?: Date | null;

  @Field(() => Date, { nullable: true, description: "Defaults to the start plus the plan's term." })
  expiresAt?: Date | null;

  @Field(() => Int, { nullable: true })
  @Min(1)
  @Max(36_500)
  termDays?: number | null;

  @Field(() => Int, { nullable: true })
  @Min(0)
  @Max(365)
  gracePeriodDays?: number | null;

  @Field(() => Boolean, { nullable: true })
  autoRenew?: boolean | null;

  @Field(() => LimitsInput, { nullable: true, description: "Each limit given replaces the plan's." })
  @ValidateNested()
  limits?: LimitsInput | null;

  @Field(() => OverageInput, { nullable: true })
  @ValidateNested()
  overage?: OverageInput | null;

  @Field(() => Int, { nullable: true })
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

@InputType()
export class RenewLicenseInput {
  @Field(() => Int, { nullable: true, description: "Days to add; defaults to the license's term." })
  @Min(1)
  @Max(36_500)
  termDays?: number | null;

  @Field(() => Date, { nullable: true, description: 'The new end of the term, instead of `termDays`.' })
  expiresAt?: Date | null;
}

@InputType()
export class LicenseFilter {
  @Field(() => ID, { nullable: true })
  organizationId?: string | null;

  @Field(() => ID, { nullable: true })
  planId?: string | null;

  @Field(() => ID, { nullable: true })
  productId?: string | null;

  @Field(() => LicenseType, { nullable: true })
  type?: LicenseType | null;

  @Field(() => LicenseStatus, { nullable: true })
  status?: LicenseStatus | null;
}
