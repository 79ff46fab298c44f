import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Repeater } from '@graphql-yoga/subscription';
import { GraphQLInt, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString, print } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import { afterEach, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  AlertRaisedDocument,
  type AlertRaisedSubscription,
  AlertsDocument,
  type AlertsQuery,
  RecordUsageDocument,
} from './generated/graphql';
import { Principal } from '../src/auth/principal';
import { createLogger } from '../src/logger';
import type { GraphQLContext } from '../src/server/context';
import { serveWebSocket } from '../src/server/websocket';
import { alertingLicense } from './support/factories';
import { type GraphQLErrorBody, startTestServer, type TestServer } from './support/server';

type Alert = AlertRaisedSubscription['alertRaised'];

/** A graphql-transport-ws message as it travels. */
interface ProtocolMessage {
  id?: string;
  type: string;
  payload?: unknown;
}

/** The code on the error that ends the subscription of a subscriber that fell too far behind. */
const CUT_OFF_CODE = 'SUBSCRIBER_TOO_SLOW';
/** How many alerts may wait for a subscriber before it is cut off (the stream's limit). */
const MAX_PENDING_ALERTS = 1024;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  // Sockets first: a server waits for its sockets' close handshakes, which a stalled client never completes.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(): Promise<TestServer> {
  const t = await startTestServer('sqlite');
  cleanups.push(() => t.close());
  return t;
}

/** Polls until `done` holds. The deadline only keeps a broken run from hanging: the assertions after it judge. */
async function eventually(done: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/** Drives a license's storage up to its limit and back: three alerts (80, 90, 100 %) per cycle. */
async function cycles(t: TestServer, key: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await t.ok(RecordUsageDocument, { key, metric: 'STORAGE_BYTES', value: 1000 }, null);
    await t.ok(RecordUsageDocument, { key, metric: 'STORAGE_BYTES', value: 0 }, null);
  }
}

/** The ids of a license's stored alerts, in the order they were raised. */
async function storedAlertIds(t: TestServer, licenseId: string): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (;;) {
    const { alerts }: AlertsQuery = await t.ok(AlertsDocument, { filter: { licenseId }, first: 200, after });
    ids.push(...alerts.nodes.map((a) => a.id));
    if (!alerts.pageInfo.hasNextPage) return ids;
    after = alerts.pageInfo.endCursor;
  }
}

