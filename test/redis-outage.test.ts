import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  AlertRaisedDocument,
  type AlertRaisedSubscription,
  AlertsDocument,
  type AlertsQuery,
  LicenseUsageChangedDocument,
  type LicenseUsageChangedSubscription,
  RecordUsageDocument,
} from './generated/graphql';
import { createTestDatabase, POSTGRES_URL, type TestDatabase } from './support/databases';
import { alertingLicense, organization } from './support/factories';
import { canRunRedis, delayingProxy, type Instance, instanceEnv, RedisServer, sleep, startInstance, until } from './support/processes';
import { type GraphQLApi, graphqlClient } from './support/server';

type Alert = AlertRaisedSubscription['alertRaised'];

/** A graphql-ws subscriber that never reconnects by itself, counting its connections. */
function subscriber<T>(url: string, token: string, query: string, variables: Record<string, unknown>) {
  const client = createClient({
    url: url.replace('http', 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: false,
  });
  const state = { received: [] as T[], connections: 0, errors: [] as unknown[], completed: false };
  client.on('connected', () => {
    state.connections += 1;
  });
  client.subscribe<Record<string, T>>(
    { query, variables },
    {
      next: (r) => {
        if (r.data) state.received.push(Object.values(r.data)[0] as T);
        if (r.errors) state.errors.push(r.errors);
      },
      error: (error) => state.errors.push(error),
      complete: () => {
        state.completed = true;
      },
    },
  );
  return { ...state, state, dispose: () => client.dispose() };
}

/** Every alert of an organization, as stored, oldest first. */
async function storedAlerts(api: GraphQLApi, organizationId: string): Promise<{ id: string }[]> {
  const all: { id: string }[] = [];
  let after: string | null = null;
  for (;;) {
    const { alerts: page }: AlertsQuery = await api.ok(AlertsDocument, { filter: { organizationId }, first: 200, after });
    all.push(...page.nodes);
    if (!page.pageInfo.hasNextPage) return all;
    after = page.pageInfo.endCursor ?? null;
  }
}

async function recordStorage(url: string, key: string, value: number): Promise<{ ok: boolean; code?: string }> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: print(RecordUsageDocument), variables: { key, metric: 'STORAGE_BYTES', value } }),
    });
    const body = (await response.json()) as { data?: { recordUsage?: unknown }; errors?: { extensions?: { code?: string } }[] };
    if (body.errors?.length) return { ok: false, code: body.errors[0]?.extensions?.code ?? 'NO_CODE' };
    return { ok: Boolean(body.data?.recordUsage) };
  } catch {
    return { ok: false, code: 'NO_ANSWER' };
  }
}

