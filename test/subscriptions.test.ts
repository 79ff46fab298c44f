import { print } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import { afterEach, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { AlertRaisedDocument, type AlertRaisedSubscription, AlertsDocument, RecordUsageDocument } from './generated/graphql';
import { alertingLicense, issueToken } from './support/factories';
import { describeEachDatabase, startTestServer, type TestServer } from './support/server';

type Alert = AlertRaisedSubscription['alertRaised'];

const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
});

/**
 * A graphql-ws subscriber collecting the alerts it receives. Without `after`, the subscription first replays the
 * stored alerts of its filter from the start: the alerts raised next need not wait for it to be live.
 */
function subscribe(t: TestServer, token: string, variables: { filter?: { licenseId?: string }; after?: string | null } = {}) {
  const client = createClient({
    url: t.url.replace('http', 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
  });
  clients.push(client);
  const received: Alert[] = [];
  const errors: unknown[] = [];
  const stop = client.subscribe<AlertRaisedSubscription>(
    { query: print(AlertRaisedDocument), variables },
    {
      next: (r) => (r.data ? received.push(r.data.alertRaised) : errors.push(r.errors)),
      error: (e) => errors.push(e),
      complete: () => undefined,
    },
  );
  /** Waits for `count` alerts, or `ms`: what is missing, the test's expectations show. */
  const until = async (count: number, ms = 10_000) => {
    await waitUntil(() => received.length >= count, ms);
    return received;
  };
  return { received, errors, until, stop, client };
}

/** Drives a license's storage up to its limit and back: three alerts (80, 90, 100 %) per cycle. */
async function cycles(t: TestServer, key: string, n: number) {
  for (let i = 0; i < n; i++) {
    await t.ok(RecordUsageDocument, { key, metric: 'STORAGE_BYTES', value: 1000 }, null);
    await t.ok(RecordUsageDocument, { key, metric: 'STORAGE_BYTES', value: 0 }, null);
  }
}

/** Waits until `condition` holds, or `ms` passed: what is missing, the test's expectations show. */
const waitUntil = (condition: () => boolean, ms = 10_000) =>
  vi.waitFor(() => expect(condition()).toBe(true), { timeout: ms, interval: 20 }).catch(() => undefined);

const storedAlerts = async (t: TestServer, licenseId: string) =>
  (await t.ok(AlertsDocument, { filter: { licenseId }, first: 200 })).alerts.nodes;

it('closes subscribers cleanly (1001, going away) when the server shuts down, so that they resume elsewhere', async () => {
  const t = await startTestServer('sqlite');
  let connected = false;
  const closed = new Promise<number>((resolve) => {
    const client = createClient({
      url: t.url.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${t.admin}` },
      retryAttempts: 0,
      on: {
        connected: () => {
          connected = true;
        },
        closed: (event) => resolve((event as { code: number }).code),
      },
    });
    client.subscribe({ query: print(AlertRaisedDocument) }, { next: () => undefined, error: () => undefined, complete: () => undefined });
  });
  await vi.waitFor(() => expect(connected).toBe(true), { timeout: 10_000, interval: 10 });
  await t.close();
  expect(await closed).toBe(1001);
});

describeEachDatabase('alert subscriptions', (server) => {
  it('delivers an alert to a subscriber the moment it is raised', async () => {
    const t = server();
    const { key, licenseId } = await alertingLicense(t);
    const sub = subscribe(t, t.admin, { filter: { licenseId } });
    await t.ok(RecordUsageDocument, { key, metric: 'STORAGE_BYTES', value: 850 }, null);
    expect((await sub.until(1)).map((a) => a.threshold)).toEqual([80]);
    expect(sub.errors).toEqual([]);
  });

  it('gives a subscriber back from an absence every alert it missed, in order, once each', async () => {
    const t = server();
    const { key, licenseId } = await alertingLicense(t);
    await cycles(t, key, 1);
    const first = subscribe(t, t.admin, { filter: { licenseId } });
    const seen = await first.until(3);
    const cursor = seen[seen.length - 1]!.id;
    await first.client.dispose();

    await cycles(t, key, 34); // 102 alerts while away
    const back = subscribe(t, t.admin, { filter: { licenseId }, after: cursor });
    const missed = await back.until(102);
    const stored = (await storedAlerts(t, licenseId)).slice(3);
    expect(stored).toHaveLength(102);
    expect(missed.map((a) => a.id)).toEqual(stored.map((a) => a.id));
    await cycles(t, key, 1); // and then live, after the replay
    expect((await back.until(105)).slice(102).map((a) => a.threshold)).toEqual([80, 90, 100]);
    expect(new Set(back.received.map((a) => a.id)).size).toBe(back.received.length);
  });

  it('loses and repeats nothing while alerts are raised during the replay', async () => {
    const t = server();
    const { key, licenseId } = await alertingLicense(t);
    await cycles(t, key, 10);
    const raising = cycles(t, key, 10);
    const sub = subscribe(t, t.admin, { filter: { licenseId }, after: null });
    await raising;
    const all = await sub.until(60);
    expect(all.map((a) => a.id)).toEqual((await storedAlerts(t, licenseId)).map((a) => a.id));
  });

  it('shows an organization’s integrator none of another organization’s alerts, raised at the same time', async () => {
    const t = server();
    const mine = await alertingLicense(t);
    const theirs = await alertingLicense(t);
    const integrator = await issueToken(t, 'INTEGRATOR', mine.organizationId);
    const sub = subscribe(t, integrator.secret);
    await Promise.all([cycles(t, mine.key, 3), cycles(t, theirs.key, 3)]);
    const got = await sub.until(9);
    await new Promise((r) => setTimeout(r, 200)); // a little longer: an alert of the other organization would show
    expect(got).toHaveLength(9);
    expect(new Set(sub.received.map((a) => a.organizationId))).toEqual(new Set([mine.organizationId]));
  });

  it('gives each subscriber the selection it asked for, when several ask different ones of the same alert', async () => {
    const t = server();
    const { key, licenseId } = await alertingLicense(t);
    // Raw graphql-ws subscribers with their own documents: the shared execution must key on document and variables.
    const raw = (query: string, variables: Record<string, unknown>) => {
      const client = createClient({
        url: t.url.replace('http', 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${t.admin}` },
      });
      clients.push(client);
      const got: unknown[] = [];
      client.subscribe({ query, variables }, { next: (r) => got.push(r.data), error: (e) => got.push(e), complete: () => undefined });
      return got;
    };
    const doc = 'subscription($filter: AlertFilter) { alertRaised(filter: $filter) { threshold } }';
    const narrow = raw(doc, { filter: { licenseId } });
    const wide = raw('subscription($filter: AlertFilter) { alertRaised(filter: $filter) { threshold severity licenseId } }', {
      filter: { licenseId },
    });
    const critical = raw(doc, { filter: { licenseId, severity: 'CRITICAL' } });
    const aliased = raw('subscription($filter: AlertFilter) { a: alertRaised(filter: $filter) { t: threshold } }', {
      filter: { licenseId },
    });
    await cycles(t, key, 1);
    await waitUntil(() => narrow.length >= 3 && wide.length >= 3 && aliased.length >= 3 && critical.length >= 1);
    await new Promise((r) => setTimeout(r, 200)); // a little longer: an alert too many would show
    expect(narrow).toEqual([80, 90, 100].map((threshold) => ({ alertRaised: { threshold } })));
    expect(wide).toEqual([
      { alertRaised: { threshold: 80, severity: 'INFO', licenseId } },
      { alertRaised: { threshold: 90, severity: 'WARNING', licenseId } },
      { alertRaised: { threshold: 100, severity: 'CRITICAL', licenseId } },
    ]);
    expect(critical).toEqual([{ alertRaised: { threshold: 100 } }]);
    expect(aliased).toEqual([80, 90, 100].map((t) => ({ a: { t } })));
  });

  it('gives a live subscriber every alert of many licenses raising them at once, in the order they are stored', async () => {
    const t = server();
    const licenses = await Promise.all(Array.from({ length: 8 }, () => alertingLicense(t)));
    // Every alert of the server, replayed then live; those of these licenses are the ones raised below.
    const sub = subscribe(t, t.admin);
    await Promise.all(licenses.map((l) => cycles(t, l.key, 3)));
    const expected = 8 * 3 * 3;
    const ours = new Set(licenses.map((l) => l.licenseId));
    const mine = () => sub.received.filter((a) => ours.has(a.licenseId));
    await waitUntil(() => mine().length >= expected);
    const got = mine();
    const stored = (await Promise.all(licenses.map((l) => storedAlerts(t, l.licenseId)))).flat().sort((a, b) => (a.id < b.id ? -1 : 1));
    expect(stored).toHaveLength(expected);
    // Ids follow commit order, so a live subscriber never sees an id lower than one it saw, and misses none.
    expect(got.map((a) => a.id)).toEqual(stored.map((a) => a.id));
  });

  it('refuses a message over the size limit by closing the socket (1009)', async () => {
    const t = server();
    const code = await new Promise<number>((resolve) => {
      const socket = new WebSocket(t.url.replace('http', 'ws'), 'graphql-transport-ws');
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { pad: 'x'.repeat(300 * 1024) } })));
      socket.on('close', (closeCode) => resolve(closeCode));
    });
    expect(code).toBe(1009);
  });

  it('closes a socket that never says connection_init with 4408', async () => {
    const t = server();
    const code = await new Promise<number>((resolve) => {
      const socket = new WebSocket(t.url.replace('http', 'ws'), 'graphql-transport-ws');
      socket.on('close', (closeCode) => resolve(closeCode));
    });
    expect(code).toBe(4408);
  });
});
