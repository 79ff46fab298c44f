import { createCipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import {
  CheckinSeatDocument,
  CheckoutSeatDocument,
  IssueLicenseCertificateDocument,
  OrganizationsDocument,
  ValidateLicenseDocument,
} from './generated/graphql';
import { SecretBox } from '../src/auth/secrets';
import { DATABASE_KINDS } from './support/databases';
import { issueToken, licensed } from './support/factories';
import { startTestServer, type TestServer } from './support/server';

const A = Buffer.from('the-secret-before-the-rotation-of-at-least-32-characters');
const B = Buffer.from('the-secret-after-the-rotation-of-at-least-32-characters!');
const mac = (secret: Buffer, value: string) => createHmac('sha256', secret).update(value).digest();
/** The id a secret goes by in what was made under it: eight hex characters of an HMAC of the secret. */
const idOf = (secret: Buffer) => mac(secret, 'ainexlayer/secret-id').toString('hex').slice(0, 8);
/** A digest as stored now: the id of its secret, and the HMAC. */
const marked = (secret: Buffer, value: string) => `${idOf(secret)}.${mac(secret, value).toString('base64url')}`;
/** A digest as stored before digests carried their secret's id. */
const unmarked = (secret: Buffer, value: string) => mac(secret, value).toString('hex');
/** A private key sealed as before seals carried their secret's id: `v1.<nonce>.<ciphertext>.<tag>`. */
function sealedV1(secret: Buffer, plain: Buffer): string {
  const key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'ainexlayer/signing-keys', 32));
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return ['v1', nonce, body, cipher.getAuthTag()].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
}

const digestOfLicense = (t: TestServer, id: string) =>
  t.server.db
    .read((sql) => sql.get<{ key_digest: string }>('select key_digest from license where id = ?', [id]))
    .then((r) => r!.key_digest);
const digestOfToken = (t: TestServer, id: string) =>
  t.server.db
    .read((sql) => sql.get<{ token_digest: string }>('select token_digest from api_token where id = ?', [id]))
    .then((r) => r!.token_digest);
const sealedKeys = (t: TestServer) =>
  t.server.db
    .read((sql) => sql.all<{ sealed_private_key: string }>('select sealed_private_key from signing_key'))
    .then((rows) => rows.map((r) => r.sealed_private_key));

