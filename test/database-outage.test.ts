import { print } from 'graphql';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LicenseUsageDocument, LicensesDocument, RecordUsageDocument } from './generated/graphql';
import { licensed } from './support/factories';
import { canRunPostgres, type Instance, instanceEnv, PostgresCluster, sleep, startInstance, until } from './support/processes';
import { graphqlClient } from './support/server';

interface Answer {
  operation: 'recordUsage' | 'licenses';
  status: number;
  retryAfter: string | null;
  requestId: string | null;
  body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] } | null;
  at: number;
}

async function post(url: string, query: string, variables: unknown, token?: string): Promise<Omit<Answer, 'operation' | 'at'>> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      requestId: response.headers.get('x-request-id'),
      body: (await response.json()) as Answer['body'],
    };
  } catch {
    return { status: 0, retryAfter: null, requestId: null, body: null };
  }
}

describe.skipIf(!canRunPostgres)('PostgreSQL stopped, then frozen, under light load (a cluster of the test’s own)', () => {
  let cluster: PostgresCluster;
  let instance: Instance;
  let url = '';
  let databaseUrl = '';

  beforeAll(async () => {
    cluster = await PostgresCluster.create();
    const client = new Client({ connectionString: cluster.url });
    await client.connect();
    await client.query('create database license_manager');
    await client.end();
    databaseUrl = cluster.url.replace(/\/postgres$/, '/license_manager');
    // Short timeouts, so that the frozen database below is noticed within seconds.
    instance = await startInstance(
      instanceEnv(databaseUrl, undefined, { LOG_LEVEL: 'info', DATABASE_STATEMENT_TIMEOUT_MS: '1000', DATABASE_POOL_TIMEOUT_MS: '1000' }),
    );
    url = instance.url;
  }, 90_000);

  afterAll(async () => {
    await instance?.stop();
    await cluster?.destroy();
  });

  it('answers coded, retryable SERVICE_UNAVAILABLE (503), is not ready, recovers by itself and loses nothing acknowledged', async () => {
    const admin = instance.token!;
    const api = graphqlClient(url, admin);
    const { key, licenseId } = await licensed(api, 'SUBSCRIPTION', { limits: { apiCallsPerPeriod: 1_000_000 } });
    const base = url.replace(/\/graphql$/, '');

    const answers: Answer[] = [];
    const readiness: { status: number; at: number }[] = [];
    let running = true;
    const load = (async () => {
      for (let i = 0; running; i++) {
        const operation = i % 2 === 0 ? 'recordUsage' : 'licenses';
        const answer =
          operation === 'recordUsage'
            ? await post(url, print(RecordUsageDocument), { key, metric: 'API_CALLS', amount: 1 })
            : await post(url, print(LicensesDocument), { first: 5 }, admin);
        answers.push({ operation, ...answer, at: Date.now() });
        await sleep(100); // the pace of the light load
      }
    })();
    const probes = (async () => {
      while (running) {
        const response = await fetch(`${base}/readyz`).catch(() => null);
        readiness.push({ status: response?.status ?? 0, at: Date.now() });
        await sleep(250); // the pace of the probes
      }
    })();
    const isServed = (a: Answer) => a.status === 200 && !a.body?.errors;
    const bothServedSince = (since: number) =>
      (['recordUsage', 'licenses'] as const).every((operation) =>
        answers.some((a) => a.operation === operation && a.at > since && isServed(a)),
      );

    await until(() => bothServedSince(0), 20_000, 'both kinds of call served before the outage');
    const stoppedAt = Date.now();
    await cluster.stop();
    // Stopped until more than ten calls, of both kinds, were refused, and readiness said so.
    await until(
      () => {
        const refusedSince = answers.filter((a) => a.at > stoppedAt && !isServed(a));
        return (
          refusedSince.length > 10 &&
          (['recordUsage', 'licenses'] as const).every((operation) => refusedSince.some((a) => a.operation === operation)) &&
          readiness.some((p) => p.at > stoppedAt && p.status === 503)
        );
      },
      60_000,
      'refusals of both kinds and readiness 503 while PostgreSQL is stopped',
    );
    await cluster.start();
    const startedAt = Date.now();
    await until(async () => (await fetch(`${base}/readyz`)).status === 200, 30_000, 'readiness after the restart');
    const readyAfterMs = Date.now() - startedAt;
    await until(
      () => bothServedSince(startedAt) && readiness.at(-1)?.status === 200,
      30_000,
      'both kinds of call served, and the probes ready, after the restart',
    );
    running = false;
    await Promise.all([load, probes]);

    const succeeded = answers.filter((a) => a.status === 200 && !a.body?.errors);
    const refused = answers.filter((a) => a !== undefined && !succeeded.includes(a));
    const codes = new Map<string, number>();
    for (const answer of refused) {
      const code = String(answer.body?.errors?.[0]?.extensions?.code ?? `HTTP ${answer.status}`);
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    // Every call was answered: served, or refused with a coded, retryable error and no word of the driver.
    expect(refused.length).toBeGreaterThan(10);
    expect([...codes.keys()]).toEqual(['SERVICE_UNAVAILABLE']);
    for (const answer of refused) {
      expect(answer.status).toBe(503);
      expect(Number(answer.retryAfter)).toBeGreaterThan(0);
      const error = answer.body!.errors![0]!;
      expect(error.extensions?.retryAfter).toBe(Number(answer.retryAfter));
      expect(error.extensions?.requestId).toBe(answer.requestId);
      expect(error.message).not.toMatch(/ECONN|terminat|connect|postgres|pg_|relation|syntax/i);
    }
    // Both kinds of call (client and management) were refused while the database was away, and served after it.
    for (const operation of ['recordUsage', 'licenses'] as const) {
      expect(refused.some((a) => a.operation === operation)).toBe(true);
      expect(succeeded.some((a) => a.operation === operation && a.at > startedAt)).toBe(true);
    }
    // Readiness said so, and came back by itself.
    expect(readiness.some((p) => p.at > stoppedAt && p.at < startedAt && p.status === 503)).toBe(true);
    expect(readiness.at(-1)?.status).toBe(200);
    // Each refusal logged once, with its request id.
    const logged = instance
      .stdout()
      .split('\n')
      .filter((line) => line.includes('the database is unavailable'))
      .map((line) => (JSON.parse(line) as { requestId: string }).requestId);
    expect(logged.sort()).toEqual(refused.map((a) => a.requestId).sort());
    // Nothing acknowledged was lost: every call counted that was answered as counted.
    const acknowledged = succeeded.filter((a) => a.operation === 'recordUsage').length;
    const usage = (await api.ok(LicenseUsageDocument, { licenseId })).licenseUsage.find((u) => u.metric === 'API_CALLS');
    expect(usage?.value).toBeGreaterThanOrEqual(acknowledged);
    expect(usage?.value).toBeLessThanOrEqual(acknowledged + refused.filter((a) => a.operation === 'recordUsage').length);
    expect(instance.alive()).toBe(true);

    console.log(
      `Database outage: ${answers.length} calls, ${succeeded.length} served, ${refused.length} refused ` +
        `(${[...codes].map(([code, n]) => `${code} ${n}`).join(', ')}), all HTTP 503 with Retry-After; ` +
        `ready again ${readyAfterMs} ms after PostgreSQL was back; ${acknowledged} counted calls acknowledged, ${usage?.value} stored`,
    );
  }, 120_000);

  it('answers within its timeouts while PostgreSQL is frozen (no hung call), and serves again once it thaws', async () => {
    const admin = instance.token!;
    const api = graphqlClient(url, admin);
    const { key } = await licensed(api, 'SUBSCRIPTION', { limits: { apiCallsPerPeriod: 1_000_000 } });
    const answers: { status: number; ms: number; code?: unknown; caller: number; started: number }[] = [];
    let running = true;
    // Four callers, one call at a time each.
    const callers = 4;
    const load = Promise.all(
      Array.from({ length: callers }, async (_, caller) => {
        while (running) {
          const started = Date.now();
          const answer = await post(url, print(RecordUsageDocument), { key, metric: 'API_CALLS', amount: 1 });
          answers.push({
            status: answer.status,
            ms: Date.now() - started,
            code: answer.body?.errors?.[0]?.extensions?.code,
            caller,
            started,
          });
          await sleep(100); // the pace of the light load
        }
      }),
    );
    const ofEach = (test: (mine: typeof answers) => boolean) =>
      Array.from({ length: callers }, (_, caller) => answers.filter((a) => a.caller === caller)).every(test);
    await until(() => ofEach((mine) => mine.some((a) => a.status === 200)), 20_000, 'every caller served before the freeze');
    const frozenAt = Date.now();
    cluster.freeze();
    // Frozen until every caller had two calls, begun while frozen, answered: a call that hung would hold its caller.
    await until(
      () => ofEach((mine) => mine.filter((a) => a.started > frozenAt && a.status !== 200).length >= 2),
      60_000,
      'two answers to every caller while PostgreSQL is frozen',
    );
    const frozenMs = Date.now() - frozenAt;
    cluster.thaw();
    const thawedAt = Date.now();
    await until(
      () => ofEach((mine) => mine.some((a) => a.started > thawedAt && a.status === 200)),
      30_000,
      'every caller served after the thaw',
    );
    running = false;
    await load;
    const slowest = Math.max(...answers.map((a) => a.ms));
    const refused = answers.filter((a) => a.status !== 200);
    expect(refused.length).toBeGreaterThan(0);
    expect(new Set(refused.map((a) => `${a.status} ${a.code}`))).toEqual(new Set(['503 SERVICE_UNAVAILABLE']));
    // Bounded by the wait for a turn at the license (1 s), for a connection (1 s), and the statement timeout (1 s) with
    // the client's margin (2 s): 5 s and scheduling, never by how long the database is frozen (two answers a caller).
    expect(slowest).toBeLessThan(6_500);
    expect(answers.at(-1)?.status).toBe(200);
    console.log(`Database frozen ${frozenMs} ms: ${answers.length} calls, ${refused.length} answered 503, slowest answer ${slowest} ms`);
  }, 90_000);
});
