import 'reflect-metadata';
import { BetterSqliteDriver } from '@mikro-orm/better-sqlite';
import { DefaultLogger, type LogContext, type LoggerNamespace, MikroORM, type Options } from '@mikro-orm/core';
import type { Logger } from '../logger';
import { disableAsyncStorageWhenIdle } from './async-context';
import { Migrator } from '@mikro-orm/migrations';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { type DatabaseConfig, DEFAULT_DATABASE_LIMITS, type DatabaseLimits } from '../config';
import { Migration20261128000000_licensing_core } from '../../migrations/Migration20261128000000_licensing_core';
import { Migration20261128100000_usage } from '../../migrations/Migration20261128100000_usage';
import { Migration20261128110000_alerts } from '../../migrations/Migration20261128110000_alerts';
import { Migration20261128120000_alert_rules } from '../../migrations/Migration20261128120000_alert_rules';
import { Migration20261128130000_usage_retention } from '../../migrations/Migration20261128130000_usage_retention';
import { Migration20261128140000_compliance } from '../../migrations/Migration20261128140000_compliance';
import { Migration20261128150000_license_migrations } from '../../migrations/Migration20261128150000_license_migrations';
import { Migration20261128160000_client_rate_limits } from '../../migrations/Migration20261128160000_client_rate_limits';
import { Migration20261206100000_seat_release_reason } from '../../migrations/Migration20261206100000_seat_release_reason';
import { Migration20261206110000_license_term_start } from '../../migrations/Migration20261206110000_license_term_start';
import { Migration20261206120000_alert_repeats } from '../../migrations/Migration20261206120000_alert_repeats';
import { Migration20261206130000_demand_facts } from '../../migrations/Migration20261206130000_demand_facts';
import { Migration20261206140000_recommendation_dismissals } from '../../migrations/Migration20261206140000_recommendation_dismissals';
import { Migration20261206150000_recommendation_settings } from '../../migrations/Migration20261206150000_recommendation_settings';
import { Migration20261207100000_usage_sample_clustered } from '../../migrations/Migration20261207100000_usage_sample_clustered';
import { Migration20261207110000_recommendation_alerts } from '../../migrations/Migration20261207110000_recommendation_alerts';
import { Migration20261207120000_signing_keys } from '../../migrations/Migration20261207120000_signing_keys';
import { Migration20261207130000_lease_borrowing } from '../../migrations/Migration20261207130000_lease_borrowing';
import { Migration20261207140000_plan_offline_policy } from '../../migrations/Migration20261207140000_plan_offline_policy';
import { Migration20261208100000_audit_chain } from '../../migrations/Migration20261208100000_audit_chain';
import { Migration20261208200000_diagnostics } from '../../migrations/Migration20261208200000_diagnostics';

/**
 * Migrations are listed here rather than discovered on disk, so that the same list runs from compiled code, under
 * tsx and under vitest (which cannot load `.ts` migrations through MikroORM's own loader).
 */
export const MIGRATIONS = [
  { name: 'Migration20261128000000_licensing_core', class: Migration20261128000000_licensing_core },
  { name: 'Migration20261128100000_usage', class: Migration20261128100000_usage },
  { name: 'Migration20261128110000_alerts', class: Migration20261128110000_alerts },
  { name: 'Migration20261128120000_alert_rules', class: Migration20261128120000_alert_rules },
  { name: 'Migration20261128130000_usage_retention', class: Migration20261128130000_usage_retention },
  { name: 'Migration20261128140000_compliance', class: Migration20261128140000_compliance },
  { name: 'Migration20261128150000_license_migrations', class: Migration20261128150000_license_migrations },
  { name: 'Migration20261128160000_client_rate_limits', class: Migration20261128160000_client_rate_limits },
  { name: 'Migration20261206100000_seat_release_reason', class: Migration20261206100000_seat_release_reason },
  { name: 'Migration20261206110000_license_term_start', class: Migration20261206110000_license_term_start },
  { name: 'Migration20261206120000_alert_repeats', class: Migration20261206120000_alert_repeats },
  { name: 'Migration20261206130000_demand_facts', class: Migration20261206130000_demand_facts },
  { name: 'Migration20261206140000_recommendation_dismissals', class: Migration20261206140000_recommendation_dismissals },
  { name: 'Migration20261206150000_recommendation_settings', class: Migration20261206150000_recommendation_settings },
  { name: 'Migration20261207100000_usage_sample_clustered', class: Migration20261207100000_usage_sample_clustered },
  { name: 'Migration20261207110000_recommendation_alerts', class: Migration20261207110000_recommendation_alerts },
  { name: 'Migration20261207120000_signing_keys', class: Migration20261207120000_signing_keys },
  { name: 'Migration20261207130000_lease_borrowing', class: Migration20261207130000_lease_borrowing },
  { name: 'Migration20261207140000_plan_offline_policy', class: Migration20261207140000_plan_offline_policy },
  { name: 'Migration20261208100000_audit_chain', class: Migration20261208100000_audit_chain },
  { name: 'Migration20261208200000_diagnostics', class: Migration20261208200000_diagnostics },
];

