import { describe, expect, it } from 'vitest';
import { LicenseStatus, LicenseType, OveragePolicy } from '../../src/kernel/license.enums';
import { clockCheck, evaluate, graceEndsAt, type LicenseFacts, verdict } from '../../src/modules/license/validation';
import { CheckOutcome, type ValidationCheck, ValidationCheckKind, ValidationCode } from '../../src/modules/license/validation.types';

const DAY_MS = 86_400_000;
const NOW = new Date('2026-06-15T12:00:00.000Z');
const daysFromNow = (days: number) => new Date(NOW.getTime() + days * DAY_MS);

function facts(overrides: Partial<LicenseFacts> = {}): LicenseFacts {
  return {
    type: LicenseType.SUBSCRIPTION,
    status: LicenseStatus.ACTIVE,
    startsAt: daysFromNow(-30),
    expiresAt: daysFromNow(335),
    gracePeriodDays: 7,
    site: { domains: ['example.com'], cidrs: ['10.20.0.0/16'] },
    ...overrides,
  };
}

/** The checks as `KIND OUTCOME CODE`, to compare whole lists at a glance. */
const summary = (checks: ValidationCheck[]) => checks.map((c) => `${c.check} ${c.outcome} ${c.code}`);
const only = (checks: ValidationCheck[], kind: ValidationCheckKind) => checks.filter((c) => c.check === kind);

describe('evaluate: status', () => {
  it.each([
    [LicenseStatus.ACTIVE, CheckOutcome.PASS, ValidationCode.ACTIVE],
    [LicenseStatus.SUSPENDED, CheckOutcome.FAIL, ValidationCode.SUSPENDED],
    [LicenseStatus.REVOKED, CheckOutcome.FAIL, ValidationCode.REVOKED],
    [LicenseStatus.EXPIRED, CheckOutcome.FAIL, ValidationCode.EXPIRED],
  ])('reports a %s license as %s %s, beside the term', (status, outcome, code) => {
    const checks = evaluate(facts({ status }), {}, NOW);
    expect(summary(checks)).toEqual([`STATUS ${outcome} ${code}`, 'TERM PASS WITHIN_TERM']);
    expect(checks[0]!.detail).not.toBe('');
  });
});

describe('evaluate: term', () => {
  it('is within the term between its start and its end', () => {
    const [, term] = evaluate(facts(), {}, NOW);
    expect(term).toEqual({
      check: ValidationCheckKind.TERM,
      outcome: CheckOutcome.PASS,
      code: ValidationCode.WITHIN_TERM,
      detail: `The term ends at ${daysFromNow(335).toISOString()}.`,
    });
  });

  it('is within the term from the very millisecond it starts', () => {
    expect(evaluate(facts({ startsAt: NOW }), {}, NOW)[1]!.code).toBe(ValidationCode.WITHIN_TERM);
  });

  it('is not yet valid before the start, naming the start', () => {
    const [, term] = evaluate(facts({ startsAt: daysFromNow(1) }), {}, NOW);
    expect(term).toMatchObject({ outcome: CheckOutcome.FAIL, code: ValidationCode.NOT_YET_VALID });
    expect(term!.detail).toContain(daysFromNow(1).toISOString());
  });

  it('never ends for a perpetual license', () => {
    const [, term] = evaluate(facts({ expiresAt: null }), {}, new Date('2100-01-01T00:00:00Z'));
    expect(term).toMatchObject({ outcome: CheckOutcome.PASS, code: ValidationCode.WITHIN_TERM, detail: 'The license is perpetual.' });
  });

  it('warns within the grace period after the end, naming when the grace ends', () => {
    const expiresAt = daysFromNow(-2);
    const [, term] = evaluate(facts({ expiresAt, gracePeriodDays: 7 }), {}, NOW);
    expect(term).toMatchObject({ outcome: CheckOutcome.WARN, code: ValidationCode.IN_GRACE_PERIOD });
    expect(term!.detail).toContain(new Date(expiresAt.getTime() + 7 * DAY_MS).toISOString());
  });

  it('is in its grace period at the very millisecond the term ends', () => {
    expect(evaluate(facts({ expiresAt: NOW }), {}, NOW)[1]!.code).toBe(ValidationCode.IN_GRACE_PERIOD);
  });

  it('has expired once the grace period is over', () => {
    const [, term] = evaluate(facts({ expiresAt: daysFromNow(-7), gracePeriodDays: 7 }), {}, NOW);
    expect(term).toMatchObject({ outcome: CheckOutcome.FAIL, code: ValidationCode.EXPIRED });
    expect(evaluate(facts({ expiresAt: daysFromNow(-30), gracePeriodDays: 7 }), {}, NOW)[1]!.code).toBe(ValidationCode.EXPIRED);
  });

  it('expires at the end of the term when there is no grace period', () => {
    expect(evaluate(facts({ expiresAt: new Date(NOW.getTime() - 1), gracePeriodDays: 0 }), {}, NOW)[1]!.code).toBe(ValidationCode.EXPIRED);
    expect(evaluate(facts({ expiresAt: new Date(NOW.getTime() + 1), gracePeriodDays: 0 }), {}, NOW)[1]!.code).toBe(
      ValidationCode.WITHIN_TERM,
    );
  });
});

