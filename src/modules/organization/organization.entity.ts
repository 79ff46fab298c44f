import { Entity, Property } from '@mikro-orm/core';
import { TimestampedEntity } from '../../db/base-entities';

/** A customer account (tenant). Every customer-owned row carries its organization. */
@Entity({ tableName: 'organization' })
export class Organization extends TimestampedEntity {
  @Property({ type: 'string', length: 200, unique: true })
  name!: string;
}
