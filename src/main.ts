import 'reflect-metadata';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';
import { createLicenseServer, type LicenseServer } from './server/app';

/** One line on stderr and a non-zero exit: never a hang, never a raw stack trace. */
function fail(message: string): never {
  process.stderr.write(`license-manager: ${message}\n`);
  process.exit(1);
}

function describe(error: unknown): string {
  const e = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e?.code === 'EADDRINUSE') return `port ${e.port ?? ''} is already in use; set PORT to another port`;
  if (e?.code === 'EACCES' && e.syscall === 'listen') return `not allowed to listen on port ${e.port ?? ''}`;
  if (e?.code === 'ECONNREFUSED') return `cannot reach the database at ${e.address ?? ''}:${e.port ?? ''} (connection refused)`;
  if (e?.code === 'ENOTFOUND') return `cannot resolve the database host ${(e as { hostname?: string }).hostname ?? ''}`;
  const message = e instanceof Error ? e.message : String(error);
  return message.split('\n')[0] ?? 'unknown error';
}

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(`configuration: ${error.message}`);
    throw error;
  }
  const logger = createLogger(config.logLevel);
  let server: LicenseServer;
  try {
    server = await createLicenseServer(config, logger);
  } catch (error) {
    fail(`cannot start: ${describe(error)}`);
  }
  let url: string;
  try {
    url = await server.listen();
  } catch (error) {
    await server.close().catch(() => undefined);
    fail(`cannot listen: ${describe(error)}`);
  }

  const where = config.database.driver === 'sqlite' ? `SQLite ${config.database.path}` : 'PostgreSQL';
  const serving = `AINexLayer License Manager serving ${url} (playground in a browser) on ${where}\n`;
  // In one write: whoever reads the line saying it serves finds the token with it.
  process.stdout.write(
    server.bootstrapToken
      ? serving +
          [
            '',
            'First start on an empty database: a platform-admin API token was created.',
            'It is shown this once and never stored in plain text; keep it safe:',
            '',
            `  ${server.bootstrapToken}`,
            '',
            `Send it as "Authorization: Bearer <token>" to ${url}`,
            '',
          ].join('\n')
      : serving,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    server
      .close()
      .then(() => process.exit(0))
      .catch((error) => fail(`shutdown: ${describe(error)}`));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error) => fail(describe(error)));