const logLines = (instance: Instance) =>
  instance
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe.skipIf(!POSTGRES_URL || !canRunRedis)(
  'Redis away for 5 s under two instances on PostgreSQL (TEST_DATABASE_URL, redis-server)',
  () => {
    let redis: RedisServer;
    let database: TestDatabase;
    let first: Instance;
    let second: Instance;
    let admin: string;

    beforeAll(async () => {
      redis = await RedisServer.start();
      database = await createTestDatabase('postgresql');
      if (database.config.driver !== 'postgresql') throw new Error('expected PostgreSQL');
      const env = instanceEnv(database.config.url, redis.url, { LOG_LEVEL: 'info' });
      first = await startInstance(env);
      admin = first.token ?? '';
      second = await startInstance(env);
    });

    afterAll(async () => {
      await Promise.all([first?.stop(), second?.stop()]);
      await database?.drop();
      await redis?.stop();
    });

    it('stays up, answers every write, and delivers to live subscribers every alert stored meanwhile, once, in stored order', async () => {
      const apiFirst = graphqlClient(first.url, admin);
      const org = await organization(apiFirst);
      const licenses = [];
      for (let i = 0; i < 6; i++) licenses.push(await alertingLicense(apiFirst, { organizationId: org.id }));

      const alerts = subscriber<Alert>(first.url, admin, print(AlertRaisedDocument), { filter: { organizationId: org.id } });
      const usage = subscriber<LicenseUsageChangedSubscription['licenseUsageChanged']>(
        first.url,
        admin,
        print(LicenseUsageChangedDocument),
        {
          licenseId: licenses[0]!.licenseId,
        },
      );
      await until(() => usage.received.length >= 4, 10_000, 'the usage snapshot');

      // Writes go to the second instance, one after the other, for 9 s; Redis is away from the 2nd to the 7th second.
      const answers: { ok: boolean; code?: string }[] = [];
      const lastValue = new Map<string, number>();
      let stopWriting = false;
      const writer = (async () => {
        for (let i = 0; !stopWriting; i++) {
          const license = licenses[i % licenses.length]!;
          const value = Math.floor(i / licenses.length) % 2 === 0 ? 950 : 100;
          const answer = await recordStorage(second.url, license.key, value);
          answers.push(answer);
          if (answer.ok) lastValue.set(license.licenseId, value);
          await sleep(10); // the pace of the writer
        }
      })();
      const redisStates = (instance: Instance) => logLines(instance).filter((line) => line.redis).length;
      const storedMoreThan = async (count: number) => (await storedAlerts(apiFirst, org.id)).length > count;
      // Alerts raised on the second instance reach the first one's subscriber through Redis.
      await until(() => alerts.received.length >= 6, 20_000, 'alerts delivered through Redis');
      await redis.stop();
      const storedBeforeOutage = (await storedAlerts(apiFirst, org.id)).length;
      await until(() => redisStates(first) === 2 && redisStates(second) === 2, 20_000, 'both instances to notice Redis is away');
      await until(() => storedMoreThan(storedBeforeOutage + 5), 20_000, 'alerts stored while Redis is away');
      // A subscription opened while Redis is away, replaying from the start.
      const during = subscriber<Alert>(first.url, admin, print(AlertRaisedDocument), { filter: { organizationId: org.id } });
      const storedAtSubscription = (await storedAlerts(apiFirst, org.id)).length;
      await until(() => storedMoreThan(storedAtSubscription + 5), 20_000, 'alerts stored while the new subscription is open');
      const storedDuringOutage = (await storedAlerts(apiFirst, org.id)).length - storedBeforeOutage;
      await redis.start();
      const back = Date.now();
      const storedAtReturn = (await storedAlerts(apiFirst, org.id)).length;
      await until(() => alerts.received.length >= storedAtReturn, 10_000, 'the alerts stored while Redis was away');
      const caughtUpMs = Date.now() - back;
      await until(() => redisStates(first) === 3 && redisStates(second) === 3, 20_000, 'both instances to reconnect to Redis');
      await until(() => storedMoreThan(storedAtReturn + 5), 20_000, 'alerts stored after Redis is back');
      stopWriting = true;
      await writer;

      const stored = await storedAlerts(apiFirst, org.id);
      await until(() => alerts.received.length >= stored.length && during.received.length >= stored.length, 10_000, 'every alert');
      await sleep(500); // nothing more, nothing twice

      const ids = stored.map((a) => a.id);
      expect(alerts.received.map((a) => a.id)).toEqual(ids);
      expect(during.received.map((a) => a.id)).toEqual(ids);
      expect(alerts.state.connections).toBe(1);
      expect(during.state.connections).toBe(1);
      expect(alerts.state.errors).toEqual([]);
      expect(during.state.errors).toEqual([]);

      const failed = answers.filter((a) => !a.ok);
      expect(failed).toEqual([]);
      expect(first.alive() && second.alive()).toBe(true);
      for (const instance of [first, second]) {
        expect(instance.stderr()).toBe('');
        expect(instance.stdout()).not.toContain('[ioredis]');
        const states = logLines(instance)
          .filter((line) => line.redis)
          .map((line) => line.redis);
        // One line per change of state, not one per attempt to reconnect.
        expect(states).toEqual(['connected', 'disconnected', 'connected']);
      }
      // Usage changes are not stored: the subscriber is sent the license's usage as it is once Redis is back, and each
      // change after (the last write's may still be on its way through Redis).
      const written = lastValue.get(licenses[0]!.licenseId);
      const lastStorage = () => usage.state.received.filter((c) => c.usage.metric === 'STORAGE_BYTES').at(-1)?.usage.value;
      await until(() => lastStorage() === written, 10_000, "the license's last storage");
      expect(lastStorage()).toBe(written);
      expect(usage.state.connections).toBe(1);

      console.log(
        `Redis outage: ${answers.length} writes answered (${failed.length} failed), ${ids.length} alerts stored ` +
          `(${storedDuringOutage} while Redis was away), delivered ${alerts.received.length} live and ${during.received.length} ` +
          `to the subscription opened during the outage; every alert stored until Redis was back delivered ${caughtUpMs} ms after it`,
      );
      await Promise.all([alerts.dispose(), during.dispose(), usage.dispose()]);
    }, 90_000);
  },
);

