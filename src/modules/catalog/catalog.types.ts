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
  @Field(() => ID, { description: 'Its id; ids grow with time, and lists are in their order.' })
  id!: string;

  @Field(() => String, {
    description: "Its stable key, unique (a feature's within its product): lower-case letters, digits, `.`, `_`, `-`.",
  })
  key!: string;

  @Field(() => String, { description: 'Its display name.' })
  name!: string;
}

@ObjectType('Product', { simpleResolvers: true, description: 'A product of the AINexLayer platform.' })
export class ProductNode extends CatalogItemNode {
  @Field(() => Date, { description: 'When it was created.' })
  createdAt!: Date;

  static from(entity: Product): ProductNode {
    return Object.assign(new ProductNode(), { id: entity.id, key: entity.key, name: entity.name, createdAt: entity.createdAt });
  }
}

@ObjectType('Feature', { simpleResolvers: true, description: 'A capability of a product, CORE or PREMIUM.' })
export class FeatureNode extends CatalogItemNode {
  productId!: string;

  @Field(() => FeatureTier, { description: 'CORE (with every license of its product) or PREMIUM (only where entitled).' })
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

  @Field(() => LicenseType, { description: 'The type of the licenses issued from it (an issue may override it).' })
  licenseType!: LicenseType;

  @Field(() => Int, { nullable: true, description: 'Length of one term in days; null for perpetual.' })
  termDays!: number | null;

  @Field(() => Int, { description: 'Days after the end of a term during which its licenses still validate.' })
  gracePeriodDays!: number;

  @Field(() => Boolean, { description: 'Whether its licenses are issued renewing at the end of each term.' })
  autoRenew!: boolean;

  @Field(() => LicenseLimits, { description: 'The limits its licenses get unless the issue overrides them.' })
  limits!: LicenseLimits;

  @Field(() => Overage, { description: 'The overage policy its licenses get unless the issue overrides it.' })
  overage!: Overage;

  @Field(() => Int, { description: 'Seconds a concurrent lease of its licenses lives without a heartbeat.' })
  leaseTtlSeconds!: number;

  @Field(() => Int, { nullable: true, description: 'Client calls one license key may make per minute, by default; null for no limit.' })
  clientCallsPerMinute!: number | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Price per seat (the seat limit) per term, in cents of `currency`; null when not priced per seat.',
  })
  pricePerSeatCents!: number | null;

  @Field(() => Int, { nullable: true, description: 'Flat price per term, in cents of `currency`; null when there is none.' })
  pricePerPeriodCents!: number | null;

  @Field(() => String, { description: 'ISO 4217 currency of its prices, e.g. USD.' })
  currency!: string;

  @Field(() => Int, { description: 'The longest a certificate of its licenses may last, in days.' })
  certificateMaxDays!: number;

  @Field(() => Int, { description: 'The longest one of its seats may be borrowed, in days (0: no borrowing).' })
  borrowMaxDays!: number;

  @Field(() => Date, { description: 'When it was created.' })
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

@ObjectType({ simpleResolvers: true, description: 'A page of products, oldest first.' })
export class ProductConnection extends Connection(ProductNode) {}

@ObjectType({ simpleResolvers: true, description: 'A page of plans, oldest first.' })
export class PlanConnection extends Connection(PlanNode) {}

@InputType({ description: 'A feature of a product.' })
export class FeatureInput {
  @Field(() => String, { description: 'Unique within the product, e.g. `analytics.export`.' })
  @Length(1, 100)
  @Matches(KEY, { message: `key ${KEY_MESSAGE}` })
  key!: string;

  @Field(() => String, { description: 'Its display name (1 to 200 characters).' })
  @Length(1, 200)
  name!: string;

  @Field(() => FeatureTier, { description: 'CORE (with every license of the product) or PREMIUM (only where entitled).' })
  tier!: FeatureTier;
}

@InputType({ description: 'A new product and its features.' })
export class CreateProductInput {
  @Field(() => String, { description: 'Unique key of the product: lower-case letters, digits, `.`, `_`, `-` (CONFLICT if taken).' })
  @Length(1, 100)
  @Matches(KEY, { message: `key ${KEY_MESSAGE}` })
  key!: string;

  @Field(() => String, { description: 'Its display name (1 to 200 characters).' })
  @Length(1, 200)
  name!: string;

  @Field(() => [FeatureInput], { description: 'Its features (at most 500); more can be added with `addFeature`.' })
  @ArrayMaxSize(500)
  @ValidateNested({ each: true })
  features: FeatureInput[] = [];
}

@InputType({ description: 'A new plan: the template its licenses are issued from.' })
export class CreatePlanInput {
  @Field(() => ID, { description: 'The product the plan licenses.' })
  productId!: string;

  @Field(() => String, { description: 'Unique key of the plan: lower-case letters, digits, `.`, `_`, `-` (CONFLICT if taken).' })
  @Length(1, 100)
  @Matches(KEY, { message: `key ${KEY_MESSAGE}` })
  key!: string;

  @Field(() => String, { description: 'Its display name (1 to 200 characters).' })
  @Length(1, 200)
  name!: string;

  @Field(() => LicenseType, { description: 'The type of the licenses issued from it.' })
  @IsIn(Object.values(LicenseType))
  licenseType!: LicenseType;

  @Field(() => Int, { nullable: true, description: 'Length of one term in days; omit for perpetual.' })
  @Min(1)
  @Max(36_500)
  termDays?: number | null;

  @Field(() => Int, { defaultValue: 0, description: 'Days after the end of a term during which a license still validates (0 to 365).' })
  @Min(0)
  @Max(365)
  gracePeriodDays: number = 0;

  @Field(() => Boolean, { defaultValue: false, description: 'Whether its licenses renew by themselves at the end of each term.' })
  autoRenew: boolean = false;

  @Field(() => LimitsInput, { nullable: true, description: 'Default limits of its licenses; omitted limits do not apply.' })
  @ValidateNested()
  limits?: LimitsInput | null;

  @Field(() => OverageInput, { nullable: true, description: 'Default overage policy of its licenses; NONE when omitted.' })
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

  @Field(() => Int, { nullable: true, description: 'Price per seat per term, in cents of `currency`.' })
  @Min(0)
  pricePerSeatCents?: number | null;

  @Field(() => Int, { nullable: true, description: 'Flat price per term, in cents of `currency`.' })
  @Min(0)
  pricePerPeriodCents?: number | null;

  @Field(() => String, { defaultValue: 'USD', description: 'ISO 4217 currency of its prices.' })
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

@InputType({ description: 'Which plans to list; every field given must match.' })
export class PlanFilter {
  @Field(() => ID, { nullable: true, description: 'Only plans of this product.' })
  productId?: string | null;

  @Field(() => LicenseType, { nullable: true, description: 'Only plans of this license type.' })
  licenseType?: LicenseType | null;
}
