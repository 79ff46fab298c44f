import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type JSONWebKeySet, SignJWT } from 'jose';
import { expect, it, vi } from 'vitest';
import { verifyLicenseCertificate } from '../packages/client/src/verify';
import {
  AuditLogDocument,
  BorrowSeatDocument,
  CheckinSeatDocument,
  CheckoutSeatDocument,
  CheckoutWithCertificateDocument,
  HeartbeatSeatDocument,
  IssueLicenseCertificateDocument,
  LeaseBorrowedDocument,
  RotateSigningKeyDocument,
  SuspendLicenseDocument,
  ValidateLicenseDocument,
} from './generated/graphql';
import { issueToken, licensed } from './support/factories';
import { describeEachDatabase, type TestServer } from './support/server';

const DAY = 86_400_000;

const jwksOf = async (t: TestServer) => {
  const response = await fetch(`${new URL(t.url).origin}/.well-known/jwks.json`);
  expect(response.status).toBe(200);
  return { jwks: (await response.json()) as JSONWebKeySet, cacheControl: response.headers.get('cache-control') };
};

const issue = async (t: TestServer, key: string, variables: { fingerprint?: string; ttlSeconds?: number } = {}) =>
  (await t.ok(IssueLicenseCertificateDocument, { key, ...variables }, null)).issueLicenseCertificate;

