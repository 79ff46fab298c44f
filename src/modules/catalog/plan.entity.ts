import { BigIntType, Collection, Entity, ManyToMany, ManyToOne, Opt, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../../db/ids';
import { AS_MIGRATED } from '../../db/mapping';
import { LicenseType, OveragePolicy, UsagePeriod } from '../../kernel/license.enums';
import { Feature } from './feature.entity';
import { PlanFeature } from './plan-feature.entity';
import { Product } from './product.entity';

/** A license template: type, default limits and terms, included features and price. */
@Entity({ tableName: 'plan' })
export class Plan {
  @PrimaryKey({ type: 'string', length: 36 })
  id: Opt<string> = newId();

  @ManyToOne(() => Product, AS_MIGRATED)
  product!: Product;

  @Property({ type: 'string', length: 100, unique: true })
  key!: string;

  @Property({ type: 'string', length: 200 })
  name!: string;

  @Property({ type: 'string', length: 16 })
  licenseType!: LicenseType;

  /** Length of one term in days; null for a perpetual license. */
  @Property({ type: 'integer', nullable: true })
  termDays?: number | null;

  @Property({ type: 'integer' })
  gracePeriodDays: Opt<number> = 0;

  @Property({ type: 'boolean' })
  autoRenew: Opt<boolean> = false;

  @Property({ type: 'integer', nullable: true })
  namedUsers?: number | null;

  @Property({ type: 'integer', nullable: true })
  concurrentSessions?: number | null;

  @Property({ type: new BigIntType('number'), nullable: true })
  storageBytes?: number | null;

  @Property({ type: new BigIntType('number'), nullable: true })
  apiCallsPerPeriod?: number | null;

  @Property({ type: 'string', length: 8 })
  apiCallPeriod: Opt<UsagePeriod> = UsagePeriod.MONTH;

  @Property({ type: 'string', length: 16 })
  overagePolicy: Opt<OveragePolicy> = OveragePolicy.NONE;

  @Property({ type: 'integer', nullable: true })
  overagePercent?: number | null;

  /** Client calls one key may make per minute; null for no limit. */
  @Property({ type: 'integer', nullable: true })
  clientCallsPerMinute?: number | null;

  @Property({ type: 'integer' })
  leaseTtlSeconds: Opt<number> = 600;

  /** Price of one seat per term, in minor units of `currency`. */
  @Property({ type: 'integer', nullable: true })
  pricePerSeatCents?: number | null;

  /** Flat price per term, in minor units of `currency`. */
  @Property({ type: 'integer', nullable: true })
  pricePerPeriodCents?: number | null;

  @Property({ type: 'string', length: 3 })
  currency: Opt<string> = 'USD';

  @ManyToMany({ entity: () => Feature, pivotEntity: () => PlanFeature, joinColumn: 'plan_id', inverseJoinColumn: 'feature_id' })
  features = new Collection<Feature>(this);

  @Property({ type: 'datetime', length: 3 })
  createdAt: Opt<Date> = new Date();

  @Property({ type: 'datetime', length: 3, onUpdate: () => new Date() })
  updatedAt: Opt<Date> = new Date();
}
