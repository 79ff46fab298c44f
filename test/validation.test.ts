import { describe, expect, it } from 'vitest';
import {
  AddFeatureDocument,
  AssignSeatDocument,
  CheckFeatureDocument,
  type CheckFeatureQueryVariables,
  CheckinSeatDocument,
  CheckoutSeatDocument,
  ReleaseSeatDocument,
  RevokeLicenseDocument,
  SuspendLicenseDocument,
  ValidateLicenseDocument,
  type ValidateLicenseQuery,
  type ValidateLicenseQueryVariables,
} from './generated/graphql';
import { licensed } from './support/factories';
import { describeEachDatabase, type TestServer } from './support/server';

const DAY_MS = 86_400_000;
const daysFromNow = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString();

type Check = ValidateLicenseQuery['validateLicense']['checks'][number];
/** The checks as `KIND OUTCOME CODE`, to compare whole lists at a glance. */
const summary = (checks: readonly Check[]) => checks.map((c) => `${c.check} ${c.outcome} ${c.code}`);

/** Client applications validate with the key alone: no API token is sent. */
async function validate(t: TestServer, variables: ValidateLicenseQueryVariables) {
  return (await t.ok(ValidateLicenseDocument, variables, null)).validateLicense;
}

async function checkFeature(t: TestServer, variables: CheckFeatureQueryVariables) {
  return (await t.ok(CheckFeatureDocument, variables, null)).checkFeature;
}