describeEachDatabase('license certificates', (server) => {
  it('verify offline with the JWKS fetched earlier, with the same checks validateLicense makes at that moment', async () => {
    const t = server();
    const l = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 2 }, featureKeys: ['premium.analytics'] });
    await t.ok(CheckoutSeatDocument, { key: l.key, fingerprint: 'm1' }, null);
    const { jwks, cacheControl } = await jwksOf(t);
    expect(cacheControl).toBe('public, max-age=300');
    const bound = await issue(t, l.key, { fingerprint: 'm1' });
    expect(bound.licenseId).toBe(l.licenseId);
    expect(jwks.keys.map((k) => k.kid)).toContain(bound.kid);
    // 30 days by default.
    expect(new Date(bound.expiresAt).getTime() - new Date(bound.issuedAt).getTime()).toBe(30 * DAY);

    const fetches = vi.spyOn(globalThis, 'fetch');
    try {
      for (const feature of ['premium.analytics', 'premium.sso', 'core.inference', 'no.such.feature', null]) {
        for (const fingerprint of ['m1', 'm2', null]) {
          const now = t.clock.now();
          const offline = await verifyLicenseCertificate(bound.certificate, { jwks, now, fingerprint, feature });
          fetches.mockClear(); // the server's answer below is the only request
          const online = (await t.ok(ValidateLicenseDocument, { key: l.key, fingerprint, feature, clientTime: null }, null))
            .validateLicense;
          const kinds = ['STATUS', 'TERM', 'LEASE', 'FEATURE'];
          // The certificate's own checks first; then the same as the server's, word for word.
          expect(offline.checks.filter((c) => kinds.includes(c.check))).toEqual(online.checks.filter((c) => kinds.includes(c.check)));
          if (fingerprint === 'm2') expect(offline).toMatchObject({ valid: false, code: 'FINGERPRINT_MISMATCH' });
          else expect({ valid: offline.valid, code: offline.code }).toEqual({ valid: online.valid, code: online.code });
        }
      }
      expect(fetches).toHaveBeenCalledTimes(1); // the last validateLicense: verifying fetched nothing
    } finally {
      fetches.mockRestore();
    }
  });

  it('come with a checkout that asks for one, bound to its machine and lease', async () => {
    const t = server();
    const l = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 1 } });
    const { checkoutSeat } = await t.ok(CheckoutWithCertificateDocument, { key: l.key, fingerprint: 'm1' }, null);
    const payload = JSON.parse(Buffer.from(checkoutSeat.certificate!.certificate.split('.')[1]!, 'base64url').toString());
    expect(payload).toMatchObject({ sub: l.licenseId, fpr: 'm1', lease: checkoutSeat.lease!.id });
    const { jwks } = await jwksOf(t);
    const offline = await verifyLicenseCertificate(checkoutSeat.certificate!.certificate, { jwks, now: t.clock.now(), fingerprint: 'm1' });
    expect(offline.checks.find((c) => c.check === 'LEASE')?.code).toBe('LEASE_ACTIVE');
    // Refused (no seat left), no certificate.
    const refused = (await t.ok(CheckoutWithCertificateDocument, { key: l.key, fingerprint: 'm2' }, null)).checkoutSeat;
    expect(refused).toMatchObject({ outcome: 'NO_SEAT_AVAILABLE', lease: null, certificate: null });
  });

  it('last no longer than the term and its grace period, and say so offline within it', async () => {
    const t = server();
    const now = t.clock.now().getTime();
    const l = await licensed(t, 'SUBSCRIPTION', { expiresAt: new Date(now + 2 * DAY).toISOString(), gracePeriodDays: 3 });
    const { jwks } = await jwksOf(t);
    const certificate = await issue(t, l.key);
    expect(new Date(certificate.expiresAt).getTime()).toBe(Math.floor((now + 5 * DAY) / 1000) * 1000);
    // Four days on: the term is over, the grace period is not; the server and the certificate agree.
    await t.clock.jumpTo(new Date(now + 4 * DAY));
    const offline = await verifyLicenseCertificate(certificate.certificate, { jwks, now: t.clock.now() });
    const online = (await t.ok(ValidateLicenseDocument, { key: l.key }, null)).validateLicense;
    expect(offline.checks.slice(1)).toEqual(online.checks);
    expect(offline).toMatchObject({ valid: true, code: 'IN_GRACE_PERIOD' });
    await t.clock.jumpTo(new Date(now + 5 * DAY + 1000));
    expect(await verifyLicenseCertificate(certificate.certificate, { jwks, now: t.clock.now() })).toMatchObject({
      valid: false,
      code: 'CERTIFICATE_EXPIRED',
    });
  });

  it('are refused for a license that does not work, a bad TTL, or a key that is not one', async () => {
    const t = server();
    const l = await licensed(t, 'SUBSCRIPTION');
    expect(await t.errorCode(IssueLicenseCertificateDocument, { key: l.key, ttlSeconds: 3_599 }, null)).toBe('BAD_USER_INPUT');
    expect(await t.errorCode(IssueLicenseCertificateDocument, { key: l.key, ttlSeconds: 30 * 86_400 + 1 }, null)).toBe('BAD_USER_INPUT');
    expect(await t.errorCode(IssueLicenseCertificateDocument, { key: 'AINX-00000000-00000000-00000000-00000000' }, null)).toBe(
      'UNAUTHENTICATED',
    );
    const hour = await issue(t, l.key, { ttlSeconds: 3_600 });
    expect(new Date(hour.expiresAt).getTime() - new Date(hour.issuedAt).getTime()).toBe(3_600_000);
    await t.ok(SuspendLicenseDocument, { id: l.licenseId, reason: 'unpaid' });
    expect(await t.errorCode(IssueLicenseCertificateDocument, { key: l.key }, null)).toBe('INVALID_STATE_TRANSITION');
  });

  it('last as long as the plan allows, and a seat is borrowed for as long as it allows', async () => {
    const t = server();
    const weekly = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 2 } }, { certificateMaxDays: 7, borrowMaxDays: 5 });
    const first = await issue(t, weekly.key);
    expect(new Date(first.expiresAt).getTime() - new Date(first.issuedAt).getTime()).toBe(7 * DAY);
    const response = await t.request(IssueLicenseCertificateDocument, { key: weekly.key, ttlSeconds: 8 * 86_400 }, null);
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'ttlSeconds' });
    const borrow = (key: string, days: number) =>
      t.request(
        BorrowSeatDocument,
        { key, fingerprint: 'laptop', until: new Date(t.clock.now().getTime() + days * DAY).toISOString() },
        null,
      );
    expect((await borrow(weekly.key, 6)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'until' });
    const lent = (await borrow(weekly.key, 5)).data!.borrowSeat;
    expect(lent.checkout.outcome).toBe('GRANTED');
    const never = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 2 } }, { borrowMaxDays: 0 });
    expect((await borrow(never.key, 1)).errors?.[0]).toMatchObject({
      message: "The license's plan allows no borrowing.",
      extensions: { code: 'BAD_USER_INPUT', field: 'until' },
    });
  });

  it('keep verifying across a rotation until they expire; the retired key leaves the JWKS after its last certificate', async () => {
    const t = server();
    const l = await licensed(t, 'SUBSCRIPTION');
    // A key only this test signs with: the one before signed the other tests' certificates, for 30 days.
    await t.ok(RotateSigningKeyDocument, {});
    const before = await issue(t, l.key, { ttlSeconds: 7_200 });
    const orgAdmin = await issueToken(t, 'ORG_ADMIN', l.organizationId);
    expect(await t.errorCode(RotateSigningKeyDocument, {}, orgAdmin.secret)).toBe('FORBIDDEN');
    const { rotateSigningKey } = await t.ok(RotateSigningKeyDocument, {});
    expect(rotateSigningKey.retired).toBe(before.kid);
    const after = await issue(t, l.key, { ttlSeconds: 3_600 });
    expect(after.kid).toBe(rotateSigningKey.kid);
    const { jwks } = await jwksOf(t);
    expect(jwks.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([before.kid, after.kid]));
    for (const c of [before, after]) {
      expect(await verifyLicenseCertificate(c.certificate, { jwks, now: t.clock.now() })).toMatchObject({ valid: true, code: 'VALID' });
    }
    const audit = (await t.ok(AuditLogDocument, { filter: { action: 'signingKey.rotate', objectId: after.kid } })).auditLog.nodes;
    expect(audit[0]?.after).toEqual({ kid: after.kid, retired: before.kid });
    // Past the last certificate the retired key signed, it is no longer published; the new one is.
    await t.clock.advance(7_200_000 + 1_000);
    const published = (await jwksOf(t)).jwks.keys.map((k) => k.kid);
    expect(published).toContain(after.kid);
    expect(published).not.toContain(before.kid);
    expect(await verifyLicenseCertificate(before.certificate, { jwks: (await jwksOf(t)).jwks, now: t.clock.now() })).toMatchObject({
      valid: false,
    });
  });

  it('keep the private keys out of the database files, the logs and every answer', async () => {
    const t = server();
    const l = await licensed(t, 'SUBSCRIPTION');
    const certificate = await issue(t, l.key);
    const signer = await t.server.db.read((sql) => t.server.services.signingKeys.signer(sql));
    const der = signer!.privateKey.export({ format: 'der', type: 'pkcs8' });
    const seed = der.subarray(der.length - 32);
    const jwk = signer!.privateKey.export({ format: 'jwk' });
    const forms = [seed.toString('hex'), seed.toString('base64'), seed.toString('base64url'), der.toString('base64'), jwk.d!];
    const answers = [JSON.stringify(await jwksOf(t)), JSON.stringify(certificate), ...t.logs];
    for (const form of forms) for (const text of answers) expect(text).not.toContain(form);
    if (t.database.file) {
      for (const file of [t.database.file, `${t.database.file}-wal`].filter(existsSync)) {
        const bytes = readFileSync(file);
        expect(bytes.includes(seed)).toBe(false);
        for (const form of forms) expect(bytes.includes(Buffer.from(form))).toBe(false);
      }
    } else {
      const stored = await t.server.db.read((sql) => sql.all<Record<string, unknown>>('select * from signing_key'));
      for (const form of forms) expect(JSON.stringify(stored)).not.toContain(form);
    }
  });
});

