import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AlertRaisedDocument, type AlertRaisedSubscription, RecordUsageDocument } from './generated/graphql';
import { POSTGRES_URL } from './support/databases';
import { licensed } from './support/factories';
import { startTestServer, TEST_SECRET, type TestServer } from './support/server';

const REDIS_URL = process.env.TEST_REDIS_URL?.trim() || undefined;
const ROOT = resolve(__dirname, '..');

describe.skipIf(!POSTGRES_URL || !REDIS_URL)('two instances on PostgreSQL and Redis (TEST_DATABASE_URL and TEST_REDIS_URL)', () => {
  let first: TestServer;
  let second: ChildProcess;
  let secondUrl = '';

  beforeAll(async () => {
    first = await startTestServer('postgresql', { redisUrl: REDIS_URL });
    if (first.database.config.driver !== 'postgresql') throw new Error('expected PostgreSQL');
    // The second instance is another process on the same database and Redis, as a load balancer would see it.
    second = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        DATABASE_URL: first.database.config.url,
        REDIS_URL: REDIS_URL!,
        SECRET_KEY: TEST_SECRET,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    second.stdout?.on('data', (d) => (out += d));
    const deadline = Date.now() + 30_000;
    while (!/serving (\S+)/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    secondUrl = /serving (\S+)/.exec(out)?.[1] ?? '';
    if (!secondUrl) throw new Error(`the second instance did not start: ${out}`);
  });

  afterAll(async () => {
    second?.kill('SIGTERM');
    await new Promise((r) => second?.once('exit', r));
    await first?.close();
  });

  it('delivers to a subscriber on one instance the alert that a change on the other raised', async () => {
    const { key, licenseId } = await licensed(first, 'SUBSCRIPTION', { limits: { storageBytes: 1000 } });
    const client = createClient({
      url: first.url.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${first.admin}` },
    });
    const received: AlertRaisedSubscription['alertRaised'][] = [];
    client.subscribe<AlertRaisedSubscription>(
      { query: print(AlertRaisedDocument), variables: { filter: { licenseId } } },
      { next: (r) => r.data && received.push(r.data.alertRaised), error: () => undefined, complete: () => undefined },
    );
    try {
      await new Promise((r) => setTimeout(r, 300));
      const answer = await fetch(secondUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: print(RecordUsageDocument), variables: { key, metric: 'STORAGE_BYTES', value: 950 } }),
      });
      expect(((await answer.json()) as { data: { recordUsage: { value: number } } }).data.recordUsage.value).toBe(950);
      const deadline = Date.now() + 10_000;
      while (received.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(received.map((a) => [a.licenseId, a.threshold])).toEqual([
        [licenseId, 80],
        [licenseId, 90],
      ]);
    } finally {
      await client.dispose();
    }
  });
});
