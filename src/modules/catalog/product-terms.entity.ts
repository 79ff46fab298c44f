import { BigIntType, ManyToOne, Opt, Property } from '@mikro-orm/core';
import { EnumColumn } from '../../db/columns';
import { TimestampedEntity } from '../../db/base-entities';
import { AS_MIGRATED } from '../../db/mapping';
import { OveragePolicy, UsagePeriod } from '../../kernel/license.enums';
import { Product } from './product.entity';
import type { TermColumns } from './terms.types';

/**
 * A product under terms: what a plan offers, and what a license issued from it holds as its own from then on (its
 * term's length and grace, renewal, limits, overage policy, client rate and lease lifetime). The base of `Plan` and
 * `License`, whose tables have these columns alike.
 */
export abstract class ProductTerms extends TimestampedEntity implements TermColumns {
  @ManyToOne(() => Product, AS_MIGRATED)
  product!: Product;

  /** Length of one term in days, which renewals extend by; null for a perpetual license. */
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

  @EnumColumn(8)
  apiCallPeriod: Opt<UsagePeriod> = UsagePeriod.MONTH;

  @EnumColumn(16)
  overagePolicy: Opt<OveragePolicy> = OveragePolicy.NONE;

  @Property({ type: 'integer', nullable: true })
  overagePercent?: number | null;

  /** Client calls one key may make per minute; null for no limit. */
  @Property({ type: 'integer', nullable: true })
  clientCallsPerMinute?: number | null;

  @Property({ type: 'integer' })
  leaseTtlSeconds: Opt<number> = 600;
}
