import { describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { AlertStream, type StreamedAlert } from '../packages/client/src/alert-stream';
import { type ClientStatus, LicenseClient } from '../packages/client/src/client';
import { MemoryStore } from '../packages/client/src/store';
import { AlertsDocument, LeaseBorrowedDocument, RecordUsageDocument } from './generated/graphql';
import { DATABASE_KINDS } from './support/databases';
import { alertingLicense, issueToken, licensed } from './support/factories';
import { startTestServer, type TestServer } from './support/server';

const portOf = (t: TestServer) => Number(new URL(t.url).port);

describe.each(DATABASE_KINDS)('the client library against a real server [%s]', (kind) => {
  it('runs on its certificate while the server is away, says until when, and resumes heartbeats on the same lease', async () => {
    const first = await startTestServer(kind);
    let second: TestServer | undefined;
    const statuses: ClientStatus[] = [];
    const l = await licensed(first, 'CONCURRENT', { limits: { concurrentSessions: 2 } });
    const client = new LicenseClient({
      url: first.url,
      key: l.key,
      fingerprint: 'workstation-7',
      heartbeatMs: 150,
      onStatus: (s) => statuses.push(s),
    });
    try {
      const { leaseId } = await client.checkout();
      expect((await client.validate({ feature: 'core.inference' })).offline).toBe(false);

      // The server stops mid-session: the next heartbeat fails, and the client runs on its certificate.
      await first.server.close();
      await vi.waitFor(() => expect(client.status().online).toBe(false), { timeout: 5_000, interval: 50 });
      const away = client.status();
      expect(away.leaseId).toBe(leaseId);
      expect(away.offlineUntil!.getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000); // 30 days of certificate
      const offline = await client.validate({ feature: 'core.inference' });
      expect(offline).toMatchObject({ valid: true, code: 'VALID', offline: true });
      expect(offline.checks.map((c) => [c.check, c.code])).toEqual([
        ['CERTIFICATE', 'CERTIFICATE_VALID'],
        ['STATUS', 'ACTIVE'],
        ['TERM', 'WITHIN_TERM'],
        ['LEASE', 'LEASE_ACTIVE'],
        ['FEATURE', 'FEATURE_ENTITLED'],
      ]);

      // Back on the same address: heartbeats resume on the same lease.
      second = await startTestServer(kind, { port: portOf(first) }, first);
      await vi.waitFor(() => expect(client.status().online).toBe(true), { timeout: 5_000, interval: 50 });
      expect(client.status().leaseId).toBe(leaseId);
      const s = second;
      const leases = async () => (await s.ok(LeaseBorrowedDocument, { filter: { licenseId: l.licenseId, live: true } })).leases.nodes;
      expect((await leases()).map((n) => n.id)).toEqual([leaseId]);
      expect(statuses.map((x) => x.online)).toEqual([true, false, true]);

      // Closed (shutdown), it checks its seat in.
      await client.close();
      expect(await leases()).toEqual([]);
    } finally {
      await client.close().catch(() => undefined);
      await (second ?? first).server.close().catch(() => undefined);
      await first.database.drop();
    }
  }, 60_000);

  it('delivers each alert once, in order, across a stream killed and restarted with its stored cursor', async () => {
    const t = await startTestServer(kind);
    const store = new MemoryStore();
    const delivered: StreamedAlert[] = [];
    const l = await alertingLicense(t);
    const integrator = await issueToken(t, 'INTEGRATOR', l.organizationId);
    const stream = () =>
      new AlertStream({
        url: t.url.replace('http', 'ws'),
        token: integrator.secret,
        filter: { licenseId: l.licenseId },
        store,
        webSocketImpl: WebSocket,
        onAlert: (alert) => void delivered.push(alert),
      });
    // Storage up to the limit and back: three alerts a cycle (80, 90, 100 %).
    const cycle = async () => {
      await t.ok(RecordUsageDocument, { key: l.key, metric: 'STORAGE_BYTES', value: 1000 }, null);
      await t.ok(RecordUsageDocument, { key: l.key, metric: 'STORAGE_BYTES', value: 0 }, null);
    };
    try {
      let current = stream();
      await current.start();
      for (let i = 0; i < 3; i++) await cycle();
      await vi.waitFor(() => expect(delivered.length).toBeGreaterThan(0), { timeout: 5_000, interval: 20 });
      // Killed while alerts are raised, and started again (as a restarted process would) with the same store.
      const raising = (async () => {
        for (let i = 0; i < 5; i++) await cycle();
      })();
      await current.stop();
      await new Promise((resolve) => setTimeout(resolve, 50));
      current = stream();
      await current.start();
      await raising;
      for (let i = 0; i < 2; i++) await cycle();
      const stored = (await t.ok(AlertsDocument, { filter: { licenseId: l.licenseId }, first: 200 })).alerts.nodes;
      expect(stored).toHaveLength(30);
      await vi.waitFor(() => expect(delivered.length).toBeGreaterThanOrEqual(stored.length), { timeout: 10_000, interval: 20 });
      await current.stop();
      // Each once, in the order stored (oldest first), none missing.
      expect(delivered.map((a) => a.id)).toEqual(stored.map((a) => a.id).sort());
      expect(await store.get('alert-cursor')).toBe(delivered.at(-1)!.id);
    } finally {
      await t.close();
    }
  }, 60_000);
});
