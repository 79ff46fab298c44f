import { ArrayMaxSize, IsIn, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { Connection } from '../../common/pagination';
import { LicenseType } from '../../kernel/license.enums';
import { FeatureTier } from './catalog.enums';
import type { Feature } from './feature.entity';
import type { Plan } from './plan.entity';
import type { Product } from './product.entity';
import { LicenseLimits, LimitsInput, limitsOf, Overage, OverageInput, overageOf } from './terms.types';

const KEY = /^[a-z0-9][a-z0-9._-]*$/;
const KEY_MESSAGE = 'must be lower-case letters, digits, ".", "_" or "-", starting with a letter or digit';

/** What the catalog's types start with: a product, a feature and a plan each have a key and a name. */
@ObjectType({ simpleResolvers: true })
abstract class CatalogItemNode {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  key!: string;

  @Field(() => String)
  name!: string;
}

@ObjectType('Product', { simpleResolvers: true, description: 'A product of the AINexLayer platform.' })
export class ProductNode extends CatalogItemNode {
  @Field(() => Date)
  createdAt!: Date;

  static from(entity: Product): ProductNode {
    return Object.assign(new ProductNode(), { id: entity.id, key: entity.key, name: entity.name, createdAt: entity.createdAt });
  }
}

@ObjectType('Feature', { simpleResolvers: true, description: 'A capability of a product, CORE or PREMIUM.' })
export class FeatureNode extends CatalogItemNode {
  productId!: string;

  @Field(() => FeatureTier)
  tier!: FeatureTier;

  static from(entity: Feature): FeatureNode {
    return Object.assign(new FeatureNode(), {
      id: entity.id,
      productId: entity.product.id,
      key: entity.key,
      name: entity.name,
      tier: entity.tier,
    });
  }
}

@ObjectType('Plan', { simpleResolvers: true, description: 'A license template: type, limits, term, features and price.' })
export class PlanNode extends CatalogItemNode {
  productId!: string;

  @Field(() => LicenseType)
  licenseType!: LicenseType;

  @Field(() => Int, { nullable: true, description: 'Length of one term in days; null for perpetual.' })
  termDays!: number | null;

  @Field(() => Int)
  gracePeriodDays!: number;

  @Field(() => Boolean)
  autoRenew!: boolean;

  @Field(() => LicenseLimits)
  limits!: LicenseLimits;

  @Field(() => Overage)
  overage!: Overage;

  @Field(() => Int)
  leaseTtlSeconds!: number;

  @Field(() => Int, { nullable: true, description: 'Client calls one license key may make per minute, by default; null for no limit.' })
  clientCallsPerMinute!: number | null;

  @Field(() => Int, { nullable: true })
  pricePerSeatCents!: number | null;

  @Field(() => Int, { nullable: true })
  pricePerPeriodCents!: number | null;

  @Field(() => String)
  currency!: string;

  @Field(() => Int, { description: 'The longest a certificate of its licenses may last, in days.' })
  certificateMaxDays!: number;

  @Field(() => Int, { description: 'The longest one of its seats may be borrowed, in days (0: no borrowing).' })
  borrowMaxDays!: number;

  @Field(() => Date)
  createdAt!: Date;

  static from(p: Plan): PlanNode {
    return Object.assign(new PlanNode(), {
      id: p.id,
      productId: p.product.id,
      key: p.key,
      name: p.name,
      licenseType: p.licenseType,
      termDays: p.termDays ?? null,
      gracePeriodDays: p.gracePeriodDays,
      autoRenew: p.autoRenew,
      limits: limitsOf(p),
      overage: overageOf(p),
      leaseTtlSeconds: p.leaseTtlSeconds,
      clientCallsPerMinute: p.clientCallsPerMinute ?? null,
      pricePerSeatCents: p.pricePerSeatCents ?? null,
      pricePerPeriodCents: p.pricePerPeriodCents ?? null,
      currency: p.currency,
      certificateMaxDays: p.certificateMaxDays,
      borrowMaxDays: p.borrowMaxDays,
      createdAt: p.createdAt,
    });
  }
}

@ObjectType({ simpleResolvers: true })
export class ProductConnection extends Connection(ProductNode) {}

@ObjectType({ simpleResolvers: true })
export class PlanConnection extends Connection(PlanNode) {}

@InputType()
export class FeatureInput {
  @Field(() => String, { description: 'Unique within the product, e.g. `analytics.export`.' })
  @Length(1, 100)
  @Matches(KEY, { message: `key ${KEY_MESSAGE}` })
  key!: string;

  @Field(() => String)
  @Length(1, 200)
  name!: string;

  @Field(() => FeatureTier)
  tier!: FeatureTier;
}

@InputType()
export class CreateProductInput {
  @Field(() => String)
  @Length(1, 100)
  @Matches(KEY, { message: `key ${KEY_MESSAGE}` })
  key!: string;

  @Field(() => String)
  @Length(1, 200)
  name!: string;

  @Field(() => [FeatureInput])
  @ArrayMaxSize(500)
  @ValidateNested({ each: true })
  features: FeatureInput[] = [];
}

@InputType()
export class CreatePlanInput {
  @Field(() => ID)
  productId!: string;

  @Field(() => String)
  @Length(1, 100)
  @Matches(KEY, { message: `key ${KEY_MESSAGE}` })
  key!: string;

  @Field(() => String)
  @Length(1, 200)
  name!: string;

  @Field(() => LicenseType)
  @IsIn(Object.values(LicenseType))
  licenseType!: LicenseType;

  @Field(() => Int, { nullable: true, description: 'Length of one term in days; omit for perpetual.' })
  @Min(1)
  @Max(36_500)
  termDays?: number | null;

  @Field(() => Int, { defaultValue: 0 })
  @Min(0)
  @Max(365)
  gracePeriodDays: number = 0;

  @Field(() => Boolean, { defaultValue: false })
  autoRenew: boolean = false;

  @Field(() => LimitsInput, { nullable: true })
  @ValidateNested()
  limits?: LimitsInput | null;

  @Field(() => OverageInput, { nullable: true })
  @ValidateNested()
  overage?: OverageInput | null;

  @Field(() => Int, { defaultValue: 600, description: 'Lifetime of a concurrent lease without a heartbeat.' })
  @Min(1)
  @Max(7 * 86_400)
  leaseTtlSeconds: number = 600;

  @Field(() => Int, {
    nullable: true,
    description: 'Client calls (validations, checkouts, usage reports…) one license key may make per minute; none by default.',
  })
  @Min(1)
  @Max(100_000_000)
  clientCallsPerMinute?: number | null;

  @Field(() => [String], { description: 'Keys of the product features the plan includes.' })
  @ArrayMaxSize(500)
  @Length(1, 100, { each: true })
  featureKeys: string[] = [];

  @Field(() => Int, { nullable: true })
  @Min(0)
  pricePerSeatCents?: number | null;

  @Field(() => Int, { nullable: true })
  @Min(0)
  pricePerPeriodCents?: number | null;

  @Field(() => String, { defaultValue: 'USD' })
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO 4217 code such as USD' })
  currency: string = 'USD';

  @Field(() => Int, {
    defaultValue: 30,
    description: 'The longest a certificate of its licenses may last, in days (1 to 365): the TTL `issueLicenseCertificate` may ask for.',
  })
  @Min(1)
  @Max(365)
  certificateMaxDays: number = 30;

  @Field(() => Int, { defaultValue: 30, description: 'The longest one of its seats may be borrowed, in days (0 to 180; 0: no borrowing).' })
  @Min(0)
  @Max(180)
  borrowMaxDays: number = 30;
}

@InputType()
export class PlanFilter {
  @Field(() => ID, { nullable: true })
  productId?: string | null;

  @Field(() => LicenseType, { nullable: true })
  licenseType?: LicenseType | null;
}