/** Its bytes with one bit flipped. */
const flipped = (bytes: Buffer, bit: number) => {
  const copy = Buffer.from(bytes);
  copy[Math.floor(bit / 8) % copy.length]! ^= 1 << (bit % 8);
  return copy;
};

describeEachDatabase('license certificates, mutated', (server) => {
  it('refuse each of 10,000 mutated certificates, with its reason', async () => {
    const t = server();
    if (t.kind !== 'sqlite') return; // the verification is the client's alone: once is enough
    const l = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 2 } });
    await t.ok(CheckoutSeatDocument, { key: l.key, fingerprint: 'm1' }, null);
    const genuine = await issue(t, l.key, { fingerprint: 'm1', ttlSeconds: 3_600 });
    await t.ok(RotateSigningKeyDocument, {});
    const other = await issue(t, l.key, { ttlSeconds: 3_600 });
    const { jwks } = await jwksOf(t);
    const now = t.clock.now();
    expect(await verifyLicenseCertificate(genuine.certificate, { jwks, now, fingerprint: 'm1' })).toMatchObject({ valid: true });

    const [h, p, s] = genuine.certificate.split('.') as [string, string, string];
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, string>;
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const random = (n: number) => Math.floor(Math.random() * n);
    const stranger: KeyObject = generateKeyPairSync('ed25519').privateKey;
    const publicX = Buffer.from((jwks.keys.find((k) => k.kid === genuine.kid) as { x: string }).x, 'base64url');
    const sign = (claims: Record<string, unknown>, key: KeyObject, kid: string) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid, typ: 'license+jwt' }).sign(key);

    type Case = { token: string; codes: string[]; now?: Date; fingerprint?: string };
    const cases: (() => Promise<Case> | Case)[] = [
      // A bit of the header, the payload or the signature flipped (decoded, flipped, encoded again).
      () => ({
        token: [flipped(Buffer.from(h, 'base64url'), random(h.length * 6)).toString('base64url'), p, s].join('.'),
        codes: ['CERTIFICATE_INVALID', 'UNKNOWN_KEY'],
      }),
      () => ({
        token: [h, flipped(Buffer.from(p, 'base64url'), random(p.length * 6)).toString('base64url'), s].join('.'),
        codes: ['CERTIFICATE_INVALID'],
      }),
      () => ({
        token: [h, p, flipped(Buffer.from(s, 'base64url'), random(512)).toString('base64url')].join('.'),
        codes: ['CERTIFICATE_INVALID'],
      }),
      () => ({ token: `${encode({ ...header, alg: 'none' })}.${p}.`, codes: ['CERTIFICATE_INVALID'] }),
      () => {
        const head = encode({ ...header, alg: 'HS256' });
        const mac = createHmac('sha256', publicX).update(`${head}.${p}`).digest('base64url');
        return { token: `${head}.${p}.${mac}`, codes: ['CERTIFICATE_INVALID'] };
      },
      () => ({ token: `${encode({ ...header, kid: other.kid })}.${p}.${s}`, codes: ['CERTIFICATE_INVALID'] }),
      () => ({ token: `${encode({ ...header, kid: 'no-such-key' })}.${p}.${s}`, codes: ['UNKNOWN_KEY'] }),
      async () => ({ token: await sign(payload, stranger, genuine.kid), codes: ['CERTIFICATE_INVALID'] }),
      () => ({ token: genuine.certificate, codes: ['CERTIFICATE_EXPIRED'], now: new Date(new Date(genuine.expiresAt).getTime() + 1_000) }),
      () => ({
        token: genuine.certificate,
        codes: ['CERTIFICATE_NOT_YET_VALID'],
        now: new Date(new Date(genuine.issuedAt).getTime() - 1_000),
      }),
      () => ({ token: genuine.certificate, codes: ['FINGERPRINT_MISMATCH'], fingerprint: `m${2 + random(1000)}` }),
    ];
    const seen = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const c = await cases[i < 9_000 ? i % 3 : 3 + (i % (cases.length - 3))]!();
      const verdict = await verifyLicenseCertificate(c.token, { jwks, now: c.now ?? now, fingerprint: c.fingerprint ?? 'm1' });
      expect(verdict.valid, `${i}: ${c.token}`).toBe(false);
      expect(c.codes, `${i}: ${verdict.code}`).toContain(verdict.code);
      seen.set(verdict.code, (seen.get(verdict.code) ?? 0) + 1);
    }
    console.log('mutated certificates refused, by reason:', Object.fromEntries(seen));
    expect([...seen.keys()].sort()).toEqual([
      'CERTIFICATE_EXPIRED',
      'CERTIFICATE_INVALID',
      'CERTIFICATE_NOT_YET_VALID',
      'FINGERPRINT_MISMATCH',
      'UNKNOWN_KEY',
    ]);
  }, 120_000);
});

