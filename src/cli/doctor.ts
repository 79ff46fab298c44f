import 'reflect-metadata';
import { existsSync } from 'node:fs';
import type { EntityManager } from '@mikro-orm/knex';
import { Redis } from 'ioredis';
import { systemClock } from '../common/clock';
import { LocalEventBus } from '../common/event-bus';
import { type Config, ConfigError, loadConfig } from '../config';
import { openOrm, type Orm, QueryCounter } from '../db/orm';
import { openSqlGateway, type SqlGateway } from '../db/sql';
import { createLogger } from '../logger';
import { check } from '../modules/diagnostics/check-result';
import { describeConnectionError, type DiagnosticsReport, type RedisProbe } from '../modules/diagnostics/checks';
import { type CheckResult, DiagnosticCode, DiagnosticStatus } from '../modules/diagnostics/diagnostics.types';
import { ENTITIES } from '../server/entities';
import { periodicJobs } from '../server/jobs';
import { createServices } from '../server/services';

const USAGE = `Usage: npm run doctor

Checks what a server of this build needs, from the server's own environment (DATABASE_URL or SQLITE_PATH, REDIS_URL,
SECRET_KEY, …), directly against the database and Redis (no server needs to run): the database and its latency,
migrations, Redis, clocks (this host's and each running instance's against the database's), signing keys, the
periodic jobs' last runs, rate limits, and the server secrets. Prints each problem with what to do about it, and
"Healthy." when there is none. Exits 1 when a check finds an ERROR, 2 when the configuration itself is wrong.`;

/** Asks Redis for a PING on a connection of its own, which gives up at once rather than retrying. */
function redisProbe(url: string): RedisProbe {
  return {
    async ping() {
      const client = new Redis(url, {
        lazyConnect: true,
        connectTimeout: 2_000,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        retryStrategy: () => null,
      });
      let cause: unknown;
      client.on('error', (error: unknown) => {
        cause ??= error; // what the failed connect was refused with; its rejection says only that it closed
      });
      try {
        await client.connect();
        await client.ping();
      } catch (error) {
        throw cause ?? error;
      } finally {
        client.disconnect();
      }
    },
  };
}

/** Where the configuration points, without a password. */
function describeTarget(config: Config): string {
  let where: string;
  if (config.database.driver === 'sqlite') where = `SQLite ${config.database.path}`;
  else {
    const url = new URL(config.database.url);
    url.password = '';
    where = `PostgreSQL ${url.toString()}`;
  }
  return `${where}; Redis ${config.redisUrl ? config.redisUrl.replace(/\/\/[^@/]*@/, '//') : 'not configured'}`;
}

async function diagnose(config: Config): Promise<DiagnosticsReport> {
  if (config.database.driver === 'sqlite' && !existsSync(config.database.path)) {
    const missing = check(
      DiagnosticCode.DATABASE_REACHABLE,
      DiagnosticStatus.ERROR,
      `There is no SQLite database at ${config.database.path}.`,
      { action: 'Set SQLITE_PATH to the file the server uses (a first start of the server creates it), or DATABASE_URL for PostgreSQL.' },
    );
    return { status: DiagnosticStatus.ERROR, checkedAt: new Date(), checks: [missing], instances: [], jobs: [], secrets: [] };
  }
  // Database clients' own lines go to standard error as JSON, never between the report's lines.
  const logger = createLogger('error', process.stderr);
  let orm: Orm | undefined;
  let db: SqlGateway | undefined;
  try {
    orm = await openOrm(config.database, ENTITIES, new QueryCounter(), config.databaseLimits, 'inspection');
    db = openSqlGateway(orm, new QueryCounter(), config.database);
    const services = createServices(config, db, {
      bus: new LocalEventBus(),
      catchUpPollMs: 0,
      logger,
      channelPrefix: config.redisChannelPrefix,
      fork: () => orm!.em.fork() as EntityManager,
      clock: systemClock,
      redisProbe: config.redisUrl ? redisProbe(config.redisUrl) : null,
    });
    // The jobs a server of this configuration runs (made to be named, never started).
    const jobs = periodicJobs(config, services, logger).map(({ name, intervalMs }) => ({ name, intervalMs }));
    return await services.diagnostics.check(jobs);
  } catch (error) {
    const unreachable = check(
      DiagnosticCode.DATABASE_REACHABLE,
      DiagnosticStatus.ERROR,
      `The database cannot be opened: ${describeConnectionError(error)}.`,
      {
        action: 'Check DATABASE_URL or SQLITE_PATH, and that the database runs and this host may connect to it.',
      },
    );
    return { status: DiagnosticStatus.ERROR, checkedAt: new Date(), checks: [unreachable], instances: [], jobs: [], secrets: [] };
  } finally {
    await db?.close().catch(() => undefined);
    await orm?.close(true).catch(() => undefined);
  }
}

const label = (c: CheckResult) => (c.subject ? `${c.code} ${c.subject}` : c.code);

/** The report in plain language: every check on a line, then each problem with what to do. */
export function formatReport(report: Pick<DiagnosticsReport, 'checks'>, target: string): string {
  const lines = [`AINexLayer License Manager doctor: ${target}`, ''];
  const width = Math.max(...report.checks.map((c) => label(c).length));
  for (const c of report.checks) lines.push(`${c.status.padEnd(7)} ${label(c).padEnd(width)}  ${c.value ?? ''}`.trimEnd());
  const problems = report.checks.filter((c) => c.status !== DiagnosticStatus.OK);
  for (const c of problems) {
    lines.push('', `${c.status} ${label(c)}: ${c.explanation}`);
    if (c.action) lines.push(`  Fix: ${c.action}`);
  }
  const advice = report.checks.filter((c) => c.status === DiagnosticStatus.OK && c.action);
  for (const c of advice) lines.push('', `Note ${label(c)}: ${c.action}`);
  const errors = problems.filter((c) => c.status === DiagnosticStatus.ERROR).length;
  const warnings = problems.length - errors;
  lines.push(
    '',
    problems.length === 0
      ? 'Healthy.'
      : errors > 0
        ? `Not healthy: ${errors} error(s), ${warnings} warning(s).`
        : `No errors; ${warnings} warning(s) to look at.`,
  );
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const [command] = process.argv.slice(2);
  if (command === 'help' || command === '--help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`license-manager doctor: configuration: ${error.message}\n`);
    process.exit(2);
  }
  const report = await diagnose(config);
  process.stdout.write(formatReport(report, describeTarget(config)));
  process.exit(report.status === DiagnosticStatus.ERROR ? 1 : 0);
}

main().catch((error) => {
  process.stderr.write(`license-manager doctor: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}\n`);
  process.exit(1);
});
