/**
 * Child process: the license server as deployed (createLicenseServer on SQLite), listening on 127.0.0.1 and an
 * ephemeral port. Prints one JSON line `{ url, token }` on stdout once it listens; closes on SIGTERM.
 * The environment (SQLITE_PATH, SECRET_KEY, ...) comes from the parent, read by the real `loadConfig`.
 */
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { createLicenseServer } from '../src/server/app';

async function main(): Promise<void> {
  const config = loadConfig({ ...process.env, PORT: '0', HOST: '127.0.0.1' });
  const server = await createLicenseServer(config, createLogger(config.logLevel));
  await server.listen();
  // listen() answers with a `localhost` URL; name the loopback address that was bound, so clients never try ::1.
  const { port } = server.http.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}/graphql`, token: server.bootstrapToken })}\n`);
  process.once('SIGTERM', () => {
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`close failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
