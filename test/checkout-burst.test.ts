import { print } from 'graphql';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckoutSeatDocument, ValidateLicenseDocument } from './generated/graphql';
import { createTestDatabase, POSTGRES_URL, type TestDatabase } from './support/databases';
import { licensed } from './support/factories';
import { type Instance, instanceEnv, startInstance } from './support/processes';
import { graphqlClient } from './support/server';

const BURST = 1_000;
const SESSIONS = 50;

describe.skipIf(!POSTGRES_URL)('a burst of checkouts on one license across two instances (TEST_DATABASE_URL)', () => {
  let database: TestDatabase;
  let instances: Instance[] = [];
  let databaseUrl = '';

  beforeAll(async () => {
    database = await createTestDatabase('postgresql');
    if (database.config.driver !== 'postgresql') throw new Error('expected PostgreSQL');
    databaseUrl = database.config.url;
    const first = await startInstance(instanceEnv(databaseUrl, undefined, { LOG_LEVEL: 'info' }));
    instances = [first, await startInstance(instanceEnv(databaseUrl, undefined, { LOG_LEVEL: 'info' }))];
  }, 90_000);

  afterAll(async () => {
    await Promise.all(instances.map((i) => i.stop()));
    await database?.drop();
  });

  it(`answers ${BURST} concurrent checkouts of a ${SESSIONS}-session license: exactly ${SESSIONS} granted, every other one refused or retryable, none an internal error`, async () => {
    const [first, second] = instances as [Instance, Instance];
    const api = graphqlClient(first.url, first.token!);
    const { key, licenseId } = await licensed(api, 'CONCURRENT', {}, { limits: { concurrentSessions: SESSIONS } });
    const other = await licensed(api, 'SUBSCRIPTION');

    // Meanwhile, another license is validated on each instance: the burst must not hold up every other call.
    let bursting = true;
    const asides: number[] = [];
    const aside = (async () => {
      for (let i = 0; bursting; i++) {
        const sent = Date.now();
        const answer = await fetch((i % 2 === 0 ? first : second).url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: print(ValidateLicenseDocument), variables: { key: other.key } }),
        });
        expect(((await answer.json()) as { data: { validateLicense: { valid: boolean } } }).data.validateLicense.valid).toBe(true);
        asides.push(Date.now() - sent);
      }
    })();
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: BURST }, async (_, i) => {
        const url = (i % 2 === 0 ? first : second).url;
        const sent = Date.now();
        try {
          const response = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query: print(CheckoutSeatDocument), variables: { key, fingerprint: `machine-${i}` } }),
          });
          const body = (await response.json()) as {
            data?: { checkoutSeat?: { outcome: string } } | null;
            errors?: { extensions?: { code?: string; retryAfter?: number } }[];
          };
          const outcome = body.data?.checkoutSeat?.outcome ?? body.errors?.[0]?.extensions?.code ?? `HTTP ${response.status}`;
          return { outcome, status: response.status, retryAfter: response.headers.get('retry-after'), ms: Date.now() - sent };
        } catch (error) {
          return { outcome: `no answer: ${(error as Error).message}`, status: 0, retryAfter: null, ms: Date.now() - sent };
        }
      }),
    );
    const wallMs = Date.now() - started;
    bursting = false;
    await aside;

    const byOutcome = new Map<string, number>();
    for (const answer of answers) byOutcome.set(answer.outcome, (byOutcome.get(answer.outcome) ?? 0) + 1);
    const slowest = Math.max(...answers.map((a) => a.ms));
    console.log(
      `Checkout burst: ${BURST} over 2 instances in ${wallMs} ms: ${[...byOutcome].map(([o, n]) => `${o} ${n}`).join(', ')}; slowest answer ${slowest} ms; ` +
        `${asides.length} validations of another license meanwhile, slowest ${Math.max(...asides)} ms`,
    );

    expect(byOutcome.get('GRANTED')).toBe(SESSIONS);
    expect([...byOutcome.keys()].filter((o) => o !== 'GRANTED' && o !== 'NO_SEAT_AVAILABLE' && o !== 'SERVICE_UNAVAILABLE')).toEqual([]);
    for (const answer of answers.filter((a) => a.outcome === 'SERVICE_UNAVAILABLE')) {
      expect(answer.status).toBe(503);
      expect(Number(answer.retryAfter)).toBeGreaterThan(0);
    }
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const live = await client.query('select count(*)::int as n from lease where license_id = $1 and released_at is null', [licenseId]);
      expect(live.rows[0].n).toBe(SESSIONS);
    } finally {
      await client.end();
    }
    for (const instance of instances) expect(instance.alive()).toBe(true);
  }, 120_000);
});
