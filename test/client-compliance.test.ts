import { describe, expect, it } from 'vitest';
import {
  AssignSeatDocument,
  CheckFeatureDocument,
  type CheckFeatureQueryVariables,
  CheckoutSeatDocument,
  HeartbeatSeatDocument,
  type IssueLicenseInput,
  ReleaseSeatDocument,
  ValidateLicenseDocument,
  type ValidateLicenseQuery,
  type ValidateLicenseQueryVariables,
  ViolationsDocument,
  type ViolationKind,
} from './generated/graphql';
import { licensed } from './support/factories';
import { describeEachDatabase, type TestServer } from './support/server';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const daysFromNow = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString();
/** The server's clock, shifted: what a client whose clock is that far off sends. */
const offBy = (ms: number) => new Date(Date.now() + ms).toISOString();

type Check = ValidateLicenseQuery['validateLicense']['checks'][number];
/** The checks as `KIND OUTCOME CODE`, to compare whole lists at a glance. */
const summary = (checks: readonly Pick<Check, 'check' | 'outcome' | 'code'>[]) => checks.map((c) => `${c.check} ${c.outcome} ${c.code}`);

/** Client applications call with the key alone: no API token is sent. */
async function validate(t: TestServer, variables: ValidateLicenseQueryVariables) {
  return (await t.ok(ValidateLicenseDocument, variables, null)).validateLicense;
}

async function checkFeature(t: TestServer, variables: CheckFeatureQueryVariables) {
  return (await t.ok(CheckFeatureDocument, variables, null)).checkFeature;
}

/** Every violation of a license (any status), in the order detected, read by the platform admin. */
async function violationsOf(t: TestServer, licenseId: string, kinds?: ViolationKind[]) {
  return (await t.ok(ViolationsDocument, { filter: { licenseId, ...(kinds ? { kinds } : {}) }, first: 200 })).violations.nodes;
}

/** Runs a statement on the server's own database (SQLite or PostgreSQL): to set up what the API cannot. */
async function sqlRun(t: TestServer, statement: string, params: (string | number | Date | null)[]) {
  return t.server.db.write((sql) => sql.run(statement, params));
}

