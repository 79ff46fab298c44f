import { Entity, ManyToOne, Opt, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { newId } from '../../db/ids';
import { AS_MIGRATED } from '../../db/mapping';
import { FeatureTier } from './catalog.enums';
import { Product } from './product.entity';

/** A capability of a product, addressed by its key (`analytics.export`). */
@Entity({ tableName: 'feature' })
@Unique({ properties: ['product', 'key'] })
export class Feature {
  @PrimaryKey({ type: 'string', length: 36 })
  id: Opt<string> = newId();

  @ManyToOne(() => Product, AS_MIGRATED)
  product!: Product;

  @Property({ type: 'string', length: 100 })
  key!: string;

  @Property({ type: 'string', length: 200 })
  name!: string;

  @Property({ type: 'string', length: 16 })
  tier!: FeatureTier;

  @Property({ type: 'datetime', length: 3 })
  createdAt: Opt<Date> = new Date();
}
