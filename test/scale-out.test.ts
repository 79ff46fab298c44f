import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import {
  AlertRaisedDocument,
  type AlertRaisedSubscription,
  ComplianceEventsDocument,
  type ComplianceEventsSubscription,
  LicenseUsageChangedDocument,
  type LicenseUsageChangedSubscription,
  RecordUsageDocument,
} from './generated/graphql';
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
      expect(((await answer.json()) as { data: { recordUsage: { usage: { value: number } } } }).data.recordUsage.usage.value).toBe(950);
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

  it('carries usage changes between instances, and keeps apart deployments sharing Redis under another prefix', async () => {
    const { key, licenseId } = await licensed(first, 'SUBSCRIPTION', { limits: { storageBytes: 1000 } });
    // A third instance on the same database and Redis, but of another deployment: its channels have another prefix.
    const other = await startTestServer('postgresql', { redisUrl: REDIS_URL, redisChannelPrefix: 'another-deployment:' }, first);
    const subscriber = (t: TestServer) => {
      const client = createClient({
        url: t.url.replace('http', 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${t.admin}` },
      });
      const usage: LicenseUsageChangedSubscription['licenseUsageChanged'][] = [];
      const alerts: AlertRaisedSubscription['alertRaised'][] = [];
      client.subscribe<LicenseUsageChangedSubscription>(
        { query: print(LicenseUsageChangedDocument), variables: { licenseId } },
        { next: (r) => r.data && usage.push(r.data.licenseUsageChanged), error: () => undefined, complete: () => undefined },
      );
      client.subscribe<AlertRaisedSubscription>(
        { query: print(AlertRaisedDocument), variables: { filter: { licenseId } } },
        { next: (r) => r.data && alerts.push(r.data.alertRaised), error: () => undefined, complete: () => undefined },
      );
      return { client, usage, alerts };
    };
    const same = subscriber(first);
    const apart = subscriber(other);
    try {
      // Each usage subscription is live once its snapshot is in; the alert subscription replays what it missed.
      await vi.waitFor(() => expect(same.usage.length >= 4 && apart.usage.length >= 4).toBe(true), { timeout: 10_000, interval: 20 });
      await fetch(secondUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: print(RecordUsageDocument), variables: { key, metric: 'STORAGE_BYTES', value: 850 } }),
      });
      const deadline = Date.now() + 10_000;
      while ((same.usage.length < 5 || same.alerts.length < 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 300));
      // The snapshot (four metrics), then the change made on the second instance; and its alert.
      expect(same.usage.slice(4).map((c) => [c.usage.metric, c.usage.value, c.usage.utilization])).toEqual([['STORAGE_BYTES', 850, 0.85]]);
      expect(same.alerts.map((a) => a.threshold)).toEqual([80]);
      // The other deployment's subscribers got their snapshot, and nothing of this deployment's events.
      expect(apart.usage).toHaveLength(4);
      expect(apart.alerts).toEqual([]);
    } finally {
      await Promise.all([same.client.dispose(), apart.client.dispose()]);
      await other.close();
    }
  });

  it('delivers to a compliance subscriber on one instance what a breach on the other opened and resolved, in order', async () => {
    const { key, licenseId } = await licensed(first, 'SUBSCRIPTION', { limits: { storageBytes: 1000 } });
    const client = createClient({
      url: first.url.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${first.admin}` },
    });
    const received: ComplianceEventsSubscription['complianceEvents'][] = [];
    client.subscribe<ComplianceEventsSubscription>(
      { query: print(ComplianceEventsDocument), variables: { filter: { licenseId } } },
      { next: (r) => r.data && received.push(r.data.complianceEvents), error: () => undefined, complete: () => undefined },
    );
    const report = (value: number) =>
      fetch(secondUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: print(RecordUsageDocument), variables: { key, metric: 'STORAGE_BYTES', value } }),
      });
    try {
      await new Promise((r) => setTimeout(r, 300));
      for (const value of [1200, 1300, 900]) await report(value);
      const deadline = Date.now() + 10_000;
      while (received.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(received.map((e) => [e.type, e.violation.kind, e.violation.occurrences, e.violation.value])).toEqual([
        ['OPENED', 'STORAGE_OVERAGE', 1, 1200],
        ['UPDATED', 'STORAGE_OVERAGE', 2, 1300],
        ['RESOLVED', 'STORAGE_OVERAGE', 2, 1300],
      ]);
      expect(new Set(received.map((e) => e.violation.id)).size).toBe(1);
    } finally {
      await client.dispose();
    }
  });
});
