import { ceilingOf, type LimitTerms } from '../../kernel/enforcement';
import { LicenseStatus, LicenseType } from '../../kernel/license.enums';
import { matchSite, type SiteIdentifiers } from './site';
import { CheckOutcome, type ValidationCheck, ValidationCheckKind as Kind, ValidationCode as Code } from './validation.types';

const DAY_MS = 86_400_000;

/** The facts about a license that validation weighs, read in as few statements as possible. */
export interface LicenseFacts {
  type: LicenseType;
  status: LicenseStatus;
  startsAt: Date;
  expiresAt: Date | null;
  gracePeriodDays: number;
  site: SiteIdentifiers;
  /** Whether the named user holds a live seat; undefined when not asked. */
  seatHeld?: boolean;
  /**
   * Where the user's seat stands among the license's live seats, in the order assigned (1 is the first), of how
   * many, against which limit: seats past the limit are within it only as far as the overage policy allows.
   */
  seatRank?: { rank: number; total: number; terms: LimitTerms };
  /** Whether the fingerprint holds a live lease; undefined when not asked. */
  leaseLive?: boolean;
  /** The requested feature: null when the product has no such feature. */
  feature?: { key: string; tier: 'CORE' | 'PREMIUM'; entitled: boolean } | null;
}

export interface ValidationRequest {
  fingerprint?: string | null;
  user?: string | null;
  feature?: string | null;
  site?: string | null;
  /** The client's clock, to compare with the server's. */
  clientTime?: Date | null;
}

/** A client clock further off than this draws a warning. */
export const CLOCK_DRIFT_WARNING_MS = 5 * 60_000;
/** A client clock further off than this is taken for tampering. */
export const CLOCK_TAMPERING_MS = 24 * 3_600_000;

function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  return minutes < 120 ? `${minutes} min` : `${(ms / 3_600_000).toFixed(1)} h`;
}

/**
 * The client's clock against the server's: within 5 minutes it passes, beyond it warns, beyond 24 hours, or behind
 * the clock the same client sent before (`previous`, from its last heartbeat), it fails as tampering: a clock set
 * back is how time-limited licenses are stretched.
 */
export function clockCheck(clientTime: Date, now: Date, previous?: Date | null): ValidationCheck {
  if (previous && clientTime < previous) {
    return check(
      Kind.CLOCK,
      CheckOutcome.FAIL,
      Code.CLOCK_TAMPERING,
      `The client clock went back ${duration(previous.getTime() - clientTime.getTime())}, from ${previous.toISOString()} to ${clientTime.toISOString()}.`,
    );
  }
  const drift = clientTime.getTime() - now.getTime();
  const off = `${duration(Math.abs(drift))} ${drift < 0 ? 'behind' : 'ahead of'} the server's`;
  if (Math.abs(drift) > CLOCK_TAMPERING_MS)
    return check(Kind.CLOCK, CheckOutcome.FAIL, Code.CLOCK_TAMPERING, `The client clock is ${off}.`);
  if (Math.abs(drift) > CLOCK_DRIFT_WARNING_MS)
    return check(Kind.CLOCK, CheckOutcome.WARN, Code.CLOCK_DRIFT, `The client clock is ${off}.`);
  return check(Kind.CLOCK, CheckOutcome.PASS, Code.CLOCK_IN_SYNC, "The client clock is within 5 minutes of the server's.");
}

function seatCheck(user: string, seat: NonNullable<LicenseFacts['seatRank']>): ValidationCheck {
  const { rank, total, terms } = seat;
  if (terms.limit === null || rank <= terms.limit) return check(Kind.SEAT, CheckOutcome.PASS, Code.SEAT_ASSIGNED, `${user} holds a seat.`);
  const ceiling = ceilingOf(terms);
  const where = `${user} holds seat ${rank} of ${total}, past the limit of ${terms.limit} named users`;
  return ceiling === null || rank <= ceiling
    ? check(Kind.SEAT, CheckOutcome.WARN, Code.USER_LIMIT_EXCEEDED, `${where}: allowed by the ${terms.policy} overage policy.`)
    : check(
        Kind.SEAT,
        CheckOutcome.FAIL,
        Code.USER_LIMIT_EXCEEDED,
        `${where}${ceiling > terms.limit ? ` and the ${ceiling} the overage policy allows` : ''}.`,
      );
}

export function graceEndsAt(expiresAt: Date | null, gracePeriodDays: number): Date | null {
  return expiresAt ? new Date(expiresAt.getTime() + gracePeriodDays * DAY_MS) : null;
}

const check = (kind: Kind, outcome: CheckOutcome, code: Code, detail: string): ValidationCheck => ({
  check: kind,
  outcome,
  code,
  detail,
});

function statusCheck(status: LicenseStatus): ValidationCheck {
  switch (status) {
    case LicenseStatus.ACTIVE:
      return check(Kind.STATUS, CheckOutcome.PASS, Code.ACTIVE, 'The license is active.');
    case LicenseStatus.SUSPENDED:
      return check(Kind.STATUS, CheckOutcome.FAIL, Code.SUSPENDED, 'The license is suspended.');
    case LicenseStatus.REVOKED:
      return check(Kind.STATUS, CheckOutcome.FAIL, Code.REVOKED, 'The license was revoked.');
    case LicenseStatus.EXPIRED:
      return check(Kind.STATUS, CheckOutcome.FAIL, Code.EXPIRED, 'The license has expired.');
  }
}

