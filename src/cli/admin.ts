import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { EntityManager } from '@mikro-orm/knex';
import { Principal } from '../auth/principal';
import { Role } from '../auth/roles';
import { SecretDigester } from '../auth/secrets';
import { systemClock } from '../common/clock';
import { TokenService } from '../modules/token/token.service';
import { ConfigError, loadConfig } from '../config';
import { openMigrated } from '../db/migrate';
import { QueryCounter } from '../db/orm';
import { ENTITIES } from '../server/entities';
import { openSqlGateway } from '../db/sql';
import { AppError } from '../errors';
import { createLogger } from '../logger';
import { AuditService } from '../modules/audit/audit.service';

const USAGE = `Usage: npm run admin -- create-token --role ROLE [--name NAME] [--organization ORGANIZATION_ID]

Works on the database of the server, from the same environment (DATABASE_URL or SQLITE_PATH, and SECRET_KEY).

create-token   Makes an API token and prints it once, alone on standard output. ROLE is one of
               ${Object.values(Role).join(', ')}; every role but PLATFORM_ADMIN needs --organization.
               The way back in when no working platform-admin token is left. Audited as made from the
               command line.`;

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

  const config = loadConfig();
  const logger = createLogger('warn');
  const queries = new QueryCounter();
  // A database never served yet is brought up to date first, as a server start would.
  const orm = await openMigrated(config, ENTITIES, logger, queries);
  try {
    const db = openSqlGateway(orm, queries, config.database);
    try {
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
    } finally {
      await db.close();
    }
  } finally {
    await orm.close(true);
  }
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  try {
    if (command === 'create-token') await createToken(rest);
    else if (command === undefined || command === 'help' || command === '--help') process.stdout.write(`${USAGE}\n`);
    else throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      die(`${(error as Error).message}\n\n${USAGE}`, 2);
    }
    if (error instanceof ConfigError) die(`configuration: ${error.message}`, 1);
    if (error instanceof AppError) die(error.message, 1);
    die(`cannot make the token: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, 1);
  }
}

void main();