describeEachDatabase('the verify command', (server) => {
  it('prints the checks of a certificate against a saved JWKS, and exits 0 when valid, 1 when not, 2 on a mistake', async () => {
    const t = server();
    if (t.kind !== 'sqlite') return; // the command never reaches the server
    const l = await licensed(t, 'SUBSCRIPTION');
    const { certificate } = await issue(t, l.key);
    const dir = mkdtempSync(join(tmpdir(), 'verify-'));
    const jwks = join(dir, 'jwks.json');
    writeFileSync(jwks, JSON.stringify((await jwksOf(t)).jwks));
    const verify = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'packages/client/src/cli.ts', ...args], { encoding: 'utf8', timeout: 60_000 });

    const valid = verify(certificate, '--jwks', jwks, '--feature', 'premium.sso');
    expect(valid.status, valid.stderr).toBe(1); // premium.sso is not entitled
    expect(valid.stdout).toContain('FEATURE_NOT_ENTITLED');
    const plain = verify(certificate, '--jwks', jwks, '--at', t.clock.now().toISOString());
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/^PASS CERTIFICATE +CERTIFICATE_VALID/m);
    expect(plain.stdout).toContain(`VALID: VALID license ${l.licenseId}`);
    const [h, p, sig] = certificate.split('.') as [string, string, string];
    const tampered = verify(`${h}.${p}.${flipped(Buffer.from(sig, 'base64url'), 3).toString('base64url')}`, '--jwks', jwks);
    expect(tampered.status).toBe(1);
    expect(tampered.stdout).toContain('CERTIFICATE_INVALID');
    const mistake = verify(certificate);
    expect(mistake.status).toBe(2);
    expect(mistake.stderr).toContain('--jwks is required');
  }, 120_000);
});

