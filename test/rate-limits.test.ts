import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMITS } from '../src/config';
import { OrganizationsDocument, ValidateLicenseDocument } from './generated/graphql';
import { licensed } from './support/factories';
import { startTestServer, type TestServer } from './support/server';

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
    await new Promise((r) => setTimeout(r, Number(refused.retryAfter) * 1000 + 100));
    expect(await validate(t, key)).toMatchObject({ status: 200, valid: true });
  }, 60_000);

  it('never limits a load of valid keys', async () => {
    const { key } = await licensed(t, 'SUBSCRIPTION');
    const answers = await Promise.all(Array.from({ length: 1_000 }, () => validate(t, key)));
    expect(answers.filter((a) => a.valid !== true)).toEqual([]);
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
