/**
 * Run by test/unit/async-context.test.ts in a process of its own (`node --import tsx`), so that nothing else in it
 * uses an async-local storage: whether Node's promise hooks are on is a property of the whole process. Prints one
 * JSON object of what it saw.
 *
 *   storages   plain AsyncLocalStorage runs, with disableAsyncStorageWhenIdle() installed
 *   server     a license server on a fresh SQLite file: its start, a management call, client calls
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import { disableAsyncStorageWhenIdle } from '../../src/db/async-context';
import { createLogger } from '../../src/logger';
import { createLicenseServer } from '../../src/server/app';

/** Whether the promise hooks see new promises: a hooked promise carries its async id as a symbol-keyed property. */
const hooked = () => Object.getOwnPropertySymbols(Promise.resolve()).length > 0;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

async function storages(): Promise<Record<string, boolean>> {
  disableAsyncStorageWhenIdle();
  const seen: Record<string, boolean> = { beforeAnyRun: hooked() };
  const storage = new AsyncLocalStorage<string>();
  let finish!: () => void;
  const running = storage.run('x', async () => {
    await new Promise<void>((resolve) => (finish = resolve));
  });
  await nextTurn();
  seen.whileARunWaits = hooked();
  finish();
  await running;
  await nextTurn();
  seen.onceItSettled = hooked();
  const other = new AsyncLocalStorage<number>();
  await storage.run('a', () => other.run(1, async () => tick()));
  await nextTurn();
  seen.afterNestedRuns = hooked();
  try {
    storage.run('thrown', () => {
      throw new Error('sync');
    });
  } catch {}
  await storage.run('rejected', async () => Promise.reject(new Error('async'))).catch(() => undefined);
  await nextTurn();
  seen.afterThrowingAndRejecting = hooked();
  storage.enterWith('unbounded');
  await storage.run('b', async () => tick());
  await nextTurn();
  seen.afterEnterWith = hooked();
  return seen;
}

async function server(): Promise<Record<string, boolean | string>> {
  const dir = mkdtempSync(join(tmpdir(), 'async-hooks-'));
  const config = loadConfig({
    SQLITE_PATH: join(dir, 'license.sqlite'),
    HOST: '127.0.0.1',
    PORT: '0',
    SECRET_KEY: randomBytes(32).toString('base64url'),
    LOG_LEVEL: 'warn',
    // No background job runs during the scenario.
    LEASE_REAPER_INTERVAL_MS: '3600000',
    EXPIRY_WATCH_INTERVAL_MS: '86400000',
    COMPLIANCE_SCAN_INTERVAL_MS: '86400000',
  });
  const licenseServer = await createLicenseServer(config, createLogger('warn'));
  try {
    const url = await licenseServer.listen();
    const post = async (query: string, variables: Record<string, unknown>, token?: string) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as { data?: Record<string, { id?: string; code?: string }>; errors?: unknown[] };
    };
    await nextTurn();
    const seen: Record<string, boolean | string> = { afterStart: hooked() };
    const created = await post(
      'mutation ($input: CreateOrganizationInput!) { createOrganization(input: $input) { id } }',
      {
        input: { name: 'Hooks' },
      },
      licenseServer.bootstrapToken ?? undefined,
    );
    seen.organizationCreated = Boolean(created.data?.createOrganization?.id);
    await nextTurn();
    seen.afterManagementCall = hooked();
    const refused = await post('query ($key: String!) { validateLicense(key: $key) { code } }', {
      key: 'AINX-00000000-00000000-00000000-00000000',
    });
    seen.clientCallAnswered = JSON.stringify(refused.errors ?? refused.data);
    await nextTurn();
    seen.afterClientCall = hooked();
    return seen;
  } finally {
    await licenseServer.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const scenario = process.argv[2] === 'server' ? server : storages;
scenario().then(
  (seen) => {
    process.stdout.write(`${JSON.stringify(seen)}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    process.stderr.write(`${String(error instanceof Error ? error.stack : error)}\n`);
    process.exit(1);
  },
);