describeEachDatabase('borrowed seats', (server) => {
  it('count against the limit, outlast the reaper, verify offline until due back, and come back early', async () => {
    const t = server();
    const l = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 2 } });
    const now = t.clock.now().getTime();
    const until = new Date(now + 10 * DAY);
    const { borrowSeat } = await t.ok(BorrowSeatDocument, { key: l.key, fingerprint: 'laptop', until: until.toISOString() }, null);
    expect(borrowSeat.checkout).toMatchObject({ outcome: 'GRANTED', seatsInUse: 1 });
    const lease = borrowSeat.checkout.lease!;
    expect([lease.borrowedUntil, lease.expiresAt]).toEqual([until.toISOString(), until.toISOString()]);
    expect(borrowSeat.certificate!.expiresAt).toBe(new Date(Math.floor(until.getTime() / 1000) * 1000).toISOString());

    // Counted against the limit: one more seat, then none.
    const checkout = async (fingerprint: string) => (await t.ok(CheckoutSeatDocument, { key: l.key, fingerprint }, null)).checkoutSeat;
    expect((await checkout('desk')).outcome).toBe('GRANTED');
    expect((await checkout('third')).outcome).toBe('NO_SEAT_AVAILABLE');
    // A day on without heartbeats: the reaper ends the desk's lease, and leaves the borrowed one alone.
    await t.clock.jumpTo(new Date(now + DAY));
    await t.server.services.leaseLedger.reap('test');
    const live = async () =>
      (await t.ok(LeaseBorrowedDocument, { filter: { licenseId: l.licenseId, live: true } })).leases.nodes.map((n) => n.fingerprint);
    expect(await live()).toEqual(['laptop']);
    // A heartbeat does not shorten it.
    const { heartbeatSeat } = await t.ok(HeartbeatSeatDocument, { key: l.key, leaseId: lease.id }, null);
    expect(heartbeatSeat.lease.expiresAt).toBe(until.toISOString());

    // Offline, its certificate holds until the seat is due back, on that machine.
    const { jwks } = await jwksOf(t);
    const offline = (at: number, fingerprint = 'laptop') =>
      verifyLicenseCertificate(borrowSeat.certificate!.certificate, { jwks, now: new Date(at), fingerprint });
    expect(await offline(now + 9 * DAY)).toMatchObject({ valid: true, code: 'VALID' });
    expect((await offline(now + 9 * DAY)).checks.find((c) => c.check === 'LEASE')?.code).toBe('LEASE_ACTIVE');
    expect(await offline(now + 9 * DAY, 'desk')).toMatchObject({ valid: false, code: 'FINGERPRINT_MISMATCH' });
    expect(await offline(until.getTime() + 1_000)).toMatchObject({ valid: false, code: 'CERTIFICATE_EXPIRED' });

    // Returned early, its seat is free again.
    expect((await t.ok(CheckinSeatDocument, { key: l.key, leaseId: lease.id }, null)).checkinSeat.outcome).toBe('RELEASED');
    expect((await checkout('third')).outcome).toBe('GRANTED');

    // An hour to 180 days ahead.
    for (const ahead of [30 * 60_000, 181 * DAY]) {
      const response = await t.request(
        BorrowSeatDocument,
        { key: l.key, fingerprint: 'x', until: new Date(t.clock.now().getTime() + ahead).toISOString() },
        null,
      );
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'until' });
    }
  });
});