/**
 * Marks a statement of the server's own bookkeeping, which belongs to no request (an instance recording itself for
 * diagnostics, and its jobs' runs): not counted, so that it never shows in what a request was measured to cost.
 */
export const BOOKKEEPING = '/* bookkeeping */ ';

/** Records, while asked to, the SQL statements the process runs, so that tests can assert what a request costs. */
export class QueryCounter {
  readonly statements: string[] = [];
  recording = false;

  record(sql: string): void {
    if (this.recording && !sql.startsWith(BOOKKEEPING)) this.statements.push(sql);
  }
}

export type Orm = MikroORM;

/** MikroORM's logger, writing through the server's: one JSON line per message, never plain text on stdout. */
class OrmLogger extends DefaultLogger {
  constructor(
    options: ConstructorParameters<typeof DefaultLogger>[0],
    private readonly logger: Logger,
  ) {
    super(options);
  }

  override log(namespace: LoggerNamespace | string, message: string, context?: LogContext): void {
    if (!this.isEnabled(namespace as LoggerNamespace, context)) return;
    const level = context?.level === 'error' ? 'error' : context?.level === 'warning' ? 'warn' : 'info';
    this.logger[level]({ orm: namespace, label: context?.label }, message.replace(/\s+/g, ' ').trim());
  }
}

/**
 * What the ORM and its query builder (knex, and the tarn pool under it) say, through the server's logger: their own
 * loggers write plain text to the console.
 */
function loggingOptions(logger: Logger | undefined): Partial<Options> {
  if (!logger) return {};
  const knex = (level: 'warn' | 'error' | 'debug') => (message: unknown) =>
    logger[level](
      { orm: 'knex' },
      typeof message === 'string' ? message : message instanceof Error ? message.message : JSON.stringify(message),
    );
  return {
    loggerFactory: (options) => new OrmLogger(options, logger),
    driverOptions: { log: { warn: knex('warn'), error: knex('error'), deprecate: knex('warn'), debug: knex('debug') } },
  };
}

/** The entities the ORM maps: every module's, listed by the server that composes them (src/server/entities.ts). */
export type Entities = NonNullable<Options['entities']>;

/**
 * Opens the ORM on the database. On PostgreSQL every statement has a timeout, a row lock a longest wait, and a call a
 * longest wait for a connection, so that a database frozen or overloaded gives coded answers rather than hung calls;
 * `purpose: 'migrations'` opens a small pool without statement timeouts, for schema changes that may take long;
 * `'inspection'` (the doctor command) connects on the first statement and never creates a missing database.
 * The ORM's async-local storages keep Node's promise hooks on only while one of them runs (./async-context.ts).
 */
export async function openOrm(
  database: DatabaseConfig,
  entities: Entities,
  counter: QueryCounter,
  limits: DatabaseLimits = DEFAULT_DATABASE_LIMITS,
  purpose: 'serving' | 'migrations' | 'inspection' = 'serving',
  logger?: Logger,
): Promise<MikroORM> {
  disableAsyncStorageWhenIdle();
  const logging = loggingOptions(logger);
  const inspecting = purpose === 'inspection' ? { connect: false, ensureDatabase: false } : {};
  const common: Partial<Options> = {
    ...logging,
    ...inspecting,
    entities: [...entities],
    discovery: { disableDynamicFileAccess: true, requireEntitiesArray: true },
    extensions: [Migrator],
    migrations: { migrationsList: MIGRATIONS, transactional: true, allOrNothing: true, snapshot: false, silent: true },
    forceUtcTimezone: true,
    ignoreUndefinedInQuery: true,
    onQuery: (sql: string) => {
      counter.record(sql);
      return sql;
    },
  };
  if (database.driver === 'sqlite') {
    return MikroORM.init({ ...common, driver: BetterSqliteDriver, dbName: database.path } as Options);
  }
  const timeouts =
    purpose !== 'migrations'
      ? {
          statement_timeout: limits.statementTimeoutMs,
          lock_timeout: limits.lockTimeoutMs,
          // Enforced by the client too: a server that stops answering (frozen, or cut off) cannot cancel anything.
          query_timeout: limits.statementTimeoutMs + 2_000,
          idle_in_transaction_session_timeout: Math.max(60_000, limits.statementTimeoutMs * 2),
        }
      : {};
  return MikroORM.init({
    ...common,
    driver: PostgreSqlDriver,
    clientUrl: database.url,
    // An unreachable server fails a call (or the start) within seconds instead of hanging it.
    pool: {
      min: 0,
      max: purpose === 'migrations' ? 2 : limits.poolSize,
      acquireTimeoutMillis: limits.poolTimeoutMs,
    },
    driverOptions: { ...logging.driverOptions, connection: { connectionTimeoutMillis: 5_000, keepAlive: true, ...timeouts } },
  } as Options);
}
