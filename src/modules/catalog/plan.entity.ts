import { Collection, Entity, ManyToMany, Opt, Property } from '@mikro-orm/core';
import { EnumColumn } from '../../db/columns';
import { LicenseType } from '../../kernel/license.enums';
import { Feature } from './feature.entity';
import { PlanFeature } from './plan-feature.entity';
import { ProductTerms } from './product-terms.entity';

/** A license template: type, default limits and terms, included features and price. */
@Entity({ tableName: 'plan' })
export class Plan extends ProductTerms {
  @Property({ type: 'string', length: 100, unique: true })
  key!: string;

  @Property({ type: 'string', length: 200 })
  name!: string;

  @EnumColumn(16)
  licenseType!: LicenseType;

  /** Price of one seat per term, in minor units of `currency`. */
  @Property({ type: 'integer', nullable: true })
  pricePerSeatCents?: number | null;

  /** Flat price per term, in minor units of `currency`. */
  @Property({ type: 'integer', nullable: true })
  pricePerPeriodCents?: number | null;

  @Property({ type: 'string', length: 3 })
  currency: Opt<string> = 'USD';

  /** The longest its licenses' certificates may last, in days. */
  @Property({ type: 'integer', default: 30 })
  certificateMaxDays: Opt<number> = 30;

  /** The longest one of its seats may be borrowed, in days (0: not at all). */
  @Property({ type: 'integer', default: 30 })
  borrowMaxDays: Opt<number> = 30;

  @ManyToMany({ entity: () => Feature, pivotEntity: () => PlanFeature, joinColumn: 'plan_id', inverseJoinColumn: 'feature_id' })
  features = new Collection<Feature>(this);
}
