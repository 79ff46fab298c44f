import { createHmac } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { IssueLicenseCertificateDocument, OrganizationsDocument, ValidateLicenseDocument } from './generated/graphql';
import { DATABASE_KINDS } from './support/databases';
import { issueToken, licensed } from './support/factories';
import { startTestServer, type TestServer } from './support/server';

const A = Buffer.from('the-secret-before-the-rotation-of-at-least-32-characters');
const B = Buffer.from('the-secret-after-the-rotation-of-at-least-32-characters!');
const hmac = (secret: Buffer, value: string) => createHmac('sha256', secret).update(value).digest('hex');

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
        expect(await digestOfLicense(s, used.licenseId)).toBe(hmac(B, used.key));
        expect(await sealedKeys(s)).not.toEqual(sealedUnderA);
      });
      expect(await digestOfToken(second, token.id)).toBe(hmac(B, token.secret));
      expect(await digestOfLicense(second, unused.licenseId)).toBe(hmac(A, unused.key));
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
});
