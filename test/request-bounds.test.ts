import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DEFAULT_REQUEST_LIMITS, RequestBounds, type RequestLimits } from '../src/server/request-bounds';
import { issueToken, licensed } from './support/factories';
import { startTestServer, type TestServer } from './support/server';

const limits = DEFAULT_REQUEST_LIMITS;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

interface Answer {
  status: number;
  errors?: { message: string; extensions?: { code?: string; limit?: string; maximum?: number } }[];
  data?: unknown;
}

describe('requests bounded before they run', () => {
  let t: TestServer;
  let bounds: RequestBounds;
  let integrator = '';
  const post = async (query: string, token: string | null = null): Promise<Answer> => {
    const response = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query }),
    });
    return { status: response.status, ...((await response.json()) as object) };
  };
  const get = async (query: string): Promise<Answer> => {
    const response = await fetch(`${t.url}?query=${encodeURIComponent(query)}`, {
      headers: { accept: 'application/json', 'apollo-require-preflight': 'true', authorization: `Bearer ${t.admin}` },
    });
    return { status: response.status, ...((await response.json()) as object) };
  };
  const overSocket = (query: string): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const socket = new WebSocket(t.url.replace('http', 'ws'), 'graphql-transport-ws');
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${t.admin}` } })));
      socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as { type: string; payload?: unknown };
        if (message.type === 'connection_ack') socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
        if (message.type === 'next') {
          socket.close();
          resolve({ status: 0, ...(message.payload as object) });
        }
        if (message.type === 'error') {
          socket.close();
          resolve({ status: 0, errors: message.payload as Answer['errors'] });
        }
      });
      socket.on('error', reject);
    });

  beforeAll(async () => {
    t = await startTestServer('sqlite');
    bounds = new RequestBounds(t.server.schema);
    const { organizationId } = await licensed(t, 'SUBSCRIPTION');
    integrator = (await issueToken(t, 'INTEGRATOR', organizationId)).secret;
  });

  afterAll(async () => {
    await t?.close();
  });

  /** A document at exactly `n` of each measure, asking nothing else of note. */
  const at: Record<keyof RequestLimits, (n: number) => string> = {
    // A list of n - 19 kinds: `{ violations ( filter : { kinds : [ … ] } ) { nodes { id } } }` is 19 tokens more.
    tokens: (n) => `{ violations(filter: { kinds: [${' SEAT_OVERAGE'.repeat(n - 19)} ] }) { nodes { id } } }`,
    depth: (n) => `{ __type(name: "License") { ${'ofType { '.repeat(n - 2)}name${' }'.repeat(n - 2)} } }`,
    aliases: (n) =>
      `{ ${range(n)
        .map((i) => `a${i}: __typename`)
        .join(' ')} }`,
    directives: (n) =>
      `{ ${range(n)
        .map(() => '__typename @include(if: true)')
        .join(' ')} }`,
    cost: (n) => costing(n),
  };

  /** Pages of licenses with their features, then one smaller page, then `__typename`s: costing exactly `n`. */
  function costing(n: number): string {
    const page = (first: number, i: number) => `p${i}: licenses(first: ${first}) { nodes { features { key name } } }`;
    const cost = (query: string) => bounds.costOf(parse(query));
    const parts: string[] = [];
    const total = () => cost(`{ ${parts.join(' ') || '__typename'} }`) - (parts.length ? 0 : 1);
    while (n - total() >= cost(`{ ${page(200, 0)} }`)) parts.push(page(200, parts.length));
    let first = 200;
    while (first > 0 && cost(`{ ${[...parts, page(first, parts.length)].join(' ')} }`) > n) first -= 1;
    if (first > 0) parts.push(page(first, parts.length));
    while (total() < n) parts.push('__typename');
    const query = `{ ${parts.join(' ')} }`;
    expect(cost(query)).toBe(n);
    return query;
  }

  it('refuses, on every lane, a request one past each limit with QUERY_TOO_COMPLEX naming it, and lets one at the limit through', async () => {
    const measured = (limit: keyof RequestLimits, query: string) => {
      const document = parse(query, { maxTokens: 100_000 });
      if (limit === 'cost') return bounds.costOf(document);
      if (limit === 'tokens') return [...query.matchAll(/[{}()[\]:]|\w+/g)].length;
      return undefined;
    };
    const rows: string[] = [];
    for (const limit of Object.keys(at) as (keyof RequestLimits)[]) {
      const value = limits[limit];
      expect(measured(limit, at[limit](value)) ?? value).toBe(value);
      const lanes: [string, (query: string) => Promise<Answer>][] = [
        ['POST', (q) => post(q, t.admin)],
        ['GET', get],
        ['WebSocket', overSocket],
      ];
      for (const [lane, send] of lanes) {
        // A 2,000-token document does not fit in a URL: Node refuses request heads over 16 KiB (HTTP 431).
        if (limit === 'tokens' && lane === 'GET') continue;
        const passing = await send(at[limit](value));
        const refused = await send(at[limit](value + 1));
        expect(passing.errors ?? [], `${limit} at ${value} over ${lane}`).toEqual([]);
        expect(refused.errors?.[0]?.extensions, `${limit} at ${value + 1} over ${lane}`).toMatchObject({
          code: 'QUERY_TOO_COMPLEX',
          limit,
          maximum: value,
        });
        if (lane !== 'WebSocket') expect(refused.status).toBe(400);
        rows.push(`${limit} ${value} over ${lane}: passes; ${value + 1}: QUERY_TOO_COMPLEX`);
      }
    }
    expect(rows).toHaveLength(5 * 3 - 1);
  });

  it('finds the NUL character anywhere in the variables: a value, a key, an element, deep down', () => {
    const nul = '\u0000';
    const refused = (variables: unknown) => bounds.checkText(null, variables)?.extensions?.code;
    for (const variables of [
      { key: `a${nul}` },
      { filter: { kinds: ['SEAT_OVERAGE', `x${nul}`] } },
      { [`k${nul}`]: 1 },
      { a: [{ b: [{ c: nul }] }] },
      JSON.parse(`{"__proto__": {"x": "${'\\u0000'}"}}`),
    ]) {
      expect(refused(variables), JSON.stringify(variables)).toBe('BAD_USER_INPUT');
    }
    for (const variables of [undefined, null, {}, { key: 'AINX', n: 3, on: true, none: null, list: [1, 'two', { three: [] }] }]) {
      expect(refused(variables)).toBeUndefined();
    }
  });

  it('costs a document by the variables it comes with each time, however often it came with others', () => {
    const document = parse('query Pages($n: Int) { licenses(first: $n) { nodes { features { key name } } } }');
    const small = new RequestBounds(t.server.schema, { ...DEFAULT_REQUEST_LIMITS, cost: 1_000 });
    const costOf = (n: number | string) => small.costOf(document, { n }, 'Pages');
    expect(costOf(10)).toBeLessThan(1_000);
    expect(costOf(200)).toBeGreaterThan(1_000);
    for (let round = 0; round < 3; round++) {
      expect(small.checkCost(document, { n: 10 }, 'Pages')).toBeUndefined();
      expect(small.checkCost(document, { n: 200 }, 'Pages')?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'cost' });
      // Variables that do not fit: left to execution, which refuses them.
      expect(small.checkCost(document, { n: 'many' }, 'Pages')).toBeUndefined();
    }
    // More sets of variables than a document keeps: each still costed as itself.
    for (let n = 1; n <= 250; n++) expect(small.checkCost(document, { n }, 'Pages') === undefined).toBe(costOf(n) <= 1_000);
  });

  it('lets the playground’s full introspection through, anonymously', async () => {
    const { getIntrospectionQuery } = await import('graphql');
    const answer = await post(getIntrospectionQuery({ descriptions: true, directiveIsRepeatable: true, schemaDescription: true }));
    expect(answer.errors).toBeUndefined();
    expect(answer.status).toBe(200);
  });

  it('refuses the heavy requests at once, and a trivial query sent meanwhile is served', async () => {
    const bomb = `{ ${range(1_000)
      .map((i) => `s${i}: __schema { types { name fields { name args { name } } } }`)
      .join(' ')} }`;
    const licensesPage = (i: number) =>
      `l${i}: licenses(first: 200) { nodes { id features { key name tier } plan { id name product { id name features { key } } } migrations { id } } }`;
    const heavy: [string, string, string | null][] = [
      ['anonymous introspection, 1,000 aliases', bomb, null],
      ['INTEGRATOR, 100 aliases of 200-license pages', `{ ${range(100).map(licensesPage).join(' ')} }`, integrator],
      ['INTEGRATOR, 25 aliases of 200-license pages', `{ ${range(25).map(licensesPage).join(' ')} }`, integrator],
      ['INTEGRATOR, one 200-license page with its nested lists', `{ ${licensesPage(0)} }`, integrator],
    ];
    const figures: string[] = [];
    for (const [what, query, token] of heavy) {
      const trivial = (async () => {
        const started = Date.now();
        const answer = await post('{ __typename }');
        return { ms: Date.now() - started, answer };
      })();
      const started = Date.now();
      const answer = await post(query, token);
      const ms = Date.now() - started;
      const side = await trivial;
      expect(side.answer.data).toEqual({ __typename: 'Query' });
      if (what.startsWith('INTEGRATOR, one')) {
        expect(answer.errors).toBeUndefined(); // a single page is what clients ask every day
      } else {
        expect(answer.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
      }
      figures.push(
        `${what}: ${answer.errors?.[0]?.extensions?.code ?? 'served'}${answer.errors ? ` (${answer.errors[0]?.extensions?.limit})` : ''} in ${ms} ms, a trivial query meanwhile ${side.ms} ms`,
      );
    }
    console.log(`Heavy requests:\n${figures.join('\n')}`);
  });
});