describe.skipIf(!POSTGRES_URL || !canRunRedis)('alerts published out of commit order (TEST_DATABASE_URL, redis-server)', () => {
  let redis: RedisServer;
  let proxy: Awaited<ReturnType<typeof delayingProxy>>;
  let database: TestDatabase;
  let late: Instance;
  let prompt: Instance;
  let third: Instance;
  let admin: string;

  beforeAll(async () => {
    redis = await RedisServer.start();
    // Everything the first instance sends Redis arrives 300 ms late: its publishes overtake nobody, and are overtaken.
    proxy = await delayingProxy(redis.port, 300);
    database = await createTestDatabase('postgresql');
    if (database.config.driver !== 'postgresql') throw new Error('expected PostgreSQL');
    late = await startInstance(instanceEnv(database.config.url, `redis://127.0.0.1:${proxy.port}`));
    admin = late.token ?? '';
    [prompt, third] = await Promise.all([
      startInstance(instanceEnv(database.config.url, redis.url)),
      startInstance(instanceEnv(database.config.url, redis.url)),
    ]);
  });

  afterAll(async () => {
    await Promise.all([late?.stop(), prompt?.stop(), third?.stop()]);
    await proxy?.close();
    await database?.drop();
    await redis?.stop();
  });

  it('delivers to a subscriber on a third instance every alert raised on two others at once, in stored order', async () => {
    const api = graphqlClient(third.url, admin);
    const org = await organization(api);
    const a = await alertingLicense(api, { organizationId: org.id });
    const b = await alertingLicense(api, { organizationId: org.id });

    // What Redis itself carries, in the order it carries it.
    const watcher = new Redis(redis.url);
    const carried: { id: string; previousId: string | null }[] = [];
    await watcher.subscribe('license-manager:alert.raised');
    watcher.on('message', (_channel, text: string) => {
      const { message } = JSON.parse(text) as { message: { entry: { id: string }; previousId: string | null } };
      carried.push({ id: message.entry.id, previousId: message.previousId });
    });
    // Without a cursor, the subscription replays the organization's stored alerts from the start: none is missed.
    const live = subscriber<Alert>(third.url, admin, print(AlertRaisedDocument), { filter: { organizationId: org.id } });

    // Each round: the late instance raises two alerts, and once they are committed the prompt one raises two more.
    const rounds = 12;
    for (let round = 0; round < rounds; round++) {
      const value = round % 2 === 0 ? 950 : 100;
      const first = await recordStorage(late.url, a.key, value);
      const second = await recordStorage(prompt.url, b.key, value);
      expect(first).toEqual({ ok: true });
      expect(second).toEqual({ ok: true });
    }
    const stored = await storedAlerts(api, org.id);
    expect(stored).toHaveLength(rounds * 2);
    await until(() => live.received.length >= stored.length && carried.length >= stored.length, 4_000, 'every alert');
    await sleep(500); // nothing more, nothing twice

    // Redis carried them out of commit order: some notice came before the one stored just before it.
    const outOfOrder = carried.filter((notice, i) => i > 0 && notice.previousId !== carried[i - 1]!.id && notice.previousId !== null);
    expect(outOfOrder.length).toBeGreaterThan(0);
    expect(live.received.map((alert) => alert.id)).toEqual(stored.map((alert) => alert.id));
    expect(live.state.errors).toEqual([]);
    console.log(
      `Out of order: Redis carried ${carried.length} notices, ${outOfOrder.length} ahead of the alert before them; ` +
        `the subscriber received ${live.received.length} of ${stored.length}, in stored order`,
    );
    await live.dispose();
    watcher.disconnect();
  }, 60_000);
});