describe('graceEndsAt', () => {
  it('adds the grace period to the end of the term, and is null without an end', () => {
    expect(graceEndsAt(NOW, 7)).toEqual(daysFromNow(7));
    expect(graceEndsAt(NOW, 0)).toEqual(NOW);
    expect(graceEndsAt(null, 7)).toBeNull();
  });
});

describe('evaluate: named seats (USER)', () => {
  const user = facts({ type: LicenseType.USER });

  it('requires a user', () => {
    const seat = only(evaluate(user, {}, NOW), ValidationCheckKind.SEAT);
    expect(seat).toMatchObject([{ outcome: CheckOutcome.FAIL, code: ValidationCode.USER_REQUIRED }]);
  });

  it('fails a user without a seat, naming the user', () => {
    const seat = only(evaluate({ ...user, seatHeld: false }, { user: 'ada@example.com' }, NOW), ValidationCheckKind.SEAT);
    expect(seat).toEqual([
      {
        check: ValidationCheckKind.SEAT,
        outcome: CheckOutcome.FAIL,
        code: ValidationCode.NO_SEAT_ASSIGNED,
        detail: 'ada@example.com holds no seat on this license.',
      },
    ]);
  });

  it('fails a user whose seat was never looked up', () => {
    expect(only(evaluate(user, { user: 'ada' }, NOW), ValidationCheckKind.SEAT)[0]!.code).toBe(ValidationCode.NO_SEAT_ASSIGNED);
  });

  it('passes a user holding a seat', () => {
    const checks = evaluate({ ...user, seatHeld: true }, { user: 'ada' }, NOW);
    expect(summary(checks)).toEqual(['STATUS PASS ACTIVE', 'TERM PASS WITHIN_TERM', 'SEAT PASS SEAT_ASSIGNED']);
  });

  it('checks no seat on other types of license', () => {
    for (const type of [LicenseType.SUBSCRIPTION, LicenseType.CONCURRENT, LicenseType.SITE, LicenseType.FEATURE]) {
      expect(only(evaluate(facts({ type, seatHeld: false }), { user: 'ada@example.com' }, NOW), ValidationCheckKind.SEAT)).toEqual([]);
    }
  });
});

