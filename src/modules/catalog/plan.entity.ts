import { BigIntType, Collection, Entity, Enum, ManyToMany, ManyToOne, Opt, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../../db/ids';
import { LicenseType, OveragePolicy, UsagePeriod } from '../license/license.enums';
import { Feature } from './feature.entity';
import { Product } from './product.entity';

/** A license template: type, default limits and terms, included features and price. */
@Entity({ tableName: 'plan' })
export class Plan {
  @PrimaryKey({ type: 'string', length: 36 })
  id: Opt<string> = newId();

  @ManyToOne(() => Product)
  product!: Product;

  @Property({ type: 'string', length: 100, unique: true })
  key!: string;

  @Property({ type: 'string', length: 200 })
  name!: string;

  @Enum({ items: () => LicenseType, type: 'string' })
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

  @Enum({ items: () => UsagePeriod, type: 'string' })
  apiCallPeriod: Opt<UsagePeriod> = UsagePeriod.MONTH;

  @Enum({ items: () => OveragePolicy, type: 'string' })
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

  @ManyToMany({ entity: () => Feature, pivotTable: 'plan_feature', joinColumn: 'plan_id', inverseJoinColumn: 'feature_id' })
  features = new Collection<Feature>(this);

  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Opt<Date> = new Date();
}
