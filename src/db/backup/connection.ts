import type { Database, Statement } from 'better-sqlite3';
import type { SqlRunner, SqlValue } from '../sql';
import type { BackupTable, CanonicalValue } from './tables';
import { canonicalValue } from './tables';

/** The raw PostgreSQL connection that knex's pool hands out (node-postgres). */
export interface PgConnection {
  query(config: { text: string; values?: unknown[]; rowMode?: 'array' }): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

/**
 * One connection of the backup or the restore, held for its whole transaction (the snapshot of a backup, the inserts
 * of a restore): plain SQL with `?` placeholders, rows as arrays in the order of the selected columns.
 */
export interface BackupConnection {
  readonly kind: 'sqlite' | 'postgresql';
  rows(sql: string, params?: readonly SqlValue[]): Promise<unknown[][]>;
  /** Rows as objects by column name. */
  objects<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

export function sqliteConnection(db: Database): BackupConnection {
  const statements = new Map<string, Statement>();
  const prepare = (sql: string) => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  const bind = (params: readonly SqlValue[]) =>
    params.map((p) => (p instanceof Date ? p.getTime() : typeof p === 'boolean' ? (p ? 1 : 0) : p));
  return {
    kind: 'sqlite',
    rows: async (sql, params = []) => {
      const statement = prepare(sql);
      return statement.raw(true).all(...bind(params)) as unknown[][];
    },
    objects: async <T>(sql: string, params: readonly SqlValue[] = []) =>
      prepare(sql)
        .raw(false)
        .all(...bind(params)) as T[],
    run: async (sql, params = []) => prepare(sql).run(...bind(params)).changes,
  };
}

export function postgresConnection(connection: PgConnection): BackupConnection {
  const text = (sql: string) => {
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
  };
  return {
    kind: 'postgresql',
    rows: async (sql, params = []) =>
      (await connection.query({ text: text(sql), values: [...params], rowMode: 'array' })).rows as unknown[][],
    objects: async <T>(sql: string, params: readonly SqlValue[] = []) =>
      (await connection.query({ text: text(sql), values: [...params] })).rows as T[],
    run: async (sql, params = []) => (await connection.query({ text: text(sql), values: [...params] })).rowCount ?? 0,
  };
}

/** The connection as the SqlRunner that code written for the gateway expects. */
export function asSqlRunner(connection: BackupConnection): SqlRunner {
  return {
    all: <T>(sql: string, params: readonly SqlValue[] = []) => connection.objects<T>(sql, params),
    get: async <T>(sql: string, params: readonly SqlValue[] = []) => (await connection.objects<T>(sql, params))[0],
    run: (sql, params = []) => connection.run(sql, params),
    afterCommit: () => undefined,
  };
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * The rows of a table in pages of its primary key (`where (key) > (last key) order by key limit n`), each page as
 * canonical values in the order of the table's columns: the whole table is never in memory, and every page is found
 * through the primary key's index.
 */
export async function* tablePages(connection: BackupConnection, table: BackupTable, pageSize: number): AsyncGenerator<CanonicalValue[][]> {
  const columns = table.columns.map((column) => column.name);
  const keyAt = table.primaryKey.map((key) => columns.indexOf(key));
  if (keyAt.some((i) => i < 0)) throw new Error(`the primary key of ${table.name} is not among its columns`);
  const keys = table.primaryKey.map(quote).join(', ');
  const select = `select ${columns.map(quote).join(', ')} from ${quote(table.name)}`;
  const first = `${select} order by ${keys} limit ${pageSize}`;
  const next = `${select} where (${keys}) > (${table.primaryKey.map(() => '?').join(', ')}) order by ${keys} limit ${pageSize}`;
  let after: SqlValue[] | undefined;
  for (;;) {
    const rows = await connection.rows(after ? next : first, after ?? []);
    if (rows.length === 0) return;
    yield rows.map((row) => table.columns.map((column, i) => canonicalValue(column.kind, row[i])));
    if (rows.length < pageSize) return;
    const last = rows[rows.length - 1]!;
    after = keyAt.map((i) => last[i] as SqlValue);
  }
}