describe('evaluate: concurrent leases (CONCURRENT)', () => {
  const concurrent = facts({ type: LicenseType.CONCURRENT });

  it('checks no lease when no fingerprint is given', () => {
    expect(summary(evaluate(concurrent, {}, NOW))).toEqual(['STATUS PASS ACTIVE', 'TERM PASS WITHIN_TERM']);
  });

  it('fails a fingerprint without a live lease', () => {
    const lease = only(evaluate({ ...concurrent, leaseLive: false }, { fingerprint: 'host-1' }, NOW), ValidationCheckKind.LEASE);
    expect(lease).toMatchObject([{ outcome: CheckOutcome.FAIL, code: ValidationCode.NO_ACTIVE_LEASE }]);
    expect(lease[0]!.detail).toContain('host-1');
  });

  it('passes a fingerprint holding a live lease', () => {
    const lease = only(evaluate({ ...concurrent, leaseLive: true }, { fingerprint: 'host-1' }, NOW), ValidationCheckKind.LEASE);
    expect(lease).toMatchObject([{ outcome: CheckOutcome.PASS, code: ValidationCode.LEASE_ACTIVE }]);
  });

  it('checks no lease on other types of license', () => {
    expect(only(evaluate(facts({ leaseLive: false }), { fingerprint: 'host-1' }, NOW), ValidationCheckKind.LEASE)).toEqual([]);
  });
});

describe('evaluate: features', () => {
  it('checks no feature when none is asked for', () => {
    expect(only(evaluate(facts(), {}, NOW), ValidationCheckKind.FEATURE)).toEqual([]);
  });

  it('entitles a core feature whether or not the license lists it', () => {
    const checks = evaluate(
      facts({ feature: { key: 'core.inference', tier: 'CORE', entitled: false } }),
      { feature: 'core.inference' },
      NOW,
    );
    expect(only(checks, ValidationCheckKind.FEATURE)).toMatchObject([
      { outcome: CheckOutcome.PASS, code: ValidationCode.FEATURE_ENTITLED },
    ]);
  });

  it('entitles a premium feature the license lists', () => {
    const checks = evaluate(
      facts({ feature: { key: 'premium.analytics', tier: 'PREMIUM', entitled: true } }),
      { feature: 'premium.analytics' },
      NOW,
    );
    expect(only(checks, ValidationCheckKind.FEATURE)).toMatchObject([
      { outcome: CheckOutcome.PASS, code: ValidationCode.FEATURE_ENTITLED },
    ]);
  });

  it('refuses a premium feature the license does not list', () => {
    const checks = evaluate(facts({ feature: { key: 'premium.sso', tier: 'PREMIUM', entitled: false } }), { feature: 'premium.sso' }, NOW);
    expect(only(checks, ValidationCheckKind.FEATURE)).toMatchObject([
      { outcome: CheckOutcome.FAIL, code: ValidationCode.FEATURE_NOT_ENTITLED },
    ]);
    expect(checks.at(-1)!.detail).toContain('premium.sso');
  });

  it('reports a feature the product does not have as unknown', () => {
    const checks = evaluate(facts({ feature: null }), { feature: 'no.such.feature' }, NOW);
    expect(only(checks, ValidationCheckKind.FEATURE)).toMatchObject([{ outcome: CheckOutcome.FAIL, code: ValidationCode.FEATURE_UNKNOWN }]);
    expect(checks.at(-1)!.detail).toContain('no.such.feature');
  });
});

