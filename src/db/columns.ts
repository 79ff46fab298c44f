import { Property, type PropertyOptions } from '@mikro-orm/core';

/**
 * A point in time, mapped as the migrations create every one: a timestamp with time zone to the millisecond
 * (`precision: 3`), which MikroORM knows as `datetime` of length 3. Without the length it would expect the database's
 * default precision and find a difference in every such column. Further options add to it (`nullable`, `primary`,
 * `onUpdate`).
 */
export function Timestamp<T extends object>(options: Omit<PropertyOptions<T>, 'type' | 'length'> = {}) {
  return Property<T>({ ...options, type: 'datetime', length: 3 });
}

/**
 * A value of an enumeration, mapped as the migrations store every one (see `mapping.ts`): a string of the given
 * length, with no check of its values, typed by the enum at the property. Further options add to it.
 */
export function EnumColumn<T extends object>(length: number, options: Omit<PropertyOptions<T>, 'type' | 'length'> = {}) {
  return Property<T>({ ...options, type: 'string', length });
}
