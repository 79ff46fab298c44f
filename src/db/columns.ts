import { Property, type PropertyOptions } from '@mikro-orm/core';

/**
 * A point in time, mapped as the migrations create every one: a timestamp with time zone to the millisecond
 * (`precision: 3`), which MikroORM knows as `datetime` of length 3. Without the length it would expect precision 0
 * and find a difference in every such column. Further options add to it (`nullable`, `onUpdate`).
 */
export function Timestamp<T extends object>(options: Omit<PropertyOptions<T>, 'type' | 'length'> = {}) {
  return Property<T>({ ...options, type: 'datetime', length: 3 });
}