describe('evaluate: site (SITE)', () => {
  const siteLicense = facts({ type: LicenseType.SITE });
  const siteCheck = (request: Parameters<typeof evaluate>[1]) => only(evaluate(siteLicense, request, NOW), ValidationCheckKind.SITE);

  it('requires a site, or a user with an e-mail address', () => {
    expect(siteCheck({})).toMatchObject([{ outcome: CheckOutcome.FAIL, code: ValidationCode.SITE_REQUIRED }]);
    expect(siteCheck({ user: 'ada' })).toMatchObject([{ code: ValidationCode.SITE_REQUIRED }]);
  });

  it('matches an address in a range and an e-mail domain, subdomains included', () => {
    expect(siteCheck({ site: '10.20.1.2' })).toMatchObject([{ outcome: CheckOutcome.PASS, code: ValidationCode.SITE_MATCHED }]);
    expect(siteCheck({ site: 'example.com' })).toMatchObject([{ code: ValidationCode.SITE_MATCHED }]);
    expect(siteCheck({ site: 'ada@eu.example.com' })).toMatchObject([{ code: ValidationCode.SITE_MATCHED }]);
  });

  it("places a user in the site by the domain of the user's e-mail address", () => {
    expect(siteCheck({ user: 'ada@example.com' })).toMatchObject([{ code: ValidationCode.SITE_MATCHED }]);
    expect(siteCheck({ user: 'ada@notexample.com' })).toMatchObject([{ code: ValidationCode.SITE_MISMATCH }]);
  });

  it('prefers the site given over the e-mail address of the user', () => {
    expect(siteCheck({ site: '10.99.0.1', user: 'ada@example.com' })).toMatchObject([{ code: ValidationCode.SITE_MISMATCH }]);
    expect(siteCheck({ site: '10.20.0.1', user: 'ada@evil.org' })).toMatchObject([{ code: ValidationCode.SITE_MATCHED }]);
  });

  it('fails what is outside the site, saying why', () => {
    const [mismatch] = siteCheck({ site: '10.21.0.1' });
    expect(mismatch).toMatchObject({ outcome: CheckOutcome.FAIL, code: ValidationCode.SITE_MISMATCH });
    expect(mismatch!.detail).toContain('10.21.0.1');
    expect(siteCheck({ site: 'ada@notexample.com' })).toMatchObject([{ code: ValidationCode.SITE_MISMATCH }]);
  });

  it('checks no site on other types of license', () => {
    expect(only(evaluate(facts(), { site: '10.99.0.1' }, NOW), ValidationCheckKind.SITE)).toEqual([]);
  });
});

describe('evaluate: every check at once', () => {
  it('reports every failure in a fixed order: status, term, seat, feature, site', () => {
    const checks = evaluate(
      facts({ type: LicenseType.SITE, status: LicenseStatus.SUSPENDED, expiresAt: daysFromNow(-30), feature: null }),
      { feature: 'no.such.feature', site: '192.0.2.1' },
      NOW,
    );
    expect(summary(checks)).toEqual([
      'STATUS FAIL SUSPENDED',
      'TERM FAIL EXPIRED',
      'FEATURE FAIL FEATURE_UNKNOWN',
      'SITE FAIL SITE_MISMATCH',
    ]);
  });

  it('reports a USER license failing its status, its seat and its feature together', () => {
    const checks = evaluate(
      facts({
        type: LicenseType.USER,
        status: LicenseStatus.REVOKED,
        seatHeld: false,
        feature: { key: 'p', tier: 'PREMIUM', entitled: false },
      }),
      { user: 'ada', feature: 'p' },
      NOW,
    );
    expect(summary(checks)).toEqual([
      'STATUS FAIL REVOKED',
      'TERM PASS WITHIN_TERM',
      'SEAT FAIL NO_SEAT_ASSIGNED',
      'FEATURE FAIL FEATURE_NOT_ENTITLED',
    ]);
  });

  it('reports the lease before the feature on a CONCURRENT license', () => {
    const checks = evaluate(
      facts({ type: LicenseType.CONCURRENT, leaseLive: false, feature: { key: 'c', tier: 'CORE', entitled: false } }),
      { fingerprint: 'host-1', feature: 'c' },
      NOW,
    );
    expect(summary(checks)).toEqual([
      'STATUS PASS ACTIVE',
      'TERM PASS WITHIN_TERM',
      'LEASE FAIL NO_ACTIVE_LEASE',
      'FEATURE PASS FEATURE_ENTITLED',
    ]);
  });
});

