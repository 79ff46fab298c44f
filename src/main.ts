import 'reflect-metadata';
import { ConfigError, loadConfig } from './config';
import { createLogger, type Logger } from './logger';
import { createLicenseServer, type LicenseServer } from './server/app';

/**
 * One JSON line on stderr (shaped as the log's, level fatal) and a non-zero exit: never a hang, never a raw stack
 * trace. It is written directly: the logger may not exist yet, and the process ends before an asynchronous write.
 */
function fail(message: string): never {
  process.stderr.write(`${JSON.stringify({ level: 60, time: Date.now(), msg: `license-manager: ${message}` })}\n`);
  process.exit(1);
}

/**
 * Node's own warnings and a crash go through the log as JSON lines, like everything else the process writes (Node
 * prints them as plain text otherwise).
 */
function logProcessEvents(logger: Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning: Error & { code?: string }) =>
    logger.warn({ warning: { name: warning.name, code: warning.code, message: warning.message } }, 'Node.js warning'),
  );
  const crash = (error: unknown) => fail(`crashed: ${describe(error)}`);
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
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
  logProcessEvents(logger);
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
  // Whatever the log level: an operator must see where it serves, and the first token, which is shown only here.
  const announce = logger.child({}, { level: 'info' });
  const serving = `AINexLayer License Manager serving ${url} (playground in a browser) on ${where}`;
  // In one line: whoever reads the line saying it serves finds the token with it.
  if (server.bootstrapToken) {
    announce.info(
      { url, database: config.database.driver, bootstrapToken: server.bootstrapToken },
      `${serving}. First start on an empty database: a platform-admin API token (bootstrapToken) was created, shown this once and never stored in plain text; keep it safe and send it as "Authorization: Bearer <token>"`,
    );
  } else {
    announce.info({ url, database: config.database.driver }, serving);
  }

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
