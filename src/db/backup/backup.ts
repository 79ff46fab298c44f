import { existsSync } from 'node:fs';
import type { EntityManager as SqlEntityManager } from '@mikro-orm/knex';
import BetterSqlite3 from 'better-sqlite3';
import type { DatabaseConfig } from '../../config';
import { type Entities, MIGRATIONS, openOrm, type Orm, QueryCounter } from '../orm';
import { BACKUP_FORMAT, BACKUP_VERSION, type BackupHeader, type BackupManifest, backupLines } from './backup-file';
import { BackupError } from './backup.errors';
import { type BackupConnection, type PgConnection, postgresConnection, sqliteConnection, tablePages } from './connection';
import { checkPassphrase, writeEnvelope } from './envelope';
import { backupTables } from './tables';

/** MikroORM's log of applied migrations: not copied as rows; a backup names the migrations and a restore re-applies them. */
export const MIGRATIONS_TABLE = 'mikro_orm_migrations';

export interface BackupOptions {
  database: DatabaseConfig;
  /** The entities the server maps: their metadata says which tables and columns there are. */
  entities: Entities;
  file: string;
  /** Encrypts the backup when given. */
  passphrase?: string;
  /** Rows read per query. */
  pageSize?: number;
}

/** The pool of a PostgreSQL ORM, whose connections are node-postgres clients. */
export interface ConnectionPool {
  acquireConnection(): Promise<PgConnection>;
  releaseConnection(connection: PgConnection): Promise<void>;
}

export function poolOf(orm: Orm): ConnectionPool {
  return (orm.em as unknown as SqlEntityManager).getConnection().getKnex().client as ConnectionPool;
}

/** The migrations applied to the database the connection reads, in the order they ran. */
export async function appliedMigrations(connection: BackupConnection): Promise<string[]> {
  const rows = await connection.rows(`select name from ${MIGRATIONS_TABLE} order by id`).catch(() => undefined);
  if (!rows) return [];
  // MikroORM logs a migration by the name it was listed under; older versions appended the file's extension.
  return rows.map((row) => String(row[0]).replace(/\.[jt]s$/, ''));
}

/**
 * Runs `fn` in a read-only snapshot of the database on a connection of its own, while the server goes on writing:
 * on SQLite a read transaction (in WAL mode it reads the state of its first read, beside the writer, without holding
 * it up); on PostgreSQL a `repeatable read, read only` transaction, whose snapshot is taken at its first statement.
 */
async function inSnapshot<T>(database: DatabaseConfig, orm: Orm, fn: (connection: BackupConnection) => Promise<T>): Promise<T> {
  if (database.driver === 'sqlite') {
    const db = new BetterSqlite3(database.path, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      db.exec('begin');
      db.prepare('select count(*) from sqlite_master').get(); // takes the snapshot now
      return await fn(sqliteConnection(db));
    } finally {
      if (db.inTransaction) db.exec('rollback');
      db.close();
    }
  }
  const pool = poolOf(orm);
  const raw = await pool.acquireConnection();
  try {
    const connection = postgresConnection(raw);
    await connection.run('begin transaction isolation level repeatable read, read only');
    try {
      await connection.rows('select 1'); // takes the snapshot now
      return await fn(connection);
    } finally {
      await connection.run('rollback');
    }
  } finally {
    await pool.releaseConnection(raw);
  }
}

function checkMigrations(applied: string[]): void {
  const known = MIGRATIONS.map((migration) => migration.name);
  if (applied.length === 0) throw new BackupError('SOURCE_NOT_MIGRATED', 'the database has no tables of the license manager yet');
  const unknown = applied.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new BackupError(
      'UNKNOWN_MIGRATIONS',
      `the database has migrations this build does not know (${unknown.join(', ')}): back it up with the build that serves it`,
    );
  }
  if (applied.length !== known.length) {
    throw new BackupError(
      'SOURCE_NOT_MIGRATED',
      `the database has ${applied.length} of this build's ${known.length} migrations: start this build's server on it once, or back it up with the build that serves it`,
    );
  }
}

/**
 * Writes a consistent backup of every table the entities map, taken online: one snapshot, read in pages of each
 * table's primary key and streamed to the file compressed (and encrypted when a passphrase is given). Returns the
 * manifest written at its end.
 */
export async function takeBackup(options: BackupOptions): Promise<BackupManifest> {
  const { database } = options;
  if (options.passphrase !== undefined) checkPassphrase(options.passphrase);
  if (database.driver === 'sqlite' && !existsSync(database.path)) {
    throw new BackupError('SOURCE_NOT_MIGRATED', `there is no database at ${database.path}`);
  }
  const orm = await openOrm(database, options.entities, new QueryCounter(), undefined, 'migrations');
  try {
    const tables = backupTables(orm.getMetadata());
    return await inSnapshot(database, orm, async (connection) => {
      const migrations = await appliedMigrations(connection);
      checkMigrations(migrations);
      const header: BackupHeader = {
        format: BACKUP_FORMAT,
        version: BACKUP_VERSION,
        createdAt: new Date().toISOString(),
        databaseKind: database.driver,
        migrations,
        tables,
      };
      let manifest: BackupManifest | undefined;
      const pageSize = options.pageSize ?? 1000;
      const lines = backupLines(
        header,
        (table) => tablePages(connection, table, pageSize),
        (written) => {
          manifest = written;
        },
      );
      await writeEnvelope(options.file, lines, options.passphrase);
      if (!manifest) throw new Error('the backup ended before its manifest');
      return manifest;
    });
  } finally {
    await orm.close(true);
  }
}