describe('verdict', () => {
  const pass = (code: ValidationCode) => ({ check: ValidationCheckKind.STATUS, outcome: CheckOutcome.PASS, code, detail: '' });
  const warn = (code: ValidationCode) => ({ check: ValidationCheckKind.TERM, outcome: CheckOutcome.WARN, code, detail: '' });
  const fail = (code: ValidationCode) => ({ check: ValidationCheckKind.SITE, outcome: CheckOutcome.FAIL, code, detail: '' });

  it('is VALID when every check passes, or when there is none', () => {
    expect(verdict([pass(ValidationCode.ACTIVE), pass(ValidationCode.WITHIN_TERM)])).toEqual({ valid: true, code: ValidationCode.VALID });
    expect(verdict([])).toEqual({ valid: true, code: ValidationCode.VALID });
  });

  it('is valid with the first warning when nothing fails', () => {
    expect(verdict([pass(ValidationCode.ACTIVE), warn(ValidationCode.IN_GRACE_PERIOD), pass(ValidationCode.SEAT_ASSIGNED)])).toEqual({
      valid: true,
      code: ValidationCode.IN_GRACE_PERIOD,
    });
  });

  it('is invalid with the first failure, even after a warning', () => {
    const checks = [
      pass(ValidationCode.ACTIVE),
      warn(ValidationCode.IN_GRACE_PERIOD),
      fail(ValidationCode.FEATURE_NOT_ENTITLED),
      fail(ValidationCode.SITE_MISMATCH),
    ];
    expect(verdict(checks)).toEqual({ valid: false, code: ValidationCode.FEATURE_NOT_ENTITLED });
  });

  it('takes the failure that comes first, not the most severe', () => {
    expect(verdict([fail(ValidationCode.SITE_MISMATCH), fail(ValidationCode.REVOKED)]).code).toBe(ValidationCode.SITE_MISMATCH);
  });

  it('follows evaluate: a suspended license in its grace period fails as SUSPENDED', () => {
    const checks = evaluate(facts({ status: LicenseStatus.SUSPENDED, expiresAt: daysFromNow(-1) }), {}, NOW);
    expect(summary(checks)).toEqual(['STATUS FAIL SUSPENDED', 'TERM WARN IN_GRACE_PERIOD']);
    expect(verdict(checks)).toEqual({ valid: false, code: ValidationCode.SUSPENDED });
  });

  it('follows evaluate: a license in its grace period with a seat is valid with IN_GRACE_PERIOD', () => {
    const checks = evaluate(facts({ type: LicenseType.USER, expiresAt: daysFromNow(-1), seatHeld: true }), { user: 'ada' }, NOW);
    expect(verdict(checks)).toEqual({ valid: true, code: ValidationCode.IN_GRACE_PERIOD });
  });
});

const NONE_OF_2 = { limit: 2, policy: OveragePolicy.NONE, percent: null };

describe('evaluate: the client clock', () => {
  const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000);

  it.each([
    [0, CheckOutcome.PASS, ValidationCode.CLOCK_IN_SYNC],
    [3, CheckOutcome.PASS, ValidationCode.CLOCK_IN_SYNC],
    [-5, CheckOutcome.PASS, ValidationCode.CLOCK_IN_SYNC],
    [-5.01, CheckOutcome.WARN, ValidationCode.CLOCK_DRIFT],
    [10, CheckOutcome.WARN, ValidationCode.CLOCK_DRIFT],
    [24 * 60, CheckOutcome.WARN, ValidationCode.CLOCK_DRIFT],
    [24 * 60 + 1, CheckOutcome.FAIL, ValidationCode.CLOCK_TAMPERING],
    [-25 * 60, CheckOutcome.FAIL, ValidationCode.CLOCK_TAMPERING],
  ])('a clock %s minutes off: %s %s', (minutes, outcome, code) => {
    expect(clockCheck(at(minutes), NOW)).toMatchObject({ check: ValidationCheckKind.CLOCK, outcome, code });
  });

  it('fails a clock that went back since the last one the client sent, however little', () => {
    const check = clockCheck(at(-1), NOW, at(0));
    expect(check).toMatchObject({ outcome: CheckOutcome.FAIL, code: ValidationCode.CLOCK_TAMPERING });
    expect(check.detail).toContain('went back 1 min');
    expect(clockCheck(at(1), NOW, at(0)).code).toBe(ValidationCode.CLOCK_IN_SYNC);
  });

  it('adds the clock check only when the client sends its clock, and a drift is valid with its warning', () => {
    expect(only(evaluate(facts(), {}, NOW), ValidationCheckKind.CLOCK)).toEqual([]);
    const checks = evaluate(facts(), { clientTime: at(10) }, NOW);
    expect(verdict(checks)).toEqual({ valid: true, code: ValidationCode.CLOCK_DRIFT });
    expect(verdict(evaluate(facts(), { clientTime: at(3) }, NOW))).toEqual({ valid: true, code: ValidationCode.VALID });
  });
});