function termCheck(facts: LicenseFacts, now: Date): ValidationCheck {
  if (now < facts.startsAt) {
    return check(Kind.TERM, CheckOutcome.FAIL, Code.NOT_YET_VALID, `The term starts at ${facts.startsAt.toISOString()}.`);
  }
  if (!facts.expiresAt) return check(Kind.TERM, CheckOutcome.PASS, Code.WITHIN_TERM, 'The license is perpetual.');
  if (now < facts.expiresAt) {
    return check(Kind.TERM, CheckOutcome.PASS, Code.WITHIN_TERM, `The term ends at ${facts.expiresAt.toISOString()}.`);
  }
  const graceEnd = graceEndsAt(facts.expiresAt, facts.gracePeriodDays)!;
  if (now < graceEnd) {
    return check(
      Kind.TERM,
      CheckOutcome.WARN,
      Code.IN_GRACE_PERIOD,
      `The term ended at ${facts.expiresAt.toISOString()}; the grace period lasts until ${graceEnd.toISOString()}.`,
    );
  }
  return check(Kind.TERM, CheckOutcome.FAIL, Code.EXPIRED, `The term ended at ${facts.expiresAt.toISOString()}.`);
}

/**
 * Runs every check that applies to the license and the request, and returns them all, not only the first
 * failure: a client (or a person reading its logs) learns everything that stands in its way at once.
 */
export function evaluate(facts: LicenseFacts, request: ValidationRequest, now: Date): ValidationCheck[] {
  const checks = [statusCheck(facts.status), termCheck(facts, now)];

  if (facts.type === LicenseType.USER) {
    if (!request.user) {
      checks.push(check(Kind.SEAT, CheckOutcome.FAIL, Code.USER_REQUIRED, 'A USER license validates for a named user: pass `user`.'));
    } else if (facts.seatHeld && facts.seatRank) {
      checks.push(seatCheck(request.user, facts.seatRank));
    } else if (facts.seatHeld) {
      checks.push(check(Kind.SEAT, CheckOutcome.PASS, Code.SEAT_ASSIGNED, `${request.user} holds a seat.`));
    } else {
      checks.push(check(Kind.SEAT, CheckOutcome.FAIL, Code.NO_SEAT_ASSIGNED, `${request.user} holds no seat on this license.`));
    }
  }

  if (facts.type === LicenseType.CONCURRENT && request.fingerprint) {
    checks.push(
      facts.leaseLive
        ? check(Kind.LEASE, CheckOutcome.PASS, Code.LEASE_ACTIVE, `Fingerprint ${request.fingerprint} holds a live lease.`)
        : check(
            Kind.LEASE,
            CheckOutcome.FAIL,
            Code.NO_ACTIVE_LEASE,
            `Fingerprint ${request.fingerprint} holds no live lease: check a seat out.`,
          ),
    );
  }

  if (request.feature) {
    const feature = facts.feature;
    if (!feature) {
      checks.push(check(Kind.FEATURE, CheckOutcome.FAIL, Code.FEATURE_UNKNOWN, `The product has no feature "${request.feature}".`));
    } else if (feature.tier === 'CORE') {
      checks.push(check(Kind.FEATURE, CheckOutcome.PASS, Code.FEATURE_ENTITLED, `"${feature.key}" is a core feature of the product.`));
    } else if (feature.entitled) {
      checks.push(
        check(Kind.FEATURE, CheckOutcome.PASS, Code.FEATURE_ENTITLED, `The license entitles the premium feature "${feature.key}".`),
      );
    } else {
      checks.push(
        check(
          Kind.FEATURE,
          CheckOutcome.FAIL,
          Code.FEATURE_NOT_ENTITLED,
          `The license does not entitle the premium feature "${feature.key}".`,
        ),
      );
    }
  }

  if (facts.type === LicenseType.SITE) {
    // A user's e-mail address places it in the site when no site identifier is given.
    const presented = request.site ?? (request.user?.includes('@') ? request.user : null);
    if (!presented) {
      checks.push(
        check(
          Kind.SITE,
          CheckOutcome.FAIL,
          Code.SITE_REQUIRED,
          'A SITE license validates within its site: pass `site` (an IP address or e-mail domain).',
        ),
      );
    } else {
      const match = matchSite(facts.site, presented);
      checks.push(
        match.matched
          ? check(Kind.SITE, CheckOutcome.PASS, Code.SITE_MATCHED, `Within the site: ${match.by}.`)
          : check(Kind.SITE, CheckOutcome.FAIL, Code.SITE_MISMATCH, `Outside the site: ${match.reason}.`),
      );
    }
  }
  if (request.clientTime) checks.push(clockCheck(request.clientTime, now));
  return checks;
}

/** The verdict of a list of checks: the first failure, else the first warning, else VALID. */
export function verdict(checks: readonly ValidationCheck[]): { valid: boolean; code: Code } {
  const failure = checks.find((c) => c.outcome === CheckOutcome.FAIL);
  if (failure) return { valid: false, code: failure.code };
  const warning = checks.find((c) => c.outcome === CheckOutcome.WARN);
  return { valid: true, code: warning ? warning.code : Code.VALID };
}