describeEachDatabase('validation', (server) => {
  describe('a valid license of each type', () => {
    it('validates a SUBSCRIPTION within its term', async () => {
      const t = server();
      const { key, licenseId } = await licensed(t, 'SUBSCRIPTION');
      const before = t.clock.now().getTime();
      const result = await validate(t, { key });
      expect(result).toMatchObject({ valid: true, code: 'VALID', license: { id: licenseId, type: 'SUBSCRIPTION', status: 'ACTIVE' } });
      expect(summary(result.checks)).toEqual(['STATUS PASS ACTIVE', 'TERM PASS WITHIN_TERM']);
      expect(result.checks.every((c) => c.detail.length > 0)).toBe(true);
      expect(result.checks[1]!.detail).toContain(result.license.expiresAt!);
      expect(Date.parse(result.license.graceEndsAt!) - Date.parse(result.license.expiresAt!)).toBe(7 * DAY_MS);
      expect(Date.parse(result.validatedAt)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(result.validatedAt)).toBeLessThanOrEqual(t.clock.now().getTime());
    });

    it('validates a USER license for a user holding a seat', async () => {
      const t = server();
      const { key, licenseId } = await licensed(t, 'USER');
      await t.ok(AssignSeatDocument, { licenseId, userId: 'ada@example.com' });
      const result = await validate(t, { key, user: 'ada@example.com' });
      expect(result).toMatchObject({ valid: true, code: 'VALID', license: { type: 'USER' } });
      expect(summary(result.checks)).toEqual(['STATUS PASS ACTIVE', 'TERM PASS WITHIN_TERM', 'SEAT PASS SEAT_ASSIGNED']);
    });

    it('validates a CONCURRENT license, with or without a machine holding a lease', async () => {
      const t = server();
      const { key } = await licensed(t, 'CONCURRENT');
      const bare = await validate(t, { key });
      expect(bare).toMatchObject({ valid: true, code: 'VALID' });
      expect(summary(bare.checks)).toEqual(['STATUS PASS ACTIVE', 'TERM PASS WITHIN_TERM']);

      await t.ok(CheckoutSeatDocument, { key, fingerprint: 'host-1' }, null);
      const leased = await validate(t, { key, fingerprint: 'host-1' });
      expect(leased).toMatchObject({ valid: true, code: 'VALID' });
      expect(summary(leased.checks)).toEqual(['STATUS PASS ACTIVE', 'TERM PASS WITHIN_TERM', 'LEASE PASS LEASE_ACTIVE']);
    });

    it('validates a SITE license within its site', async () => {
      const t = server();
      const { key } = await licensed(t, 'SITE');
      const result = await validate(t, { key, site: '10.20.30.40' });
      expect(result).toMatchObject({ valid: true, code: 'VALID', license: { type: 'SITE' } });
      expect(summary(result.checks)).toEqual(['STATUS PASS ACTIVE', 'TERM PASS WITHIN_TERM', 'SITE PASS SITE_MATCHED']);
    });

    it('validates a FEATURE license for a feature it grants, and without a feature', async () => {
      const t = server();
      const { key } = await licensed(t, 'FEATURE', { featureKeys: ['premium.sso'] });
      const result = await validate(t, { key, feature: 'premium.sso' });
      expect(result).toMatchObject({ valid: true, code: 'VALID', license: { type: 'FEATURE' } });
      expect(summary(result.checks)).toEqual(['STATUS PASS ACTIVE', 'TERM PASS WITHIN_TERM', 'FEATURE PASS FEATURE_ENTITLED']);
      expect(summary((await validate(t, { key })).checks)).toEqual(['STATUS PASS ACTIVE', 'TERM PASS WITHIN_TERM']);
    });
  });

  describe('status and term', () => {
    it('fails a suspended license as SUSPENDED, still reporting its term', async () => {
      const t = server();
      const { key, licenseId } = await licensed(t, 'SUBSCRIPTION');
      await t.ok(SuspendLicenseDocument, { id: licenseId, reason: 'unpaid' });
      const result = await validate(t, { key });
      expect(result).toMatchObject({ valid: false, code: 'SUSPENDED', license: { status: 'SUSPENDED' } });
      expect(summary(result.checks)).toEqual(['STATUS FAIL SUSPENDED', 'TERM PASS WITHIN_TERM']);
    });

    it('fails a revoked license as REVOKED, still reporting its term', async () => {
      const t = server();
      const { key, licenseId } = await licensed(t, 'SUBSCRIPTION');
      await t.ok(RevokeLicenseDocument, { id: licenseId });
      const result = await validate(t, { key });
      expect(result).toMatchObject({ valid: false, code: 'REVOKED', license: { status: 'REVOKED' } });
      expect(summary(result.checks)).toEqual(['STATUS FAIL REVOKED', 'TERM PASS WITHIN_TERM']);
    });

    it('fails a license whose term has not started as NOT_YET_VALID', async () => {
      const t = server();
      const startsAt = daysFromNow(1);
      const { key } = await licensed(t, 'SUBSCRIPTION', { startsAt });
      const result = await validate(t, { key });
      expect(result).toMatchObject({ valid: false, code: 'NOT_YET_VALID' });
      expect(summary(result.checks)).toEqual(['STATUS PASS ACTIVE', 'TERM FAIL NOT_YET_VALID']);
      expect(result.checks[1]!.detail).toContain(startsAt);
    });

    it('passes a license in its grace period with a warning', async () => {
      const t = server();
      const expiresAt = daysFromNow(-2);
      const { key } = await licensed(t, 'SUBSCRIPTION', { startsAt: daysFromNow(-32), expiresAt });
      const result = await validate(t, { key });
      expect(result).toMatchObject({ valid: true, code: 'IN_GRACE_PERIOD', license: { status: 'ACTIVE', expiresAt } });
      expect(summary(result.checks)).toEqual(['STATUS PASS ACTIVE', 'TERM WARN IN_GRACE_PERIOD']);
      const graceEndsAt = new Date(Date.parse(expiresAt) + 7 * DAY_MS).toISOString();
      expect(result.license.graceEndsAt).toBe(graceEndsAt);
      expect(result.checks[1]!.detail).toContain(graceEndsAt);
    });

    it('fails a license past its grace period as EXPIRED', async () => {
      const t = server();
      const { key } = await licensed(t, 'SUBSCRIPTION', { startsAt: daysFromNow(-40), expiresAt: daysFromNow(-8) });
      const result = await validate(t, { key });
      expect(result).toMatchObject({ valid: false, code: 'EXPIRED' });
      expect(summary(result.checks)).toEqual(['STATUS PASS ACTIVE', 'TERM FAIL EXPIRED']);
    });

    it('fails a license without a grace period as soon as its term ends', async () => {
      const t = server();
      const { key } = await licensed(t, 'SUBSCRIPTION', { startsAt: daysFromNow(-30), expiresAt: daysFromNow(-0.001), gracePeriodDays: 0 });
      expect(await validate(t, { key })).toMatchObject({ valid: false, code: 'EXPIRED' });
    });

    it('validates a perpetual license with no end', async () => {
      const t = server();
      const { key } = await licensed(t, 'USER', {}, { termDays: null });
      const result = await validate(t, { key, user: 'nobody' });
      expect(result.license).toMatchObject({ expiresAt: null, graceEndsAt: null });
      expect(result.checks[1]).toMatchObject({ outcome: 'PASS', code: 'WITHIN_TERM' });
    });
  });

  describe('named seats', () => {
    it('requires a user on a USER license', async () => {
      const t = server();
      const { key } = await licensed(t, 'USER');
      const result = await validate(t, { key });
      expect(result).toMatchObject({ valid: false, code: 'USER_REQUIRED' });
      expect(summary(result.checks)).toEqual(['STATUS PASS ACTIVE', 'TERM PASS WITHIN_TERM', 'SEAT FAIL USER_REQUIRED']);
    });

    it('fails a user without a seat, passes once assigned, and fails again once released', async () => {
      const t = server();
      const { key, licenseId } = await licensed(t, 'USER');
      const before = await validate(t, { key, user: 'grace@example.com' });
      expect(before).toMatchObject({ valid: false, code: 'NO_SEAT_ASSIGNED' });
      expect(before.checks[2]!.detail).toContain('grace@example.com');

      const seat = (await t.ok(AssignSeatDocument, { licenseId, userId: 'grace@example.com' })).assignSeat.seat!;
      expect(await validate(t, { key, user: 'grace@example.com' })).toMatchObject({
        valid: true,
        code: 'VALID',
        checks: [{ code: 'ACTIVE' }, { code: 'WITHIN_TERM' }, { check: 'SEAT', outcome: 'PASS', code: 'SEAT_ASSIGNED' }],
      });
      expect((await validate(t, { key, user: 'ada@example.com' })).code).toBe('NO_SEAT_ASSIGNED');

      await t.ok(ReleaseSeatDocument, { seatId: seat.id });
      expect((await validate(t, { key, user: 'grace@example.com' })).code).toBe('NO_SEAT_ASSIGNED');
    });

    it('does not count a seat of another license', async () => {
      const t = server();
      const mine = await licensed(t, 'USER');
      const other = await licensed(t, 'USER', { organizationId: mine.organizationId });
      await t.ok(AssignSeatDocument, { licenseId: other.licenseId, userId: 'ada' });
      expect((await validate(t, { key: mine.key, user: 'ada' })).code).toBe('NO_SEAT_ASSIGNED');
      expect((await validate(t, { key: other.key, user: 'ada' })).code).toBe('VALID');
    });
  });

  describe('concurrent leases', () => {
    it('fails a machine without a lease, passes it once checked out, and fails it again once checked in', async () => {
      const t = server();
      const { key } = await licensed(t, 'CONCURRENT');
      const before = await validate(t, { key, fingerprint: 'host-1' });
      expect(before).toMatchObject({ valid: false, code: 'NO_ACTIVE_LEASE' });
      expect(summary(before.checks)).toEqual(['STATUS PASS ACTIVE', 'TERM PASS WITHIN_TERM', 'LEASE FAIL NO_ACTIVE_LEASE']);

      const lease = (await t.ok(CheckoutSeatDocument, { key, fingerprint: 'host-1' }, null)).checkoutSeat.lease!;
      expect(await validate(t, { key, fingerprint: 'host-1' })).toMatchObject({ valid: true, code: 'VALID' });
      expect((await validate(t, { key, fingerprint: 'host-2' })).code).toBe('NO_ACTIVE_LEASE');

      await t.ok(CheckinSeatDocument, { key, leaseId: lease.id }, null);
      expect((await validate(t, { key, fingerprint: 'host-1' })).code).toBe('NO_ACTIVE_LEASE');
    });

    it('fails a machine whose lease ran out without a heartbeat', async () => {
      const t = server();
      const { key } = await licensed(t, 'CONCURRENT', { leaseTtlSeconds: 1 });
      const lease = (await t.ok(CheckoutSeatDocument, { key, fingerprint: 'host-1' }, null)).checkoutSeat.lease!;
      expect((await validate(t, { key, fingerprint: 'host-1' })).code).toBe('VALID');
      await t.clock.advanceTo(new Date(Date.parse(lease.expiresAt) + 50));
      expect((await validate(t, { key, fingerprint: 'host-1' })).code).toBe('NO_ACTIVE_LEASE');
    });

    it('fails a machine whose lease ended with the suspension of its license, for both reasons', async () => {
      const t = server();
      const { key, licenseId } = await licensed(t, 'CONCURRENT');
      await t.ok(CheckoutSeatDocument, { key, fingerprint: 'host-1' }, null);
      await t.ok(SuspendLicenseDocument, { id: licenseId });
      const result = await validate(t, { key, fingerprint: 'host-1' });
      expect(result).toMatchObject({ valid: false, code: 'SUSPENDED' });
      expect(summary(result.checks)).toEqual(['STATUS FAIL SUSPENDED', 'TERM PASS WITHIN_TERM', 'LEASE FAIL NO_ACTIVE_LEASE']);
    });
  });

  describe('features', () => {
    it('entitles the core features of the product and the premium features of the license', async () => {
      const t = server();
      const { key } = await licensed(t, 'SUBSCRIPTION');
      const core = await validate(t, { key, feature: 'core.inference' });
      expect(core).toMatchObject({ valid: true, code: 'VALID' });
      expect(core.checks[2]).toMatchObject({ check: 'FEATURE', outcome: 'PASS', code: 'FEATURE_ENTITLED' });
      expect(core.checks[2]!.detail).toContain('core');
      const premium = await validate(t, { key, feature: 'premium.analytics' });
      expect(premium).toMatchObject({ valid: true, code: 'VALID' });
      expect(premium.checks[2]).toMatchObject({ check: 'FEATURE', outcome: 'PASS', code: 'FEATURE_ENTITLED' });
    });

    it('refuses a premium feature the license does not entitle', async () => {
      const t = server();
      const { key } = await licensed(t, 'SUBSCRIPTION');
      const result = await validate(t, { key, feature: 'premium.sso' });
      expect(result).toMatchObject({ valid: false, code: 'FEATURE_NOT_ENTITLED' });
      expect(summary(result.checks)).toEqual(['STATUS PASS ACTIVE', 'TERM PASS WITHIN_TERM', 'FEATURE FAIL FEATURE_NOT_ENTITLED']);
      expect(result.checks[2]!.detail).toContain('premium.sso');
    });

    it('reports a feature the product does not have as unknown, even when another product has it', async () => {
      const t = server();
      const mine = await licensed(t, 'SUBSCRIPTION');
      const other = await licensed(t, 'SUBSCRIPTION');
      await t.ok(AddFeatureDocument, { productId: other.productId, input: { key: 'other.only', name: 'Other', tier: 'CORE' } });

      const unknown = await validate(t, { key: mine.key, feature: 'no.such.feature' });
      expect(unknown).toMatchObject({ valid: false, code: 'FEATURE_UNKNOWN' });
      expect(unknown.checks[2]).toMatchObject({ check: 'FEATURE', outcome: 'FAIL', code: 'FEATURE_UNKNOWN' });
      expect((await validate(t, { key: mine.key, feature: 'other.only' })).code).toBe('FEATURE_UNKNOWN');
      expect((await validate(t, { key: other.key, feature: 'other.only' })).code).toBe('VALID');
    });

    it('entitles a core feature added to the product later, but not a premium one', async () => {
      const t = server();
      const { key, productId } = await licensed(t, 'SUBSCRIPTION');
      await t.ok(AddFeatureDocument, { productId, input: { key: 'core.later', name: 'Later', tier: 'CORE' } });
      await t.ok(AddFeatureDocument, { productId, input: { key: 'premium.later', name: 'Later', tier: 'PREMIUM' } });
      expect((await validate(t, { key, feature: 'core.later' })).code).toBe('VALID');
      expect((await validate(t, { key, feature: 'premium.later' })).code).toBe('FEATURE_NOT_ENTITLED');
    });
  });

  describe('sites', () => {
    it('matches an IP address within a CIDR range of the site', async () => {
      const t = server();
      const { key } = await licensed(t, 'SITE', { site: { domains: ['example.com'], cidrs: ['10.20.0.0/16', '2001:db8::/32'] } });
      for (const site of ['10.20.30.40', '10.20.0.0', '10.20.255.255', '2001:db8::1', '::ffff:10.20.1.1']) {
        const result = await validate(t, { key, site });
        expect(result.code, site).toBe('VALID');
        expect(result.checks[2], site).toMatchObject({ check: 'SITE', outcome: 'PASS', code: 'SITE_MATCHED' });
      }
    });

    it('matches an e-mail address of the domain or of a subdomain, given as the site or as the user', async () => {
      const t = server();
      const { key } = await licensed(t, 'SITE');
      for (const variables of [
        { site: 'ada@example.com' },
        { site: 'ada@eu.example.com' },
        { site: 'build.eu.example.com' },
        { user: 'ada@example.com' },
        { user: 'Ada@EU.Example.com' },
      ]) {
        const result = await validate(t, { key, ...variables });
        expect(result.code, JSON.stringify(variables)).toBe('VALID');
        expect(result.checks[2]!.code, JSON.stringify(variables)).toBe('SITE_MATCHED');
      }
    });

    it('fails what lies outside the site as SITE_MISMATCH', async () => {
      const t = server();
      const { key } = await licensed(t, 'SITE');
      for (const variables of [
        { site: '10.21.0.1' },
        { site: '192.0.2.1' },
        { site: '2001:db8::1' },
        { site: 'ada@notexample.com' },
        { site: 'ada@example.com.evil.org' },
        { user: 'ada@notexample.com' },
        { site: '10.99.0.1', user: 'ada@example.com' },
      ]) {
        const result = await validate(t, { key, ...variables });
        expect(result, JSON.stringify(variables)).toMatchObject({ valid: false, code: 'SITE_MISMATCH' });
        expect(result.checks[2], JSON.stringify(variables)).toMatchObject({ check: 'SITE', outcome: 'FAIL', code: 'SITE_MISMATCH' });
      }
    });

    it('requires a site, or a user with an e-mail address, on a SITE license', async () => {
      const t = server();
      const { key } = await licensed(t, 'SITE');
      for (const variables of [{}, { user: 'ada' }]) {
        const result = await validate(t, { key, ...variables });
        expect(result).toMatchObject({ valid: false, code: 'SITE_REQUIRED' });
        expect(summary(result.checks)).toEqual(['STATUS PASS ACTIVE', 'TERM PASS WITHIN_TERM', 'SITE FAIL SITE_REQUIRED']);
      }
    });

    it('ignores seats, leases and sites on licenses they do not apply to', async () => {
      const t = server();
      const { key } = await licensed(t, 'SUBSCRIPTION');
      const result = await validate(t, { key, user: 'ada@evil.org', fingerprint: 'host-9', site: '192.0.2.1' });
      expect(result).toMatchObject({ valid: true, code: 'VALID' });
      expect(summary(result.checks)).toEqual(['STATUS PASS ACTIVE', 'TERM PASS WITHIN_TERM']);
    });
  });

  describe('several checks at once', () => {
    it('reports every failing check, with the first failure as the code', async () => {
      const t = server();
      const { key, licenseId } = await licensed(t, 'SITE');
      await t.ok(SuspendLicenseDocument, { id: licenseId });
      const result = await validate(t, { key, feature: 'premium.sso', site: '192.0.2.1' });
      expect(result).toMatchObject({ valid: false, code: 'SUSPENDED' });
      expect(summary(result.checks)).toEqual([
        'STATUS FAIL SUSPENDED',
        'TERM PASS WITHIN_TERM',
        'FEATURE FAIL FEATURE_NOT_ENTITLED',
        'SITE FAIL SITE_MISMATCH',
      ]);
      expect(result.checks.every((c) => c.detail.length > 0)).toBe(true);
    });

    it('fails on a failure even in the grace period, and reports the warning beside it', async () => {
      const t = server();
      const { key } = await licensed(t, 'USER', { startsAt: daysFromNow(-30), expiresAt: daysFromNow(-1) });
      const result = await validate(t, { key, user: 'ada', feature: 'premium.analytics' });
      expect(result).toMatchObject({ valid: false, code: 'NO_SEAT_ASSIGNED' });
      expect(summary(result.checks)).toEqual([
        'STATUS PASS ACTIVE',
        'TERM WARN IN_GRACE_PERIOD',
        'SEAT FAIL NO_SEAT_ASSIGNED',
        'FEATURE PASS FEATURE_ENTITLED',
      ]);
    });

    it('reports a term that has not started beside a lease that does not exist', async () => {
      const t = server();
      const { key } = await licensed(t, 'CONCURRENT', { startsAt: daysFromNow(3) });
      const result = await validate(t, { key, fingerprint: 'host-1', feature: 'no.such.feature' });
      expect(result).toMatchObject({ valid: false, code: 'NOT_YET_VALID' });
      expect(summary(result.checks)).toEqual([
        'STATUS PASS ACTIVE',
        'TERM FAIL NOT_YET_VALID',
        'LEASE FAIL NO_ACTIVE_LEASE',
        'FEATURE FAIL FEATURE_UNKNOWN',
      ]);
    });
  });

  describe('checkFeature', () => {
    it('allows a core feature and an entitled premium feature', async () => {
      const t = server();
      const { key } = await licensed(t, 'SUBSCRIPTION');
      for (const feature of ['core.inference', 'premium.analytics']) {
        const result = await checkFeature(t, { key, feature });
        expect(result, feature).toMatchObject({ allowed: true, code: 'VALID', feature });
        expect(summary(result.checks), feature).toEqual(['STATUS PASS ACTIVE', 'TERM PASS WITHIN_TERM', 'FEATURE PASS FEATURE_ENTITLED']);
      }
    });

    it('refuses a premium feature the license does not entitle, and an unknown one', async () => {
      const t = server();
      const { key } = await licensed(t, 'SUBSCRIPTION');
      expect(await checkFeature(t, { key, feature: 'premium.sso' })).toMatchObject({
        allowed: false,
        code: 'FEATURE_NOT_ENTITLED',
        feature: 'premium.sso',
        checks: [{ code: 'ACTIVE' }, { code: 'WITHIN_TERM' }, { check: 'FEATURE', outcome: 'FAIL', code: 'FEATURE_NOT_ENTITLED' }],
      });
      expect(await checkFeature(t, { key, feature: 'no.such.feature' })).toMatchObject({
        allowed: false,
        code: 'FEATURE_UNKNOWN',
        checks: [{ code: 'ACTIVE' }, { code: 'WITHIN_TERM' }, { check: 'FEATURE', outcome: 'FAIL', code: 'FEATURE_UNKNOWN' }],
      });
    });

    it('refuses every feature of a suspended license, still saying which are entitled', async () => {
      const t = server();
      const { key, licenseId } = await licensed(t, 'SUBSCRIPTION');
      await t.ok(SuspendLicenseDocument, { id: licenseId });
      const core = await checkFeature(t, { key, feature: 'core.inference' });
      expect(core).toMatchObject({ allowed: false, code: 'SUSPENDED' });
      expect(summary(core.checks)).toEqual(['STATUS FAIL SUSPENDED', 'TERM PASS WITHIN_TERM', 'FEATURE PASS FEATURE_ENTITLED']);
      expect(await checkFeature(t, { key, feature: 'premium.sso' })).toMatchObject({ allowed: false, code: 'SUSPENDED' });
    });

    it('allows a feature in the grace period with a warning, and refuses it after', async () => {
      const t = server();
      const grace = await licensed(t, 'SUBSCRIPTION', { startsAt: daysFromNow(-30), expiresAt: daysFromNow(-1) });
      expect(await checkFeature(t, { key: grace.key, feature: 'premium.analytics' })).toMatchObject({
        allowed: true,
        code: 'IN_GRACE_PERIOD',
      });
      const expired = await licensed(t, 'SUBSCRIPTION', { startsAt: daysFromNow(-30), expiresAt: daysFromNow(-10) });
      expect(await checkFeature(t, { key: expired.key, feature: 'premium.analytics' })).toMatchObject({ allowed: false, code: 'EXPIRED' });
    });

    it('checks only status, term and feature, whatever the type of license', async () => {
      const t = server();
      for (const type of ['USER', 'SITE', 'CONCURRENT'] as const) {
        const { key } = await licensed(t, type);
        const result = await checkFeature(t, { key, feature: 'premium.analytics' });
        expect(result, type).toMatchObject({ allowed: true, code: 'VALID' });
        expect(
          result.checks.map((c) => c.check),
          type,
        ).toEqual(['STATUS', 'TERM', 'FEATURE']);
      }
    });

    it('refuses a malformed key and an unknown one', async () => {
      const t = server();
      expect(await t.errorCode(CheckFeatureDocument, { key: 'not-a-key', feature: 'core.inference' }, null)).toBe('BAD_USER_INPUT');
      expect(
        await t.errorCode(CheckFeatureDocument, { key: 'AINX-00000000-00000000-00000000-00000000', feature: 'core.inference' }, null),
      ).toBe('UNAUTHENTICATED');
    });
  });
});
