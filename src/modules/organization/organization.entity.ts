import { Entity, Opt, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../../db/ids';

/** A customer account (tenant). Every customer-owned row carries its organization. */
@Entity({ tableName: 'organization' })
export class Organization {
  @PrimaryKey({ type: 'string', length: 36 })
  id: Opt<string> = newId();

  @Property({ type: 'string', length: 200, unique: true })
  name!: string;

  @Property({ type: 'datetime', length: 3 })
  createdAt: Opt<Date> = new Date();

  @Property({ type: 'datetime', length: 3, onUpdate: () => new Date() })
  updatedAt: Opt<Date> = new Date();
}
