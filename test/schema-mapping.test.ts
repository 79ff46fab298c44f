import { DatabaseSchema, type EntityManager } from '@mikro-orm/knex';
import { describe, expect, it } from 'vitest';
import type { Orm } from '../src/db/orm';
import { describeEachDatabase, startTestServer } from './support/server';

/** MikroORM's own table: the log of applied migrations, which no entity maps. */
const MIGRATIONS_TABLE = 'mikro_orm_migrations';

/**
 * An SQLite database's schema as MikroORM reads it, less two things SQLite reports of the migrated tables that no
 * entity can state, because the same entity also maps PostgreSQL, which reports them otherwise:
 * - a text primary key (`id varchar(36) primary key`) is nullable: SQLite, for compatibility with its early
 *   versions, lets NULL into a primary key that is not an INTEGER one unless the column also says `not null`, which
 *   knex's `.primary()` does not write. PostgreSQL makes every primary key column not null. Every id is written
 *   by the code, never null; rebuilding the thirteen tables to add `not null` was not thought worth it.
 * - a number default is quoted: knex writes `default '0'` for an integer or boolean column, which SQLite stores as
 *   the number 0 (the column's type affinity converts it), while MikroORM expects `default 0` and, for a boolean,
 *   `default false`. The values are the same.
 * Anything else that differs still shows in the diff.
 */
async function sqliteSchemaAsMeant(orm: Orm): Promise<DatabaseSchema> {
  const em = orm.em.fork() as EntityManager;
  const schema = await DatabaseSchema.create(em.getConnection(), em.getPlatform(), orm.config);
  for (const table of schema.getTables()) {
    for (const column of table.getColumns()) {
      if (column.primary) column.nullable = false;
      const quotedNumber = /^'(-?\d+)'$/.exec(String(column.default ?? ''));
      const type = column.type.toLowerCase();
      if (quotedNumber?.[1] !== undefined && (type === 'integer' || type === 'boolean')) {
        column.default = type === 'boolean' ? String(quotedNumber[1] !== '0') : quotedNumber[1];
      }
    }
  }
  return schema;
}

describeEachDatabase('the entities and the migrated tables', (server) => {
  it('maps every table the migrations create to an entity, and no entity to a table they do not create', async () => {
    const orm = server().server.orm;
    const em = orm.em.fork() as EntityManager;
    const rows: { name: string }[] =
      server().kind === 'sqlite'
        ? await em.execute("select name from sqlite_master where type = 'table' and name not like 'sqlite%'")
        : await em.execute('select table_name as name from information_schema.tables where table_schema = current_schema()');
    const tables = rows.map((row) => row.name).filter((name) => name !== MIGRATIONS_TABLE);
    const mapped = Object.values(orm.getMetadata().getAll()).map((meta) => meta.tableName);
    expect(tables).toHaveLength(30);
    expect([...new Set(mapped)].sort()).toEqual(tables.sort());
  });

  it('finds nothing to change between the entities and the migrated tables', async () => {
    const orm = server().server.orm;
    const fromSchema = server().kind === 'sqlite' ? await sqliteSchemaAsMeant(orm) : undefined;
    const diff = await orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false, fromSchema });
    const statements = diff
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
    expect(statements).toEqual([]);
  });
});

describe('the partial indexes', () => {
  // MikroORM compares an index declared by its SQL (a partial one, `… where released_at is null`) by name only: the
  // SQL itself is held here to what the migrations ran, which SQLite keeps (but for the case of its first words;
  // PostgreSQL rewrites it).
  it('are declared with the SQL the migrations created them with', async () => {
    const t = await startTestServer('sqlite');
    try {
      const orm = t.server.orm;
      const em = orm.em.fork() as EntityManager;
      const declared = Object.values(orm.getMetadata().getAll())
        .flatMap((meta) => [...meta.indexes, ...meta.uniques])
        .filter((index) => typeof index.expression === 'string')
        .map((index) => ({ name: String(index.name), sql: String(index.expression).toLowerCase() }));
      const created: { name: string; sql: string }[] = await em.execute(
        "select name, lower(sql) as sql from sqlite_master where type = 'index' and sql like '% where %'",
      );
      const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
      expect(declared.sort(byName)).toEqual(created.sort(byName));
      expect(created.map((index) => index.name)).toEqual([
        'audit_event_unsealed_index',
        'lease_live_fingerprint_unique',
        'license_migration_scheduled_unique',
        'seat_live_user_unique',
        'violation_active_unique',
      ]);
    } finally {
      await t.close();
    }
  });
});
