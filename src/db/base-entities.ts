import { type Opt, PrimaryKey } from '@mikro-orm/core';
import { Timestamp } from './columns';
import { newId } from './ids';

/*
 * Bases of the entities whose rows the ORM creates. They carry no `@Entity`: MikroORM finds a decorated base class
 * through the prototype of the entities that extend it, maps its properties into each of their tables (first, in
 * the order declared), and maps no table of its own.
 */

/** A row whose id is given when the ORM creates it: a UUIDv7, so that ordering by id orders by creation. */
export abstract class IdentifiedEntity {
  @PrimaryKey({ type: 'string', length: 36 })
  id: Opt<string> = newId();
}

/** A row that keeps when it was created. */
export abstract class CreatedEntity extends IdentifiedEntity {
  @Timestamp()
  createdAt: Opt<Date> = new Date();
}

/** A row that keeps when it was created and when it last changed. */
export abstract class TimestampedEntity extends CreatedEntity {
  @Timestamp({ onUpdate: () => new Date() })
  updatedAt: Opt<Date> = new Date();
}
