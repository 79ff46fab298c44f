import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretDigester } from '../../src/auth/secrets';

describe('the secret digester', () => {
  it('gives a value the same digest whether it remembers it or not, and remembers at most 10,000', () => {
    const secret = randomBytes(32);
    const digester = new SecretDigester(secret);
    const values = Array.from({ length: 10_050 }, (_, i) => `AINX-value-${i}`);
    const first = values.map((v) => digester.digest(v));
    // Asked again: the oldest were forgotten and made anew, the newest remembered; all alike, as a fresh digester's.
    expect(values.map((v) => digester.digest(v))).toEqual(first);
    const fresh = new SecretDigester(secret);
    expect(values.map((v) => fresh.digest(v))).toEqual(first);
    expect(new Set(first).size).toBe(values.length);
    expect((digester as unknown as { remembered: Map<string, string> }).remembered.size).toBe(10_000);
    // Another secret, other digests.
    expect(new SecretDigester(randomBytes(32)).digest(values[0]!)).not.toBe(first[0]);
  });
});