describe.each(DATABASE_KINDS)('SECRET_KEY rotation [%s]', (kind) => {
  it('keeps every key, token and signing key working, stores each anew under the new secret on first use', async () => {
    const first = await startTestServer(kind, { secretKey: A });
    let second: TestServer | undefined;
    let third: TestServer | undefined;
    try {
      const used = await licensed(first, 'SUBSCRIPTION');
      const unused = await licensed(first, 'SUBSCRIPTION', { organizationId: used.organizationId });
      const token = await issueToken(first, 'ORG_ADMIN', used.organizationId);
      const idle = await issueToken(first, 'ORG_ADMIN', used.organizationId);
      await first.ok(IssueLicenseCertificateDocument, { key: used.key }, null);
      const sealedUnderA = await sealedKeys(first);
      // Each carries the id of the secret that made it.
      expect(await digestOfLicense(first, used.licenseId)).toBe(marked(A, used.key));
      expect(await digestOfToken(first, token.id)).toBe(marked(A, token.secret));
      expect(sealedUnderA.every((sealed) => sealed.startsWith(`v2.${idOf(A)}.`))).toBe(true);
      await first.server.close();

      // SECRET_KEY is B now, and A is given as the previous one: nothing breaks.
      second = await startTestServer(kind, { secretKey: B, secretKeyPrevious: A }, first);
      expect((await second.ok(ValidateLicenseDocument, { key: used.key }, null)).validateLicense.valid).toBe(true);
      expect((await second.ok(OrganizationsDocument, {}, token.secret)).organizations.nodes.map((o) => o.id)).toEqual([
        used.organizationId,
      ]);
      await second.ok(IssueLicenseCertificateDocument, { key: used.key }, null);
      // What was used is stored anew under B (the license key's and the signing key's after the answer).
      const s = second;
      await vi.waitFor(async () => {
        expect(await digestOfLicense(s, used.licenseId)).toBe(marked(B, used.key));
        expect(await sealedKeys(s)).not.toEqual(sealedUnderA);
      });
      expect(await digestOfToken(second, token.id)).toBe(marked(B, token.secret));
      expect(await digestOfLicense(second, unused.licenseId)).toBe(marked(A, unused.key));
      expect((await sealedKeys(second)).every((sealed) => sealed.startsWith(`v2.${idOf(B)}.`))).toBe(true);
      await second.server.close();

      // A is gone: what was used since still works; what was not is no longer recognized.
      third = await startTestServer(kind, { secretKey: B }, first);
      expect((await third.ok(ValidateLicenseDocument, { key: used.key }, null)).validateLicense.valid).toBe(true);
      expect((await third.ok(OrganizationsDocument, {}, token.secret)).organizations.nodes).toHaveLength(1);
      await third.ok(IssueLicenseCertificateDocument, { key: used.key }, null);
      expect(await third.errorCode(ValidateLicenseDocument, { key: unused.key }, null)).toBe('UNAUTHENTICATED');
      expect(await third.errorCode(OrganizationsDocument, {}, idle.secret)).toBe('UNAUTHENTICATED');
    } finally {
      await third?.server.close();
      await first.database.drop();
    }
  });

  it('checks seats out and in of licenses stored under the previous secret, counted under their lock', async () => {
    const first = await startTestServer(kind, { secretKey: A });
    let second: TestServer | undefined;
    try {
      const out = await licensed(first, 'CONCURRENT', { limits: { concurrentSessions: 1 } });
      const back = await licensed(first, 'CONCURRENT', { limits: { concurrentSessions: 1 }, organizationId: out.organizationId });
      const held = (await first.ok(CheckoutSeatDocument, { key: back.key, fingerprint: 'm-0' }, null)).checkoutSeat.lease!;
      await first.server.close();

      second = await startTestServer(kind, { secretKey: B, secretKeyPrevious: A }, first);
      // First uses under B: each license found by its former digest and locked by it, its sessions (or the lease) read
      // after the lock.
      const taken = (await second.ok(CheckoutSeatDocument, { key: out.key, fingerprint: 'm-1' }, null)).checkoutSeat;
      expect(taken).toMatchObject({ outcome: 'GRANTED', seatsInUse: 1, seatLimit: 1 });
      expect((await second.ok(CheckinSeatDocument, { key: back.key, leaseId: held.id }, null)).checkinSeat.outcome).toBe('RELEASED');
      // Counted right: the one seat of the first taken, the other's free again.
      expect((await second.ok(CheckoutSeatDocument, { key: out.key, fingerprint: 'm-2' }, null)).checkoutSeat.outcome).toBe(
        'NO_SEAT_AVAILABLE',
      );
      expect((await second.ok(CheckoutSeatDocument, { key: back.key, fingerprint: 'm-3' }, null)).checkoutSeat.outcome).toBe('GRANTED');
      const s = second;
      await vi.waitFor(async () => {
        expect(await digestOfLicense(s, out.licenseId)).toBe(marked(B, out.key));
        expect(await digestOfLicense(s, back.licenseId)).toBe(marked(B, back.key));
      });
    } finally {
      await second?.server.close();
      await first.database.drop();
    }
  });

  it('finds what was stored before digests carried their secret id, also after a rotation, and stores it anew with it', async () => {
    const first = await startTestServer(kind, { secretKey: A });
    let second: TestServer | undefined;
    let third: TestServer | undefined;
    try {
      const kept = await licensed(first, 'SUBSCRIPTION');
      const rotated = await licensed(first, 'SUBSCRIPTION', { organizationId: kept.organizationId });
      const token = await issueToken(first, 'ORG_ADMIN', kept.organizationId);
      // The database as an earlier version left it: digests of 64 hex characters, the private key sealed as v1.
      const [sealed] = await sealedKeys(first);
      const plain = new SecretBox(A, 'signing-keys').open(sealed!).plain;
      await first.server.db.write(async (tx) => {
        await tx.run('update license set key_digest = ? where id = ?', [unmarked(A, kept.key), kept.licenseId]);
        await tx.run('update license set key_digest = ? where id = ?', [unmarked(A, rotated.key), rotated.licenseId]);
        await tx.run('update api_token set token_digest = ? where id = ?', [unmarked(A, token.secret), token.id]);
        await tx.run('update signing_key set sealed_private_key = ?', [sealedV1(A, plain)]);
      });
      await first.server.close();

      // The same secret: everything works, and what was used carries the secret's id from then on.
      second = await startTestServer(kind, { secretKey: A }, first);
      expect((await second.ok(ValidateLicenseDocument, { key: kept.key }, null)).validateLicense.valid).toBe(true);
      expect((await second.ok(OrganizationsDocument, {}, token.secret)).organizations.nodes).toHaveLength(1);
      await second.ok(IssueLicenseCertificateDocument, { key: kept.key }, null);
      const s = second;
      await vi.waitFor(async () => {
        expect(await digestOfLicense(s, kept.licenseId)).toBe(marked(A, kept.key));
        expect((await sealedKeys(s)).every((sealed) => sealed.startsWith(`v2.${idOf(A)}.`))).toBe(true);
      });
      expect(await digestOfToken(second, token.id)).toBe(marked(A, token.secret));
      expect(await digestOfLicense(second, rotated.licenseId)).toBe(unmarked(A, rotated.key));
      await second.server.close();

      // Rotated with A as the previous secret: an unmarked digest under A is found, and stored anew under B.
      third = await startTestServer(kind, { secretKey: B, secretKeyPrevious: A }, first);
      expect((await third.ok(ValidateLicenseDocument, { key: rotated.key }, null)).validateLicense.valid).toBe(true);
      const t = third;
      await vi.waitFor(async () => expect(await digestOfLicense(t, rotated.licenseId)).toBe(marked(B, rotated.key)));
    } finally {
      await third?.server.close();
      await first.database.drop();
    }
  });
});
