import type { EntityManager as SqlEntityManager } from '@mikro-orm/knex';
import type { Config, DatabaseConfig } from '../config';
import type { Logger } from '../logger';
import { AdvisoryLock } from './advisory-locks';
import { type Entities, openOrm, type Orm, QueryCounter } from './orm';
import { tuneSqlite } from './sql';

/** How often an instance waiting for another's migrations looks again. */
const LOCK_POLL_MS = 250;

interface PgConnection {
  query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/**
 * Opens the ORM for serving, on a database brought up to the migrations this build knows first (a database never
 * served yet included); `upTo` stops at that migration (a restore brings its target to its backup's migrations).
 */
export async function openMigrated(
  config: Pick<Config, 'database' | 'databaseLimits'>,
  entities: Entities,
  logger: Logger,
  queries: QueryCounter,
  upTo?: string,
): Promise<Orm> {
  if (config.database.driver === 'postgresql') await migrate(config.database, entities, logger, undefined, upTo);
  const orm = await openOrm(config.database, entities, queries, config.databaseLimits, 'serving', logger);
  if (config.database.driver === 'sqlite') {
    try {
      await tuneSqlite(orm);
      await migrate(config.database, entities, logger, orm, upTo);
    } catch (error) {
      await orm.close(true);
      throw error;
    }
  }
  return orm;
}

/**
 * Brings the database up to the migrations this build knows. On PostgreSQL, several instances may start at once on
 * the same database: one migrates while holding an advisory lock, the others wait for it and then find nothing left
 * to do (instead of colliding on the same `create table`). The migrations run on a connection pool of their own,
 * without the statement timeout that serving connections have, so that a long schema change is not cut short. A
 * process that dies while migrating releases the lock with its connection; its transaction rolls back.
 */
async function migrate(database: DatabaseConfig, entities: Entities, logger: Logger, serving?: Orm, upTo?: string): Promise<void> {
  const target = upTo === undefined ? undefined : { to: upTo };
  if (database.driver === 'sqlite') {
    // One process owns an SQLite file: its own ORM migrates it, in one transaction.
    if (!serving) throw new Error('an SQLite database is migrated through the serving ORM');
    await serving.getMigrator().up(target);
    return;
  }
  const orm = await openOrm(database, entities, new QueryCounter(), undefined, 'migrations', logger);
  try {
    const client = (orm.em as unknown as SqlEntityManager).getConnection().getKnex().client as {
      acquireConnection(): Promise<PgConnection>;
      releaseConnection(connection: PgConnection): Promise<void>;
    };
    const connection = await client.acquireConnection();
    try {
      await holdingLock(connection, logger, () => orm.getMigrator().up(target));
    } finally {
      await client.releaseConnection(connection);
    }
  } finally {
    await orm.close(true);
  }
}

async function holdingLock(connection: PgConnection, logger: Logger, run: () => Promise<unknown>): Promise<void> {
  let told = false;
  for (;;) {
    const { rows } = await connection.query('select pg_try_advisory_lock($1) as locked', [AdvisoryLock.MIGRATIONS]);
    if (rows[0]?.locked) break;
    if (!told) {
      logger.info('another instance is migrating the database; waiting for it');
      told = true;
    }
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
  try {
    await run();
  } finally {
    await connection.query('select pg_advisory_unlock($1)', [AdvisoryLock.MIGRATIONS]);
  }
}