/** A subscriber that reads everything it is sent, through graphql-ws's own client. */
function readingSubscriber(t: TestServer, variables: { filter: { licenseId: string }; after?: string | null }) {
  const client: Client = createClient({
    url: t.url.replace('http', 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${t.admin}` },
  });
  cleanups.push(() => client.dispose());
  const received: Alert[] = [];
  const errors: unknown[] = [];
  client.subscribe<AlertRaisedSubscription>(
    { query: print(AlertRaisedDocument), variables },
    {
      next: (r) => (r.data ? received.push(r.data.alertRaised) : errors.push(r.errors)),
      error: (e) => errors.push(e),
      complete: () => undefined,
    },
  );
  return { received, errors };
}

interface RawClient {
  socket: WebSocket;
  /** Every message received, in order. */
  messages: ProtocolMessage[];
  /** How the socket closed, once it has. */
  closed(): { code: number; reason: string } | undefined;
  subscribe(id: string, query: string, variables: Record<string, unknown>): void;
  /** Every message an operation was sent, in the order they came. */
  of(id: string): ProtocolMessage[];
  /** The alerts an operation was sent, in the order they came. */
  alerts(id: string): Alert[];
  /** The message that ended an operation, if one did: always its last. */
  end(id: string): ProtocolMessage | undefined;
}

/**
 * A client speaking graphql-transport-ws by hand over a raw socket, so that it can stop reading at the TCP level:
 * while it is paused, what the server sends fills the kernel's buffers, then waits in the server.
 */
async function rawClient(url: string, token: string): Promise<RawClient> {
  const socket = new WebSocket(url.replace('http', 'ws'), 'graphql-transport-ws');
  cleanups.push(() => socket.terminate());
  const messages: ProtocolMessage[] = [];
  const byOperation = new Map<string, ProtocolMessage[]>();
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as ProtocolMessage;
    messages.push(message);
    if (message.id === undefined) return;
    const ofOperation = byOperation.get(message.id) ?? [];
    ofOperation.push(message);
    byOperation.set(message.id, ofOperation);
  });
  let closed: { code: number; reason: string } | undefined;
  socket.on('close', (code, reason) => {
    closed = { code, reason: String(reason) };
  });
  await once(socket, 'open');
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  await eventually(() => messages.some((m) => m.type === 'connection_ack'));
  const of = (id: string) => byOperation.get(id) ?? [];
  return {
    socket,
    messages,
    closed: () => closed,
    subscribe: (id, query, variables) => socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } })),
    of,
    alerts: (id) =>
      of(id)
        .filter((m) => m.type === 'next')
        .map((m) => (m.payload as { data: AlertRaisedSubscription }).data.alertRaised),
    end: (id) => {
      const last = of(id).at(-1);
      return last?.type === 'error' || last?.type === 'complete' ? last : undefined;
    },
  };
}

it('keeps a subscriber current while another one’s socket stops reading, and gives the stalled one everything, in order, once it reads again', async () => {
  const t = await server();
  const { key, licenseId } = await alertingLicense(t);
  const reading = readingSubscriber(t, { filter: { licenseId } });
  const stalled = await rawClient(t.url, t.admin);
  stalled.subscribe('alerts', print(AlertRaisedDocument), { filter: { licenseId } });
  stalled.socket.pause();

  await cycles(t, key, 100); // 300 alerts: well within what may wait for a subscriber
  const stored = await storedAlertIds(t, licenseId);
  expect(stored).toHaveLength(300);
  await eventually(() => reading.received.length >= stored.length);
  expect(reading.received.map((a) => a.id)).toEqual(stored);
  expect(reading.errors).toEqual([]);
  expect(stalled.alerts('alerts')).toEqual([]);

  stalled.socket.resume();
  await eventually(() => stalled.alerts('alerts').length >= stored.length);
  expect(stalled.alerts('alerts').map((a) => a.id)).toEqual(stored);
  expect(stalled.end('alerts')).toBeUndefined(); // still live
});

/**
 * Checks how a stalled subscription ended: the alerts it was sent are the first of those stored, in order, and the
 * error after them carries the stable code and the cursor to resume from, the last of them. Returns that cursor.
 */
function expectCutOff(stalled: RawClient, id: string, stored: string[], atLeast: number): string {
  const seen = stalled.alerts(id).map((a) => a.id);
  expect(seen.length).toBeGreaterThanOrEqual(atLeast);
  expect(seen.length).toBeLessThan(stored.length);
  expect(seen).toEqual(stored.slice(0, seen.length));
  const end = stalled.end(id);
  expect(end?.type).toBe('error');
  const [error] = (end?.payload ?? []) as GraphQLErrorBody[];
  expect(error?.extensions).toEqual({ code: CUT_OFF_CODE, after: seen.at(-1), requestId: expect.any(String) });
  return String(seen.at(-1));
}

it('cuts off a subscriber that falls more than 1,024 alerts behind, live or replaying: it gets what was waiting, then an error naming its cursor, and resumes from it missing nothing', async () => {
  const t = await server();
  const { key, licenseId } = await alertingLicense(t);
  const reading = readingSubscriber(t, { filter: { licenseId } });
  // One socket watching through many subscriptions fills the kernel's buffers (a few MB on loopback) within a few
  // hundred alerts; then up to 1,024 more wait in the server for each subscription, and the next one cuts it off.
  const stalled = await rawClient(t.url, t.admin);
  const watches = Array.from({ length: 50 }, (_, i) => `watch-${i}`);
  for (const id of watches) stalled.subscribe(id, print(AlertRaisedDocument), { filter: { licenseId } });
  stalled.socket.pause();
  await cycles(t, key, 200); // 600 alerts
  // The socket's buffers are full by now: a subscription replaying from the start gets stuck on its first alerts,
  // and holds the live ones meanwhile, up to 1,024.
  stalled.subscribe('replay', print(AlertRaisedDocument), { filter: { licenseId }, after: null });
  await cycles(t, key, 360); // 1,080 alerts more
  const stored = await storedAlertIds(t, licenseId);
  expect(stored).toHaveLength(1680);
  await eventually(() => reading.received.length >= stored.length);
  expect(reading.received.map((a) => a.id)).toEqual(stored);
  expect(reading.errors).toEqual([]);
  expect(stalled.messages.filter((m) => m.type !== 'connection_ack')).toEqual([]);

  stalled.socket.resume();
  await eventually(() => [...watches, 'replay'].every((id) => stalled.end(id)));
  const cursors = new Set(watches.map((id) => expectCutOff(stalled, id, stored, MAX_PENDING_ALERTS)));
  cursors.add(expectCutOff(stalled, 'replay', stored, 1));
  expect(stalled.closed()).toBeUndefined(); // subscriptions were ended, not the socket

  // Back on a new socket from each cursor an error named: the rest, in order, once each.
  for (const after of cursors) {
    const missed = stored.slice(stored.indexOf(after) + 1);
    const resumed = readingSubscriber(t, { filter: { licenseId }, after });
    await eventually(() => resumed.received.length >= missed.length);
    expect(resumed.received.map((a) => a.id)).toEqual(missed);
    expect(resumed.errors).toEqual([]);
  }
}, 120_000); // most of it raising 1,680 alerts, one request at a time

/**
 * A WebSocket endpoint served by serveWebSocket alone, over a schema whose results the test controls: `blob`
 * answers as many bytes as asked, and `tick` sends each string handed to `tick()`.
 */
async function blobEndpoint() {
  const ticks = new EventTarget();
  const resolved: number[] = [];
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({
      name: 'Query',
      fields: {
        blob: {
          type: GraphQLString,
          args: { bytes: { type: new GraphQLNonNull(GraphQLInt) } },
          resolve: (_root, { bytes }: { bytes: number }) => {
            resolved.push(bytes);
            return 'x'.repeat(bytes);
          },
        },
      },
    }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        tick: {
          type: GraphQLString,
          subscribe: () =>
            new Repeater<string>(async (push, stop) => {
              const listener = (event: Event) => void push((event as CustomEvent<string>).detail);
              ticks.addEventListener('tick', listener);
              await stop;
              ticks.removeEventListener('tick', listener);
            }),
          resolve: (tick: string) => tick,
        },
      },
    }),
  });
  const http = createServer();
  const ws = serveWebSocket(http, {
    schema,
    maxPayload: 64 * 1024,
    authenticate: async () => Principal.anonymous(),
    contextFor: () => ({}) as GraphQLContext,
    logger: createLogger('silent'),
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    await ws.dispose();
    await new Promise((resolve) => http.close(resolve));
  });
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    resolved,
    tick: (text: string) => ticks.dispatchEvent(new CustomEvent('tick', { detail: text })),
  };
}

it('closes a socket that stops reading once more than 1 MiB waits to be written to it (1013): the client reads what was sent before, then the reason', async () => {
  const endpoint = await blobEndpoint();
  const stalled = await rawClient(endpoint.url, 'any');
  stalled.subscribe('tick', 'subscription { tick }', {});
  stalled.socket.pause();
  // 16 MB: more than the kernel's buffers take, so that most of it waits in the server.
  stalled.subscribe('blob', 'query($bytes: Int!) { blob(bytes: $bytes) }', { bytes: 16 * 1024 * 1024 });
  await eventually(() => endpoint.resolved.length === 1);
  endpoint.tick('after the blob'); // the next message for this socket finds more than 1 MiB waiting

  stalled.socket.resume();
  await eventually(() => stalled.closed() !== undefined || stalled.of('tick').length > 0);
  expect(stalled.closed()).toEqual({ code: 1013, reason: 'subscriber too slow; resume from your last cursor' });
  expect(stalled.of('blob').map((m) => m.type)).toEqual(['next']);
  expect(stalled.of('tick')).toEqual([]);
});
