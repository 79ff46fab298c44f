import { Entity, ManyToOne, Property, Unique } from '@mikro-orm/core';
import { EnumColumn } from '../../db/columns';
import { CreatedEntity } from '../../db/base-entities';
import { AS_MIGRATED } from '../../db/mapping';
import { FeatureTier } from './catalog.enums';
import { Product } from './product.entity';

/** A capability of a product, addressed by its key (`analytics.export`). */
@Entity({ tableName: 'feature' })
@Unique({ properties: ['product', 'key'] })
export class Feature extends CreatedEntity {
  @ManyToOne(() => Product, AS_MIGRATED)
  product!: Product;

  @Property({ type: 'string', length: 100 })
  key!: string;

  @Property({ type: 'string', length: 200 })
  name!: string;

  @EnumColumn(16)
  tier!: FeatureTier;
}