describe('evaluate: a seat past the user limit', () => {
  const seat = (rank: number, total: number, terms: { limit: number | null; policy: OveragePolicy; percent: number | null }) =>
    only(
      evaluate(facts({ type: LicenseType.USER, seatHeld: true, seatRank: { rank, total, terms } }), { user: 'ada' }, NOW),
      ValidationCheckKind.SEAT,
    )[0];

  it('passes the seats within the limit, also when the license is over it', () => {
    expect(seat(2, 3, NONE_OF_2)).toMatchObject({ outcome: CheckOutcome.PASS, code: ValidationCode.SEAT_ASSIGNED });
  });

  it('fails a seat past the limit under NONE, warns within a PERCENT allowance, fails past it, warns under ALWAYS', () => {
    expect(seat(3, 3, NONE_OF_2)).toMatchObject({ outcome: CheckOutcome.FAIL, code: ValidationCode.USER_LIMIT_EXCEEDED });
    const percent = { limit: 10, policy: OveragePolicy.PERCENT, percent: 20 };
    expect(seat(12, 13, percent)).toMatchObject({ outcome: CheckOutcome.WARN, code: ValidationCode.USER_LIMIT_EXCEEDED });
    expect(seat(13, 13, percent)).toMatchObject({ outcome: CheckOutcome.FAIL, code: ValidationCode.USER_LIMIT_EXCEEDED });
    expect(seat(500, 500, { limit: 10, policy: OveragePolicy.ALWAYS, percent: null })).toMatchObject({
      outcome: CheckOutcome.WARN,
      code: ValidationCode.USER_LIMIT_EXCEEDED,
    });
  });
});

describe('every validation code', () => {
  it('is reachable through evaluate and verdict', () => {
    const reached = new Set<ValidationCode>();
    const run = (f: Partial<LicenseFacts>, request: Parameters<typeof evaluate>[1]) => {
      const checks = evaluate(facts(f), request, NOW);
      for (const c of checks) reached.add(c.code);
      reached.add(verdict(checks).code);
    };
    for (const status of Object.values(LicenseStatus)) run({ status }, {});
    run({ startsAt: daysFromNow(1) }, {});
    run({ expiresAt: daysFromNow(-1) }, {});
    run({ type: LicenseType.USER }, {});
    run({ type: LicenseType.USER, seatHeld: false }, { user: 'ada' });
    run({ type: LicenseType.USER, seatHeld: true }, { user: 'ada' });
    run({ type: LicenseType.CONCURRENT, leaseLive: false }, { fingerprint: 'h' });
    run({ type: LicenseType.CONCURRENT, leaseLive: true }, { fingerprint: 'h' });
    run({ feature: { key: 'p', tier: 'PREMIUM', entitled: true } }, { feature: 'p' });
    run({ feature: { key: 'p', tier: 'PREMIUM', entitled: false } }, { feature: 'p' });
    run({ feature: null }, { feature: 'p' });
    run({ type: LicenseType.SITE }, {});
    run({ type: LicenseType.SITE }, { site: '10.20.0.1' });
    run({ type: LicenseType.SITE }, { site: '10.21.0.1' });
    run({ type: LicenseType.USER, seatHeld: true, seatRank: { rank: 3, total: 3, terms: NONE_OF_2 } }, { user: 'ada' });
    for (const minutes of [1, 10, 25 * 60]) run({}, { clientTime: new Date(NOW.getTime() + minutes * 60_000) });
    expect([...reached].sort()).toEqual(Object.values(ValidationCode).sort());
  });
});