describeEachDatabase('client compliance', (server) => {
  describe('the client clock at validation', () => {
    for (const [direction, sign] of [
      ['ahead of', 1],
      ['behind', -1],
    ] as const) {
      it(`fails a clock 25 hours ${direction} the server's as CLOCK_TAMPERING, and records it`, async () => {
        const t = server();
        const { key, licenseId, organizationId } = await licensed(t, 'SUBSCRIPTION');
        const clientTime = offBy(sign * 25 * HOUR_MS);
        const before = Date.now();
        const result = await validate(t, { key, clientTime });
        expect(result).toMatchObject({ valid: false, code: 'CLOCK_TAMPERING' });
        expect(summary(result.checks)).toEqual(['STATUS PASS ACTIVE', 'TERM PASS WITHIN_TERM', 'CLOCK FAIL CLOCK_TAMPERING']);
        expect(result.checks[2]!.detail).toContain(direction);

        const violations = await violationsOf(t, licenseId);
        expect(violations).toHaveLength(1);
        const [violation] = violations;
        expect(violation).toMatchObject({
          organizationId,
          licenseId,
          kind: 'CLOCK_TAMPERING',
          subject: null,
          severity: 'HIGH',
          status: 'OPEN',
          occurrences: 1,
        });
        expect(violation!.evidence).toMatchObject({ code: 'CLOCK_TAMPERING', clientTime });
        const serverTime = Date.parse(violation!.evidence.serverTime as string);
        expect(serverTime).toBeGreaterThanOrEqual(before);
        expect(serverTime).toBeLessThanOrEqual(Date.now());
        expect(Math.abs(serverTime - Date.parse(clientTime) - sign * -25 * HOUR_MS)).toBeLessThan(MINUTE_MS);

        // Another validation with the clock still off counts on the same violation.
        expect((await validate(t, { key, clientTime: offBy(sign * 30 * HOUR_MS) })).code).toBe('CLOCK_TAMPERING');
        expect(await violationsOf(t, licenseId)).toMatchObject([{ id: violation!.id, kind: 'CLOCK_TAMPERING', occurrences: 2 }]);
      });
    }

    it('passes a clock 3 minutes off as CLOCK_IN_SYNC, with no warning and nothing recorded', async () => {
      const t = server();
      const { key, licenseId } = await licensed(t, 'SUBSCRIPTION');
      for (const clientTime of [offBy(3 * MINUTE_MS), offBy(-3 * MINUTE_MS)]) {
        const result = await validate(t, { key, clientTime });
        expect(result).toMatchObject({ valid: true, code: 'VALID' });
        expect(summary(result.checks)).toEqual(['STATUS PASS ACTIVE', 'TERM PASS WITHIN_TERM', 'CLOCK PASS CLOCK_IN_SYNC']);
        expect(result.checks.some((c) => c.outcome === 'WARN')).toBe(false);
      }
      expect(await violationsOf(t, licenseId)).toEqual([]);
    });

    it('warns of a clock 10 minutes off as CLOCK_DRIFT, still valid, and records nothing', async () => {
      const t = server();
      const { key, licenseId } = await licensed(t, 'SUBSCRIPTION');
      for (const [clientTime, direction] of [
        [offBy(10 * MINUTE_MS), 'ahead of'],
        [offBy(-10 * MINUTE_MS), 'behind'],
      ] as const) {
        const result = await validate(t, { key, clientTime });
        expect(result).toMatchObject({ valid: true, code: 'CLOCK_DRIFT' });
        expect(summary(result.checks)).toEqual(['STATUS PASS ACTIVE', 'TERM PASS WITHIN_TERM', 'CLOCK WARN CLOCK_DRIFT']);
        expect(result.checks[2]!.detail).toMatch(new RegExp(`10 min ${direction}`));
      }
      expect(await violationsOf(t, licenseId)).toEqual([]);
    });

    it('runs no CLOCK check without a clientTime', async () => {
      const t = server();
      const { key, licenseId } = await licensed(t, 'SUBSCRIPTION');
      const result = await validate(t, { key });
      expect(result).toMatchObject({ valid: true, code: 'VALID' });
      expect(result.checks.map((c) => c.check)).not.toContain('CLOCK');
      expect(await violationsOf(t, licenseId)).toEqual([]);
    });
  });

  describe('the client clock at heartbeats', () => {
    it('fails a heartbeat whose clock went back as CLOCK_TAMPERING, still extending the lease; counts each repeat', async () => {
      const t = server();
      const { key, licenseId } = await licensed(t, 'CONCURRENT');
      const start = Date.now();
      const checkout = (
        await t.ok(CheckoutSeatDocument, { key, fingerprint: 'host-clock', clientTime: new Date(start).toISOString() }, null)
      ).checkoutSeat;
      expect(checkout.outcome).toBe('GRANTED');
      expect(checkout.clock).toMatchObject({ check: 'CLOCK', outcome: 'PASS', code: 'CLOCK_IN_SYNC' });
      const leaseId = checkout.lease!.id;

      const back = new Date(start - 2 * MINUTE_MS).toISOString();
      const tampered = (await t.ok(HeartbeatSeatDocument, { key, leaseId, clientTime: back }, null)).heartbeatSeat;
      expect(tampered.outcome).toBe('EXTENDED');
      expect(tampered.clock).toMatchObject({ check: 'CLOCK', outcome: 'FAIL', code: 'CLOCK_TAMPERING' });
      expect(tampered.clock!.detail).toContain('went back');
      expect(tampered.lease).toMatchObject({ id: leaseId, live: true, releasedAt: null });
      expect(Date.parse(tampered.lease!.expiresAt)).toBeGreaterThan(Date.parse(checkout.lease!.expiresAt) - 1);

      const [violation] = await violationsOf(t, licenseId);
      expect(violation).toMatchObject({ kind: 'CLOCK_TAMPERING', severity: 'HIGH', status: 'OPEN', occurrences: 1 });
      expect(violation!.evidence).toMatchObject({ code: 'CLOCK_TAMPERING', clientTime: back });
      expect(await violationsOf(t, licenseId)).toHaveLength(1);

      // Back again, behind the last heartbeat's clock: another occurrence of the same violation.
      const further = new Date(start - 4 * MINUTE_MS).toISOString();
      const again = (await t.ok(HeartbeatSeatDocument, { key, leaseId, clientTime: further }, null)).heartbeatSeat;
      expect(again.outcome).toBe('EXTENDED');
      expect(again.clock).toMatchObject({ outcome: 'FAIL', code: 'CLOCK_TAMPERING' });
      expect(await violationsOf(t, licenseId)).toMatchObject([{ id: violation!.id, kind: 'CLOCK_TAMPERING', occurrences: 2 }]);

      // A heartbeat moving forward from there passes and adds nothing.
      const forward = (await t.ok(HeartbeatSeatDocument, { key, leaseId, clientTime: new Date().toISOString() }, null)).heartbeatSeat;
      expect(forward.outcome).toBe('EXTENDED');
      expect(forward.clock).toMatchObject({ outcome: 'PASS', code: 'CLOCK_IN_SYNC' });
      expect(await violationsOf(t, licenseId)).toMatchObject([{ id: violation!.id, occurrences: 2 }]);
    });

    it('passes heartbeats whose clock moves forward, and records nothing', async () => {
      const t = server();
      const { key, licenseId } = await licensed(t, 'CONCURRENT');
      const start = Date.now();
      const checkout = (
        await t.ok(CheckoutSeatDocument, { key, fingerprint: 'host-steady', clientTime: new Date(start).toISOString() }, null)
      ).checkoutSeat;
      const leaseId = checkout.lease!.id;
      for (const ahead of [1_000, 2_000, 60_000]) {
        const beat = (await t.ok(HeartbeatSeatDocument, { key, leaseId, clientTime: new Date(start + ahead).toISOString() }, null))
          .heartbeatSeat;
        expect(beat.outcome).toBe('EXTENDED');
        expect(beat.clock).toMatchObject({ check: 'CLOCK', outcome: 'PASS', code: 'CLOCK_IN_SYNC' });
      }
      // Without a clock the heartbeat runs no clock check.
      const bare = (await t.ok(HeartbeatSeatDocument, { key, leaseId }, null)).heartbeatSeat;
      expect(bare).toMatchObject({ outcome: 'EXTENDED', clock: null });
      expect(await violationsOf(t, licenseId)).toEqual([]);
    });

    it('keeps the checkout clock as the baseline across heartbeats that send none', async () => {
      const t = server();
      const { key, licenseId } = await licensed(t, 'CONCURRENT');
      const start = Date.now();
      const leaseId = (await t.ok(CheckoutSeatDocument, { key, fingerprint: 'host-base', clientTime: new Date(start).toISOString() }, null))
        .checkoutSeat.lease!.id;
      await t.ok(HeartbeatSeatDocument, { key, leaseId }, null);
      const back = (await t.ok(HeartbeatSeatDocument, { key, leaseId, clientTime: new Date(start - 1_000).toISOString() }, null))
        .heartbeatSeat;
      expect(back.clock).toMatchObject({ outcome: 'FAIL', code: 'CLOCK_TAMPERING' });
      expect(await violationsOf(t, licenseId, ['CLOCK_TAMPERING'])).toMatchObject([{ occurrences: 1, severity: 'HIGH' }]);
    });
    it("fails a checkout that takes its live lease back with a clock set behind the last heartbeat's, as tampering", async () => {
      // The same machine checking out again gets its lease back, extended: a heartbeat by another name. Its clock
      // must not fall behind the baseline either, or a client sets its clock back unseen by checking out again.
      const t = server();
      const { key, licenseId } = await licensed(t, 'CONCURRENT');
      const start = Date.now();
      const leaseId = (
        await t.ok(CheckoutSeatDocument, { key, fingerprint: 'host-again', clientTime: new Date(start).toISOString() }, null)
      ).checkoutSeat.lease!.id;
      const beat = (await t.ok(HeartbeatSeatDocument, { key, leaseId, clientTime: new Date(start + 60_000).toISOString() }, null))
        .heartbeatSeat;
      expect(beat.clock).toMatchObject({ outcome: 'PASS', code: 'CLOCK_IN_SYNC' });

      const again = (
        await t.ok(
          CheckoutSeatDocument,
          { key, fingerprint: 'host-again', clientTime: new Date(start - 2 * MINUTE_MS).toISOString() },
          null,
        )
      ).checkoutSeat;
      expect(again).toMatchObject({ outcome: 'GRANTED', reused: true, lease: { id: leaseId } });
      expect(again.clock).toMatchObject({ check: 'CLOCK', outcome: 'FAIL', code: 'CLOCK_TAMPERING' });
      expect(await violationsOf(t, licenseId, ['CLOCK_TAMPERING'])).toMatchObject([{ severity: 'HIGH', occurrences: 1 }]);
    });
  });

  describe('features', () => {
    it('denies a premium feature not entitled, in checkFeature and validateLicense, recording each denial', async () => {
      const t = server();
      // The plan entitles premium.analytics only.
      const { key, licenseId, organizationId } = await licensed(t, 'SUBSCRIPTION');
      const denied = await checkFeature(t, { key, feature: 'premium.sso' });
      expect(denied).toMatchObject({ allowed: false, code: 'FEATURE_NOT_ENTITLED', feature: 'premium.sso' });
      expect(summary(denied.checks)).toEqual(['STATUS PASS ACTIVE', 'TERM PASS WITHIN_TERM', 'FEATURE FAIL FEATURE_NOT_ENTITLED']);

      const first = await violationsOf(t, licenseId);
      expect(first).toHaveLength(1);
      expect(first[0]).toMatchObject({
        organizationId,
        kind: 'UNLICENSED_FEATURE',
        subject: 'premium.sso',
        severity: 'HIGH',
        status: 'OPEN',
        occurrences: 1,
      });
      expect(first[0]!.evidence).toMatchObject({ code: 'FEATURE_NOT_ENTITLED', feature: 'premium.sso' });

      const validation = await validate(t, { key, feature: 'premium.sso' });
      expect(validation).toMatchObject({ valid: false, code: 'FEATURE_NOT_ENTITLED' });
      expect(summary(validation.checks)).toEqual(['STATUS PASS ACTIVE', 'TERM PASS WITHIN_TERM', 'FEATURE FAIL FEATURE_NOT_ENTITLED']);
      expect(await violationsOf(t, licenseId)).toMatchObject([
        { id: first[0]!.id, kind: 'UNLICENSED_FEATURE', subject: 'premium.sso', severity: 'HIGH', occurrences: 2 },
      ]);

      // The entitled premium feature of the same license is allowed, and adds nothing.
      expect(await checkFeature(t, { key, feature: 'premium.analytics' })).toMatchObject({ allowed: true, code: 'VALID' });
      expect(await validate(t, { key, feature: 'premium.analytics' })).toMatchObject({ valid: true, code: 'VALID' });
      expect(await violationsOf(t, licenseId)).toMatchObject([{ id: first[0]!.id, occurrences: 2 }]);
    });

    it('records each denied feature as a violation of its own', async () => {
      const t = server();
      const { key, licenseId } = await licensed(t, 'SUBSCRIPTION', { featureKeys: [] });
      await checkFeature(t, { key, feature: 'premium.sso' });
      await checkFeature(t, { key, feature: 'premium.analytics' });
      await checkFeature(t, { key, feature: 'premium.sso' });
      const violations = await violationsOf(t, licenseId);
      expect(violations.map((v) => [v.kind, v.subject, v.occurrences]).sort()).toEqual([
        ['UNLICENSED_FEATURE', 'premium.analytics', 1],
        ['UNLICENSED_FEATURE', 'premium.sso', 2],
      ]);
    });

    it('allows a premium feature the license entitles, recording nothing', async () => {
      const t = server();
      const { key, licenseId } = await licensed(t, 'SUBSCRIPTION', { featureKeys: ['premium.sso'] });
      const allowed = await checkFeature(t, { key, feature: 'premium.sso' });
      expect(allowed).toMatchObject({ allowed: true, code: 'VALID', feature: 'premium.sso' });
      expect(summary(allowed.checks)).toEqual(['STATUS PASS ACTIVE', 'TERM PASS WITHIN_TERM', 'FEATURE PASS FEATURE_ENTITLED']);
      const validation = await validate(t, { key, feature: 'premium.sso' });
      expect(validation).toMatchObject({ valid: true, code: 'VALID' });
      expect(validation.checks.at(-1)).toMatchObject({ check: 'FEATURE', outcome: 'PASS', code: 'FEATURE_ENTITLED' });
      expect(await violationsOf(t, licenseId)).toEqual([]);
    });

    it('allows a core feature with any valid license, even one entitling no premium feature', async () => {
      const t = server();
      // A FEATURE license needs a feature: it gets a premium one other than the plan's.
      for (const [type, featureKeys] of [
        ['SUBSCRIPTION', []],
        ['CONCURRENT', []],
        ['FEATURE', ['premium.sso']],
      ] as const) {
        const { key, licenseId } = await licensed(t, type, { featureKeys: [...featureKeys] });
        const allowed = await checkFeature(t, { key, feature: 'core.inference' });
        expect(allowed).toMatchObject({ allowed: true, code: 'VALID' });
        expect(allowed.checks.at(-1)).toMatchObject({ check: 'FEATURE', outcome: 'PASS', code: 'FEATURE_ENTITLED' });
        expect(await validate(t, { key, feature: 'core.inference' })).toMatchObject({ valid: true, code: 'VALID' });
        expect(await violationsOf(t, licenseId)).toEqual([]);
      }
    });

    it('denies an unknown feature as FEATURE_UNKNOWN, recorded with severity LOW', async () => {
      const t = server();
      const { key, licenseId } = await licensed(t, 'SUBSCRIPTION');
      const denied = await checkFeature(t, { key, feature: 'no.such.feature' });
      expect(denied).toMatchObject({ allowed: false, code: 'FEATURE_UNKNOWN', feature: 'no.such.feature' });
      expect(denied.checks.at(-1)).toMatchObject({ check: 'FEATURE', outcome: 'FAIL', code: 'FEATURE_UNKNOWN' });
      expect(await validate(t, { key, feature: 'no.such.feature' })).toMatchObject({ valid: false, code: 'FEATURE_UNKNOWN' });
      const violations = await violationsOf(t, licenseId);
      expect(violations).toHaveLength(1);
      expect(violations[0]).toMatchObject({
        kind: 'UNLICENSED_FEATURE',
        subject: 'no.such.feature',
        severity: 'LOW',
        status: 'OPEN',
        occurrences: 2,
      });
      expect(violations[0]!.evidence).toMatchObject({ code: 'FEATURE_UNKNOWN', feature: 'no.such.feature' });
    });

    it('records a denied feature and a tampered clock of one validation, each as its own violation', async () => {
      const t = server();
      const { key, licenseId } = await licensed(t, 'SUBSCRIPTION');
      const result = await validate(t, { key, feature: 'premium.sso', clientTime: offBy(-48 * HOUR_MS) });
      expect(result).toMatchObject({ valid: false, code: 'FEATURE_NOT_ENTITLED' });
      expect(summary(result.checks)).toEqual([
        'STATUS PASS ACTIVE',
        'TERM PASS WITHIN_TERM',
        'FEATURE FAIL FEATURE_NOT_ENTITLED',
        'CLOCK FAIL CLOCK_TAMPERING',
      ]);
      const violations = await violationsOf(t, licenseId);
      expect(violations.map((v) => `${v.kind} ${v.subject ?? ''} ${v.severity} ${v.occurrences}`).sort()).toEqual([
        'CLOCK_TAMPERING  HIGH 1',
        'UNLICENSED_FEATURE premium.sso HIGH 1',
      ]);
    });
  });

  describe('use after the term', () => {
    it('records use in the grace period as EXPIRED_USE (LOW), raised to HIGH once the grace period is over', async () => {
      const t = server();
      const { key, licenseId } = await licensed(t, 'SUBSCRIPTION', {
        startsAt: daysFromNow(-30),
        expiresAt: daysFromNow(-1),
        gracePeriodDays: 7,
      });
      const inGrace = await validate(t, { key });
      expect(inGrace).toMatchObject({ valid: true, code: 'IN_GRACE_PERIOD' });
      expect(summary(inGrace.checks)).toEqual(['STATUS PASS ACTIVE', 'TERM WARN IN_GRACE_PERIOD']);
      const [opened] = await violationsOf(t, licenseId);
      expect(opened).toMatchObject({ kind: 'EXPIRED_USE', severity: 'LOW', status: 'OPEN', occurrences: 1 });
      expect(opened!.evidence).toMatchObject({ code: 'IN_GRACE_PERIOD' });
      expect(await violationsOf(t, licenseId)).toHaveLength(1);

      // The term moves back so that the grace period is over (as if 9 days had passed).
      await sqlRun(t, 'update license set starts_at = ?, expires_at = ? where id = ?', [
        new Date(Date.now() - 40 * DAY_MS),
        new Date(Date.now() - 10 * DAY_MS),
        licenseId,
      ]);
      const after = await validate(t, { key });
      expect(after).toMatchObject({ valid: false, code: 'EXPIRED' });
      expect(summary(after.checks)).toEqual(['STATUS PASS ACTIVE', 'TERM FAIL EXPIRED']);
      expect(await violationsOf(t, licenseId)).toMatchObject([
        { id: opened!.id, kind: 'EXPIRED_USE', severity: 'HIGH', status: 'OPEN', occurrences: 2 },
      ]);
    });

    it('records use past the grace period as EXPIRED_USE (HIGH), once a validation even when status and term both say EXPIRED', async () => {
      const t = server();
      const { key, licenseId } = await licensed(t, 'SUBSCRIPTION', {
        startsAt: daysFromNow(-30),
        expiresAt: daysFromNow(-10),
        gracePeriodDays: 7,
      });
      const result = await validate(t, { key });
      expect(result).toMatchObject({ valid: false, code: 'EXPIRED' });
      expect(await violationsOf(t, licenseId)).toMatchObject([{ kind: 'EXPIRED_USE', severity: 'HIGH', occurrences: 1 }]);

      // The expiry watch marks the license EXPIRED: both checks fail, one occurrence more.
      await t.server.services.expiryWatch.scan('client-compliance-test', new Date());
      const marked = await validate(t, { key });
      expect(marked).toMatchObject({ valid: false, code: 'EXPIRED', license: { status: 'EXPIRED' } });
      expect(summary(marked.checks)).toEqual(['STATUS FAIL EXPIRED', 'TERM FAIL EXPIRED']);
      expect(await violationsOf(t, licenseId)).toMatchObject([{ kind: 'EXPIRED_USE', severity: 'HIGH', occurrences: 2 }]);
    });

    it('records nothing for a license within its term', async () => {
      const t = server();
      const { key, licenseId } = await licensed(t, 'SUBSCRIPTION');
      expect(await validate(t, { key })).toMatchObject({ valid: true, code: 'VALID' });
      expect(await checkFeature(t, { key, feature: 'premium.analytics' })).toMatchObject({ allowed: true });
      expect(await violationsOf(t, licenseId)).toEqual([]);
    });
  });

  describe('SITE licenses', () => {
    it('fails a validation from outside the site as SITE_MISMATCH and records it; inside records nothing', async () => {
      const t = server();
      // The site: example.com and 10.20.0.0/16.
      const { key, licenseId } = await licensed(t, 'SITE');
      for (const site of ['10.20.30.40', 'example.com', 'eu.example.com']) {
        const inside = await validate(t, { key, site });
        expect(inside).toMatchObject({ valid: true, code: 'VALID' });
        expect(inside.checks.at(-1)).toMatchObject({ check: 'SITE', outcome: 'PASS', code: 'SITE_MATCHED' });
      }
      expect(await validate(t, { key, user: 'ada@example.com' })).toMatchObject({ valid: true, code: 'VALID' });
      expect(await violationsOf(t, licenseId)).toEqual([]);

      const outside = await validate(t, { key, site: '192.168.1.7' });
      expect(outside).toMatchObject({ valid: false, code: 'SITE_MISMATCH' });
      expect(summary(outside.checks)).toEqual(['STATUS PASS ACTIVE', 'TERM PASS WITHIN_TERM', 'SITE FAIL SITE_MISMATCH']);
      const [violation] = await violationsOf(t, licenseId);
      expect(violation).toMatchObject({ kind: 'SITE_MISMATCH', severity: 'MEDIUM', status: 'OPEN', occurrences: 1 });
      expect(violation!.evidence).toMatchObject({ code: 'SITE_MISMATCH', site: '192.168.1.7' });

      expect(await validate(t, { key, user: 'eve@elsewhere.org' })).toMatchObject({ valid: false, code: 'SITE_MISMATCH' });
      expect(await violationsOf(t, licenseId)).toMatchObject([{ id: violation!.id, kind: 'SITE_MISMATCH', occurrences: 2 }]);
      // From inside again: no further occurrence.
      await validate(t, { key, site: '10.20.0.1' });
      expect(await violationsOf(t, licenseId)).toMatchObject([{ id: violation!.id, occurrences: 2 }]);
    });
  });

  describe('the user limit at validation', () => {
    const users = ['u1@example.com', 'u2@example.com', 'u3@example.com'];

    async function withSeats(t: TestServer, license: Partial<IssueLicenseInput>) {
      const l = await licensed(t, 'USER', license);
      const seats: string[] = [];
      for (const userId of users) {
        const assigned = (await t.ok(AssignSeatDocument, { licenseId: l.licenseId, userId })).assignSeat;
        expect(assigned.outcome).toBe('ASSIGNED');
        seats.push(assigned.seat!.id);
      }
      return { ...l, seats };
    }

    const seatCheckOf = async (t: TestServer, key: string, user: string) => {
      const result = await validate(t, { key, user });
      const seat = result.checks.find((c) => c.check === 'SEAT')!;
      return { valid: result.valid, code: result.code, seat: `${seat.outcome} ${seat.code}`, detail: seat.detail };
    };

    it('warns the users past the limit under ALWAYS, still valid', async () => {
      const t = server();
      const { key } = await withSeats(t, { limits: { namedUsers: 2 }, overage: { policy: 'ALWAYS' } });
      expect(await seatCheckOf(t, key, users[0]!)).toMatchObject({ valid: true, code: 'VALID', seat: 'PASS SEAT_ASSIGNED' });
      expect(await seatCheckOf(t, key, users[1]!)).toMatchObject({ valid: true, code: 'VALID', seat: 'PASS SEAT_ASSIGNED' });
      const third = await seatCheckOf(t, key, users[2]!);
      expect(third).toMatchObject({ valid: true, code: 'USER_LIMIT_EXCEEDED', seat: 'WARN USER_LIMIT_EXCEEDED' });
      expect(third.detail).toContain('seat 3 of 3');
      expect(third.detail).toContain('ALWAYS');
    });

    it('warns the users past the limit within the PERCENT allowance, still valid', async () => {
      const t = server();
      // 2 users and 50 %: a ceiling of 3.
      const { key, licenseId } = await withSeats(t, { limits: { namedUsers: 2 }, overage: { policy: 'PERCENT', percent: 50 } });
      expect(await seatCheckOf(t, key, users[0]!)).toMatchObject({ valid: true, seat: 'PASS SEAT_ASSIGNED' });
      expect(await seatCheckOf(t, key, users[1]!)).toMatchObject({ valid: true, seat: 'PASS SEAT_ASSIGNED' });
      expect(await seatCheckOf(t, key, users[2]!)).toMatchObject({
        valid: true,
        code: 'USER_LIMIT_EXCEEDED',
        seat: 'WARN USER_LIMIT_EXCEEDED',
      });
      // A fourth is past the ceiling: not assigned.
      expect((await t.ok(AssignSeatDocument, { licenseId, userId: 'u4@example.com' })).assignSeat.outcome).toBe('NO_SEAT_AVAILABLE');
    });

    it('fails the users past the limit under NONE (the limit lowered under them), and re-ranks when a seat is released', async () => {
      const t = server();
      const { key, licenseId, seats } = await withSeats(t, { limits: { namedUsers: 3 }, overage: { policy: 'NONE' } });
      for (const user of users) expect(await seatCheckOf(t, key, user)).toMatchObject({ valid: true, seat: 'PASS SEAT_ASSIGNED' });

      expect(await sqlRun(t, 'update license set named_users = ? where id = ?', [1, licenseId])).toBe(1);
      expect(await seatCheckOf(t, key, users[0]!)).toMatchObject({ valid: true, code: 'VALID', seat: 'PASS SEAT_ASSIGNED' });
      for (const [i, user] of [users[1]!, users[2]!].entries()) {
        const past = await seatCheckOf(t, key, user);
        expect(past).toMatchObject({ valid: false, code: 'USER_LIMIT_EXCEEDED', seat: 'FAIL USER_LIMIT_EXCEEDED' });
        expect(past.detail).toContain(`seat ${i + 2} of 3, past the limit of 1 named users`);
      }

      // With the first seat released, the second user's seat is the first: within the limit.
      expect((await t.ok(ReleaseSeatDocument, { seatId: seats[0]! })).releaseSeat.seat.live).toBe(false);
      expect(await seatCheckOf(t, key, users[1]!)).toMatchObject({ valid: true, seat: 'PASS SEAT_ASSIGNED' });
      expect(await seatCheckOf(t, key, users[2]!)).toMatchObject({ valid: false, seat: 'FAIL USER_LIMIT_EXCEEDED' });
      expect(await seatCheckOf(t, key, users[0]!)).toMatchObject({ valid: false, seat: 'FAIL NO_SEAT_ASSIGNED' });
    });
  });
});
