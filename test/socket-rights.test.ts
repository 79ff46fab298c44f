import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AlertRaisedDocument, CreateApiTokenDocument, RecordUsageDocument, RevokeApiTokenDocument } from './generated/graphql';
import { POSTGRES_URL } from './support/databases';
import { issueToken, licensed, organization } from './support/factories';
import { type Instance, instanceEnv, startInstance } from './support/processes';
import { describeEachDatabase, type GraphQLApi, graphqlClient, startTestServer, type TestServer } from './support/server';

const REDIS_URL = process.env.TEST_REDIS_URL?.trim() || undefined;

/** A graphql-transport-ws socket driven message by message. */
class Socket {
  readonly messages: { id?: string; type: string; payload?: unknown }[] = [];
  closed: { code: number; reason: string; at: number } | undefined;
  private readonly socket: WebSocket;
  private readonly opened: Promise<void>;

  constructor(url: string) {
    this.socket = new WebSocket(url.replace('http', 'ws'), 'graphql-transport-ws');
    this.opened = new Promise((resolve) => this.socket.once('open', () => resolve()));
    this.socket.on('message', (data) => this.messages.push(JSON.parse(String(data))));
    this.socket.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason), at: Date.now() };
    });
  }

  static async connect(url: string, authorization?: string): Promise<Socket> {
    const socket = new Socket(url);
    await socket.opened;
    socket.send({ type: 'connection_init', payload: authorization ? { authorization } : {} });
    await socket.until(() => socket.messages.some((m) => m.type === 'connection_ack') || socket.closed !== undefined);
    return socket;
  }

  send(message: unknown): void {
    this.socket.send(JSON.stringify(message));
  }

  subscribe(id: string, query: string, variables: unknown, extensions?: unknown): void {
    this.send({ id, type: 'subscribe', payload: { query, variables, ...(extensions ? { extensions } : {}) } });
  }

  of(id: string) {
    return this.messages.filter((m) => m.id === id);
  }

  async until(condition: () => boolean, ms = 5_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!condition()) {
      if (Date.now() > deadline)
        throw new Error(`timed out; messages: ${JSON.stringify(this.messages)}; closed: ${JSON.stringify(this.closed)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    this.socket.close();
  }
}

/**
 * An ORG_ADMIN token, a subscription of its organization's alerts on `on`, and a license that raises them. The
 * subscription has no cursor: it replays the organization's stored alerts first, so the alerts raised next need not
 * wait for it to be live.
 */
async function subscribedOrgAdmin(api: GraphQLApi, on: string) {
  const org = await organization(api);
  const token = await issueToken(api as TestServer, 'ORG_ADMIN', org.id);
  const { key } = await licensed(api, 'SUBSCRIPTION', { organizationId: org.id, limits: { storageBytes: 1000 } });
  const socket = await Socket.connect(on, `Bearer ${token.secret}`);
  socket.subscribe('alerts', print(AlertRaisedDocument), { filter: { organizationId: org.id } });
  return { org, token, key, socket };
}

const record = (url: string, key: string, value: number) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: print(RecordUsageDocument), variables: { key, metric: 'STORAGE_BYTES', value } }),
  });

describeEachDatabase('rights on an open socket', (server) => {
  it('closes with 4403 the socket of a token revoked while it is open, ending its subscriptions, within a second', async () => {
    const t = server();
    const { token, key, socket } = await subscribedOrgAdmin(t, t.url);
    await record(t.url, key, 850);
    await socket.until(() => socket.of('alerts').length === 1);
    const revokedAt = Date.now();
    await t.ok(RevokeApiTokenDocument, { id: token.id });
    await socket.until(() => socket.closed !== undefined, 1_000);
    expect(socket.closed).toMatchObject({ code: 4403, reason: 'token revoked' });
    expect(socket.closed!.at - revokedAt).toBeLessThan(1_000);
    // Nothing more reaches it (closed, it can receive nothing), and the token opens no new socket.
    await record(t.url, key, 950);
    expect(socket.of('alerts')).toHaveLength(1);
    const again = await Socket.connect(t.url, `Bearer ${token.secret}`);
    expect(again.closed?.code).toBe(4403);
  });

  it('refuses the next operation on a socket whose token was revoked behind its back, and closes it', async () => {
    const t = server();
    const org = await organization(t);
    const token = await issueToken(t, 'ORG_ADMIN', org.id);
    const socket = await Socket.connect(t.url, `Bearer ${token.secret}`);
    // Revoked in the database directly: no notice reaches this instance, as when one is lost.
    await t.server.db.write((sql) => sql.run('update api_token set revoked_at = ? where id = ?', [new Date(), token.id]));
    socket.subscribe('mint', print(CreateApiTokenDocument), { input: { name: 'minted', role: 'ORG_ADMIN', organizationId: org.id } });
    await socket.until(() => socket.closed !== undefined);
    expect(socket.of('mint').filter((m) => m.type === 'next')).toEqual([]);
    expect(socket.closed?.code).toBe(4403);
    const minted = await t.server.db.read((sql) => sql.all('select id from api_token where name = ?', ['minted']));
    expect(minted).toEqual([]);
  });

  it('runs an operation with the token of its own extensions.headers (as GraphiQL sends it) on an anonymous socket', async () => {
    const t = server();
    const { key, licenseId } = await licensed(t, 'SUBSCRIPTION', { limits: { storageBytes: 1000 } });
    const socket = await Socket.connect(t.url);
    socket.subscribe('bare', print(AlertRaisedDocument), { filter: { licenseId } });
    socket.subscribe('headed', print(AlertRaisedDocument), { filter: { licenseId } }, { headers: { Authorization: `Bearer ${t.admin}` } });
    socket.subscribe(
      'wrong',
      print(AlertRaisedDocument),
      { filter: { licenseId } },
      { headers: { Authorization: `Bearer alm_${'x'.repeat(43)}` } },
    );
    // The two without a valid token are refused; the third gets the alert raised next, live or replayed.
    await socket.until(() => socket.of('bare').length === 2 && socket.of('wrong').length === 1);
    await record(t.url, key, 850);
    await socket.until(() => socket.of('headed').length === 1);
    expect(socket.of('headed')[0]).toMatchObject({ type: 'next', payload: { data: { alertRaised: { licenseId, threshold: 80 } } } });
    // Without a token anywhere, the subscription is refused as over HTTP.
    expect(socket.of('bare')).toMatchObject([
      { type: 'next', payload: { errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] } },
      { type: 'complete' },
    ]);
    expect(socket.of('wrong')).toMatchObject([{ type: 'error', payload: [{ extensions: { code: 'UNAUTHENTICATED' } }] }]);
    expect(socket.closed).toBeUndefined();
    socket.close();
  });
});

describe.skipIf(!POSTGRES_URL)('rights on a socket of another instance (TEST_DATABASE_URL, TEST_REDIS_URL for the bus)', () => {
  let first: TestServer;
  let others: Instance[] = [];

  beforeAll(async () => {
    first = await startTestServer('postgresql', REDIS_URL ? { redisUrl: REDIS_URL } : {});
    if (first.database.config.driver !== 'postgresql') throw new Error('expected PostgreSQL');
    const url = first.database.config.url;
    others = await Promise.all([
      // One hears of revocations through Redis, the other (no Redis) finds them by looking at its sockets' tokens.
      ...(REDIS_URL ? [startInstance(instanceEnv(url, REDIS_URL))] : []),
      startInstance(instanceEnv(url)),
    ]);
  }, 90_000);

  afterAll(async () => {
    await Promise.all(others.map((other) => other.stop()));
    await first?.close();
  });

  it('closes with 4403, within a second, the socket of a token revoked on another instance', async () => {
    const figures: string[] = [];
    for (const other of others) {
      const api = graphqlClient(first.url, first.admin);
      const { token, socket } = await subscribedOrgAdmin(api, other.url);
      const revokedAt = Date.now();
      await first.ok(RevokeApiTokenDocument, { id: token.id });
      await socket.until(() => socket.closed !== undefined, 1_000);
      expect(socket.closed?.code).toBe(4403);
      const ms = socket.closed!.at - revokedAt;
      expect(ms).toBeLessThan(1_000);
      figures.push(`${others.indexOf(other) === 0 && REDIS_URL ? 'through Redis' : 'by looking'}: closed ${ms} ms after the revocation`);
    }
    console.log(`Revoked on another instance: ${figures.join('; ')}`);
  });
});
