import { existsSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { type DatabaseConfig, DEFAULT_DATABASE_LIMITS } from '../../config';
import type { Logger } from '../../logger';
import { openMigrated } from '../migrate';
import { type Entities, MIGRATIONS, openOrm, QueryCounter } from '../orm';
import type { SqlRunner } from '../sql';
import { appliedMigrations, MIGRATIONS_TABLE, poolOf } from './backup';
import { type BackupHeader, type BackupManifest, readBackup, type TableSummary } from './backup-file';
import { BackupError } from './backup.errors';
import { asSqlRunner, type BackupConnection, postgresConnection, sqliteConnection, tablePages } from './connection';
import { type BackupTable, type CanonicalValue, storedValue, TableChecksum } from './tables';

export interface RestoreOptions {
  /** The target: a new database, or one with no rows. */
  database: DatabaseConfig;
  entities: Entities;
  file: string;
  passphrase?: string;
  logger: Logger;
  /** A last check of the restored rows inside the transaction, before it commits (the audit log's chain). */
  verify?: (sql: SqlRunner, header: BackupHeader) => Promise<void>;
}

/** Refuses a backup whose migrations are not a beginning of this build's (a newer build's, or another history's). */
function checkMigrations(header: BackupHeader): void {
  const known = MIGRATIONS.map((migration) => migration.name);
  const fits = header.migrations.length > 0 && header.migrations.every((name, i) => known[i] === name);
  if (!fits) {
    const unknown = header.migrations.filter((name) => !known.includes(name));
    const which =
      unknown.length > 0 ? `migrations this build does not know (${unknown.join(', ')})` : 'migrations in another order than this build';
    throw new BackupError(
      'UNKNOWN_MIGRATIONS',
      `the backup was made with ${which}: restore it with the build that made it, or a newer one`,
    );
  }
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Every table of the target but MikroORM's log of migrations. */
async function tablesOf(connection: BackupConnection): Promise<string[]> {
  const rows =
    connection.kind === 'sqlite'
      ? await connection.rows("select name from sqlite_master where type = 'table' and name not like 'sqlite%'")
      : await connection.rows(
          "select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'",
        );
  return rows.map((row) => String(row[0])).filter((name) => name !== MIGRATIONS_TABLE);
}

/** Refuses a target that holds any row, or (once migrated) that is not at the backup's migrations. */
async function checkTarget(connection: BackupConnection, header: BackupHeader, migrated: boolean): Promise<void> {
  for (const table of await tablesOf(connection)) {
    if ((await connection.rows(`select 1 from ${quote(table)} limit 1`)).length > 0) {
      throw new BackupError('TARGET_NOT_EMPTY', `the target database already holds rows (in ${table}): restore into a new, empty database`);
    }
  }
  if (!migrated) return;
  const applied = await appliedMigrations(connection);
  if (applied.join() !== header.migrations.join()) {
    throw new BackupError(
      'UNKNOWN_MIGRATIONS',
      `the target database is at ${applied.length} migrations, the backup at ${header.migrations.length}: restore into a new, empty database`,
    );
  }
}

async function insertRows(connection: BackupConnection, table: BackupTable, rows: CanonicalValue[][]): Promise<void> {
  const placeholders = `(${table.columns.map(() => '?').join(', ')})`;
  const sql = `insert into ${quote(table.name)} (${table.columns.map((c) => quote(c.name)).join(', ')}) values ${rows.map(() => placeholders).join(', ')}`;
  await connection.run(
    sql,
    rows.flatMap((row) => table.columns.map((column, i) => storedValue(column.kind, row[i]!))),
  );
}

/** Moves every sequence of the target (serial or identity columns) past the values the restore inserted. */
async function advanceSequences(connection: BackupConnection): Promise<void> {
  if (connection.kind !== 'postgresql') return; // SQLite counts from the largest key by itself
  const columns = await connection.rows(
    "select table_name, column_name from information_schema.columns where table_schema = current_schema() and (column_default like 'nextval(%' or is_identity = 'YES')",
  );
  for (const [table, column] of columns as [string, string][]) {
    await connection.rows(
      `select setval(pg_get_serial_sequence(?, ?), coalesce(max(${quote(column)}), 0) + 1, false) from ${quote(table)}`,
      [quote(table), column],
    );
  }
}

/** The row count and checksum of each table as the database holds it, read in pages of its primary key. */
export async function tableSummaries(connection: BackupConnection, tables: readonly BackupTable[]): Promise<TableSummary[]> {
  const summaries: TableSummary[] = [];
  for (const table of tables) {
    const checksum = new TableChecksum(table.columns);
    for await (const page of tablePages(connection, table, 1000)) for (const row of page) checksum.add(row);
    summaries.push({ name: table.name, rows: checksum.rows, checksum: checksum.digest() });
  }
  return summaries;
}

/** Reads back every restored table and holds its count and checksum to the manifest. */
async function checkAgainstManifest(connection: BackupConnection, header: BackupHeader, manifest: BackupManifest): Promise<void> {
  const restored = await tableSummaries(connection, header.tables);
  for (const table of restored) {
    const expected = manifest.tables.find((summary) => summary.name === table.name);
    if (!expected || expected.rows !== table.rows || expected.checksum !== table.checksum) {
      throw new BackupError(
        'MANIFEST_MISMATCH',
        `the restored table ${table.name} does not match the backup (${table.rows} rows, the manifest says ${expected?.rows}); nothing was restored`,
      );
    }
  }
}

/**
 * Runs `fn` on a connection of the target's own, with no statement timeout: in one write transaction when
 * `transactional`, which commits once `fn` has returned and rolls back when it throws.
 */
async function onTarget<T>(
  database: DatabaseConfig,
  entities: Entities,
  transactional: boolean,
  fn: (connection: BackupConnection) => Promise<T>,
): Promise<T> {
  if (database.driver === 'sqlite') {
    const db = new BetterSqlite3(database.path, { fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = on');
      if (transactional) db.exec('begin immediate');
      const result = await fn(sqliteConnection(db));
      if (transactional) db.exec('commit');
      return result;
    } finally {
      if (db.inTransaction) db.exec('rollback');
      db.close();
    }
  }
  const orm = await openOrm(database, entities, new QueryCounter(), undefined, 'migrations');
  try {
    const pool = poolOf(orm);
    const raw = await pool.acquireConnection();
    const connection = postgresConnection(raw);
    try {
      if (transactional) await connection.run('begin');
      const result = await fn(connection);
      if (transactional) await connection.run('commit');
      return result;
    } catch (error) {
      if (transactional) await connection.run('rollback').catch(() => undefined);
      throw error;
    } finally {
      await pool.releaseConnection(raw);
    }
  } finally {
    await orm.close(true);
  }
}

/**
 * Loads a backup into an empty database of either kind. The whole file is read and checked first (its bytes, its
 * rows against its manifest, its migrations against this build's), before the target is touched; then the target is
 * migrated as a server would migrate it, up to the backup's migrations (the server applies any later ones when it
 * starts), and every table is inserted in the file's order, which the foreign keys allow, in one transaction that
 * reads back every table and holds its count and checksum to the manifest before it commits.
 */
export async function restoreBackup(options: RestoreOptions): Promise<BackupManifest> {
  const { database, file, passphrase } = options;
  let header: BackupHeader | undefined;
  await readBackup(file, passphrase, {
    header(read) {
      checkMigrations(read);
      header = read;
    },
  });
  if (!header) throw BackupError.damaged('its header is missing');
  const target = header;
  // A target with rows is refused before it is migrated, and again inside the transaction (a server may have started).
  if (database.driver === 'postgresql' || existsSync(database.path)) {
    await onTarget(database, options.entities, false, (connection) => checkTarget(connection, target, false));
  }
  const orm = await openMigrated(
    { database, databaseLimits: DEFAULT_DATABASE_LIMITS },
    options.entities,
    options.logger,
    new QueryCounter(),
    target.migrations.at(-1),
  );
  await orm.close(true);
  return onTarget(database, options.entities, true, async (connection) => {
    await checkTarget(connection, target, true);
    const manifest = await readBackup(file, passphrase, { rows: (table, rows) => insertRows(connection, table, rows) });
    await advanceSequences(connection);
    await checkAgainstManifest(connection, target, manifest);
    await options.verify?.(asSqlRunner(connection), target);
    return manifest;
  });
}
