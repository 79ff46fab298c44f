import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { EntityManager } from '@mikro-orm/knex';
import { Principal } from '../auth/principal';
import { Role } from '../auth/roles';
import { SecretBox, SecretDigester } from '../auth/secrets';
import { systemClock } from '../common/clock';
import { TokenService } from '../modules/token/token.service';
import { type Config, ConfigError, loadConfig } from '../config';
import { openMigrated } from '../db/migrate';
import { type Orm, QueryCounter } from '../db/orm';
import { ENTITIES } from '../server/entities';
import { openSqlGateway, type SqlGateway } from '../db/sql';
import { AppError } from '../errors';
import { createLogger } from '../logger';
import { AuditChain } from '../modules/audit/audit-chain';
import { AuditService } from '../modules/audit/audit.service';
import { SigningKeys } from '../modules/certificate/signing-keys';

const USAGE = `Usage: npm run admin -- create-token --role ROLE [--name NAME] [--organization ORGANIZATION_ID]
       npm run admin -- verify-audit [--from TIME] [--to TIME]

Works on the database of the server, from the same environment (DATABASE_URL or SQLITE_PATH, and SECRET_KEY).

create-token   Makes an API token and prints it once, alone on standard output. ROLE is one of
               ${Object.values(Role).join(', ')}; every role but PLATFORM_ADMIN needs --organization.
               The way back in when no working platform-admin token is left. Audited as made from the
               command line.

verify-audit   Seals the audit events committed since the server last did, checks the audit chain (every
               event's hash, no place missing, the signed anchors) and prints the first event that does not
               fit, if any; exits 1 then. TIME is ISO 8601 (e.g. 2026-12-01T00:00:00Z).`;

/** A usage mistake: the usage is printed, and the exit status is 2. */
class UsageError extends Error {}

function die(message: string, status: number): never {
  process.stderr.write(`license-manager admin: ${message}\n`);
  process.exit(status);
}

async function createToken(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { role: { type: 'string' }, name: { type: 'string' }, organization: { type: 'string' } },
    strict: true,
  });
  const role = values.role as Role | undefined;
  if (!role || !Object.values(Role).includes(role)) throw new UsageError(`--role must be one of ${Object.values(Role).join(', ')}`);
  const name = (values.name ?? `${role.toLowerCase().replace('_', ' ')} (command line)`).trim();
  if (name.length < 1 || name.length > 200) throw new UsageError('--name must be 1 to 200 characters long');

  await withDatabase(async (db, orm, config) => {
    // Tokens are only made here; no instance needs telling.
    const noRevocations = { publish: () => undefined };
    const tokens = new TokenService(db, new SecretDigester(config.secretKey), new AuditService(), noRevocations, systemClock);
    const operation = {
      principal: Principal.system('command line'),
      requestId: `admin-${randomUUID()}`,
      em: orm.em.fork() as EntityManager,
    };
    const { token, secret } = await tokens.create(operation, { name, role, organizationId: values.organization ?? null });
    process.stderr.write(
      `A ${role} API token "${token.name}" was made (id ${token.id}). It is shown this once and never stored in plain text; keep it safe.\n`,
    );
    process.stdout.write(`${secret}\n`);
  });
}

/** The server's database, from the same environment, brought up to date first as a server start would. */
async function withDatabase(work: (db: SqlGateway, orm: Orm, config: Config) => Promise<void>): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('warn');
  const queries = new QueryCounter();
  const orm = await openMigrated(config, ENTITIES, logger, queries);
  try {
    const db = openSqlGateway(orm, queries, config.database);
    try {
      await work(db, orm, config);
    } finally {
      await db.close();
    }
  } finally {
    await orm.close(true);
  }
}

function timeOption(name: string, value: string | undefined): Date | null {
  if (value === undefined) return null;
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) throw new UsageError(`--${name} must be a time in ISO 8601, e.g. 2026-12-01T00:00:00Z`);
  return at;
}

async function verifyAudit(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { from: { type: 'string' }, to: { type: 'string' } }, strict: true });
  const range = { from: timeOption('from', values.from), to: timeOption('to', values.to) };
  if (range.from && range.to && range.from >= range.to) throw new UsageError('--from must be before --to');
  await withDatabase(async (db, _orm, config) => {
    const keys = new SigningKeys(
      db,
      new SecretBox(config.secretKey, 'signing-keys', config.secretKeyPrevious),
      new AuditService(),
      systemClock,
    );
    const chain = new AuditChain(db, keys, systemClock);
    await chain.seal();
    const report = await chain.verify(range);
    const head = report.head ? `head ${report.head.seq} ${report.head.hash}` : 'no event sealed yet';
    const summary = `${report.checked} events and ${report.anchorsChecked} anchors checked; ${head}`;
    if (report.firstBroken) {
      const { seq, eventId, reason, message } = report.firstBroken;
      process.stdout.write(`audit chain BROKEN at ${seq}${eventId ? ` (event ${eventId})` : ''}: ${reason}. ${message}\n${summary}\n`);
      process.exitCode = 1;
    } else {
      process.stdout.write(`audit chain valid: ${summary}\n`);
    }
  });
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  try {
    if (command === 'create-token') await createToken(rest);
    else if (command === 'verify-audit') await verifyAudit(rest);
    else if (command === undefined || command === 'help' || command === '--help') process.stdout.write(`${USAGE}\n`);
    else throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      die(`${(error as Error).message}\n\n${USAGE}`, 2);
    }
    if (error instanceof ConfigError) die(`configuration: ${error.message}`, 1);
    if (error instanceof AppError) die(error.message, 1);
    die(
      `cannot ${command === 'verify-audit' ? 'verify the audit chain' : 'make the token'}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      1,
    );
  }
}

void main();
