import { Entity, Property } from '@mikro-orm/core';
import { CreatedEntity } from '../../db/base-entities';

/** A product of the AINexLayer platform that licenses are sold for. */
@Entity({ tableName: 'product' })
export class Product extends CreatedEntity {
  @Property({ type: 'string', length: 100, unique: true })
  key!: string;

  @Property({ type: 'string', length: 200 })
  name!: string;
}
