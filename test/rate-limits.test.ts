import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { DEFAULT_RATE_LIMITS } from '../src/config';
import { CheckoutSeatDocument, OrganizationsDocument, ValidateLicenseDocument } from './generated/graphql';
import { createTestDatabase, POSTGRES_URL, type TestDatabase } from './support/databases';
import { licensed } from './support/factories';
import { type Instance, instanceEnv, startInstance } from './support/processes';
import { startTestServer, type TestServer } from './support/server';

const REDIS_URL = process.env.TEST_REDIS_URL?.trim() || undefined;

interface Answer {
  status: number;
  retryAfter: string | null;
  code?: string;
  valid?: boolean;
}

async function validate(t: TestServer, key: string): Promise<Answer> {
  const response = await fetch(t.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: print(ValidateLicenseDocument), variables: { key } }),
  });
  const body = (await response.json()) as {
    data?: { validateLicense?: { valid: boolean } };
    errors?: { extensions?: { code?: string } }[];
  };
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    code: body.errors?.[0]?.extensions?.code,
    valid: body.data?.validateLicense?.valid,
  };
}

/** A well-formed key that opens nothing. */
const wrongKey = (i: number) => `AINX-${String(i).padStart(8, '0')}-AAAAAAAA-BBBBBBBB-CCCCCCCC`;

describe('rate limits (the product defaults)', () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer('sqlite', { rateLimits: { ...DEFAULT_RATE_LIMITS, tokenCallsPerMinute: 50 } });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('answers most of 2,000 wrong keys from one address RATE_LIMITED with Retry-After, also the right key until the wait is over', async () => {
    const { key } = await licensed(t, 'SUBSCRIPTION');
    // However long the 2,000 calls take, the address's wait is not over before the test moves the clock past it.
    t.clock.freeze();
    onTestFinished(() => t.clock.thaw());
    const counts = new Map<string, number>();
    const retryAfters = new Set<string | null>();
    for (let i = 0; i < 2_000; i++) {
      const answer = await validate(t, wrongKey(i));
      counts.set(answer.code ?? 'none', (counts.get(answer.code ?? 'none') ?? 0) + 1);
      if (answer.code === 'RATE_LIMITED') {
        expect(answer.status).toBe(429);
        retryAfters.add(answer.retryAfter);
      }
    }
    console.log(`2,000 wrong keys: ${[...counts].map(([code, n]) => `${code} ${n}`).join(', ')}`);
    expect(counts.get('RATE_LIMITED') ?? 0).toBeGreaterThan(1_800);
    expect([...counts.keys()].sort()).toEqual(['RATE_LIMITED', 'UNAUTHENTICATED']);
    for (const retryAfter of retryAfters) expect(Number(retryAfter)).toBeGreaterThan(0);

    // The right key is refused too while the address waits, so that guessing learns nothing.
    const refused = await validate(t, key);
    expect(refused.code).toBe('RATE_LIMITED');
    await t.clock.advance(Number(refused.retryAfter) * 1000 + 100);
    expect(await validate(t, key)).toMatchObject({ status: 200, valid: true });
  }, 60_000);

  it('never limits a load of valid keys', async () => {
    const { key } = await licensed(t, 'SUBSCRIPTION');
    const answers = await Promise.all(Array.from({ length: 1_000 }, () => validate(t, key)));
    expect(answers.filter((a) => a.valid !== true)).toEqual([]);
  });

  it('limits the client calls of a license key where its plan or the license sets a limit, and no other', async () => {
    const limited = await licensed(t, 'CONCURRENT', {}, { clientCallsPerMinute: 10, limits: { concurrentSessions: 50 } });
    const own = await licensed(t, 'SUBSCRIPTION', { organizationId: limited.organizationId, clientCallsPerMinute: 3 });
    const free = await licensed(t, 'SUBSCRIPTION', { organizationId: limited.organizationId });
    const checkout = async (i: number) => {
      const response = await fetch(t.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: print(CheckoutSeatDocument), variables: { key: limited.key, fingerprint: `machine-${i}` } }),
      });
      const body = (await response.json()) as {
        data?: { checkoutSeat?: { outcome: string } };
        errors?: { extensions?: { code?: string } }[];
      };
      return {
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        outcome: body.data?.checkoutSeat?.outcome ?? body.errors?.[0]?.extensions?.code,
      };
    };
    // At once: a checkout that waits its turn authenticates its key twice, and counts once.
    const checkouts = await Promise.all(Array.from({ length: 15 }, (_, i) => checkout(i)));
    expect(checkouts.map((a) => a.outcome).sort()).toEqual([...Array(10).fill('GRANTED'), ...Array(5).fill('RATE_LIMITED')]);
    for (const refused of checkouts.filter((a) => a.outcome === 'RATE_LIMITED')) {
      expect([refused.status, Number(refused.retryAfter) > 0]).toEqual([429, true]);
    }
    const live = await t.server.db.read((sql) =>
      sql.get<{ n: number }>('select count(*) as n from lease where license_id = ? and released_at is null', [limited.licenseId]),
    );
    expect(Number(live?.n)).toBe(10);

    const ownAnswers = [];
    for (let i = 0; i < 5; i++) ownAnswers.push((await validate(t, own.key)).code ?? 'VALID');
    expect(ownAnswers).toEqual(['VALID', 'VALID', 'VALID', 'RATE_LIMITED', 'RATE_LIMITED']);
    const freeAnswers = await Promise.all(Array.from({ length: 50 }, () => validate(t, free.key)));
    expect(freeAnswers.every((a) => a.valid)).toBe(true);
  });

  it('limits management calls per token, with Retry-After', async () => {
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 60; i++) {
      const answer = await t.request(OrganizationsDocument, {});
      codes.push(answer.errors?.[0]?.extensions?.code);
      if (answer.errors) expect(answer.status).toBe(429);
    }
    // The set-up above made some calls with the same token within the minute.
    expect(codes.filter((c) => c === 'RATE_LIMITED').length).toBeGreaterThan(0);
    expect(codes.filter((c) => c !== undefined && c !== 'RATE_LIMITED')).toEqual([]);
  });
});

describe.skipIf(!POSTGRES_URL || !REDIS_URL)('failed authentications counted across instances (TEST_DATABASE_URL, TEST_REDIS_URL)', () => {
  let database: TestDatabase;
  let instances: Instance[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('postgresql');
    if (database.config.driver !== 'postgresql') throw new Error('expected PostgreSQL');
    // A prefix of its own, so that no other run's counts meet this one's.
    const env = instanceEnv(database.config.url, REDIS_URL, { REDIS_CHANNEL_PREFIX: `rate-test-${process.pid}:` });
    instances = [await startInstance(env), await startInstance(env)];
  }, 90_000);

  afterAll(async () => {
    await Promise.all(instances.map((i) => i.stop()));
    await database?.drop();
  });

  it('refuses on both instances an address that failed on them together past the limit', async () => {
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 30; i++) {
      const instance = instances[i % 2]!;
      const response = await fetch(instance.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer alm_${String(i).padStart(43, 'x')}` },
        body: JSON.stringify({ query: '{ organizations { nodes { id } } }' }),
      });
      codes.push(((await response.json()) as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]?.extensions?.code);
    }
    // 20 failures allowed in all (10 on each instance), then each instance refuses at its next failure.
    expect(codes.slice(0, 20).every((c) => c === 'UNAUTHENTICATED')).toBe(true);
    expect(codes.slice(22)).toEqual(Array(8).fill('RATE_LIMITED'));
  });
});
