/**
 * A foreign key as the migrations declare it (knex's defaults): no action on update or delete, and no index of its
 * own. Where a reference needs an index, the migration creates one (often composite, led by the reference) and the
 * entity declares it. Without these options MikroORM would expect `on update cascade`, `on delete set null` on a
 * nullable reference, and, on SQLite, an index per reference: a schema the migrations never made.
 */
export const AS_MIGRATED = { updateRule: 'no action', deleteRule: 'no action', index: false } as const;

/*
 * Enumerations are stored as strings of the migrations' lengths, without a check of their values (a value added to
 * an enum needs no migration): entities map them with `@Property({ type: 'string', length })`, typed by the enum,
 * because `@Enum` would expect a check constraint (or, on PostgreSQL, a `text` column) the tables do not have.
 */
