import { Entity, Opt, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../../db/ids';

/** A product of the AINexLayer platform that licenses are sold for. */
@Entity({ tableName: 'product' })
export class Product {
  @PrimaryKey({ type: 'string', length: 36 })
  id: Opt<string> = newId();

  @Property({ type: 'string', length: 100, unique: true })
  key!: string;

  @Property({ type: 'string', length: 200 })
  name!: string;

  @Property({ type: 'datetime', length: 3 })
  createdAt: Opt<Date> = new Date();
}
