import { Unique } from '@mikro-orm/core';

/**
 * A partial unique index (`… where <condition>`), which MikroORM cannot declare from properties: it knows one by its
 * name and the SQL that creates it, written here as the migration wrote it (test/schema-mapping.test.ts holds the
 * two to each other).
 */
export function PartialUnique(name: string, table: string, columns: readonly string[], where: string) {
  return Unique({ name, expression: `create unique index ${name} on ${table} (${columns.join(', ')}) where ${where}` });
}
