import { LicenseLimits, Overage } from '../catalog/terms.types';
import { ViolationKind, ViolationStatus } from '../compliance/compliance.enums';
import { OVERAGE_KIND, overageSeverity } from '../compliance/enforcement';
import { LicenseType } from '../license/license.enums';
import type { LicenseTerms, PlanPrice, TermedLicense } from '../license/license-terms-store';
import { limitOfMetric, UsageMetric } from '../usage/usage.types';
import { ConflictStrategy, MigrationEffective, MigrationOutcome, SeatFate } from './migration.enums';
import {
  LeaseChange,
  LimitChange,
  MigrationPreview,
  MigrationPrice,
  MigrationTerms,
  PlannedViolation,
  SeatChange,
} from './migration.types';

const DAY_MS = 86_400_000;

/** A license as it is when a migration is planned: what it uses, and which of its violations are active. */
export interface LicenseState {
  license: TermedLicense;
  /** Live named seats, least recently active first. */
  seats: { id: string; userId: string; lastActiveAt: Date }[];
  /** Live leases, oldest heartbeat first. */
  leases: { id: string; fingerprint: string; userId: string | null; lastHeartbeatAt: Date }[];
  storage: number;
  /** API calls in the current period. */
  apiCalls: number;
  /** Active violations (open, acknowledged or waived), with the subject ('' for overages). */
  violations: { id: string; kind: ViolationKind; subject: string; status: ViolationStatus; deadline: Date | null }[];
}

export interface MigrationRequest {
  to: LicenseTerms;
  /** The prices the license pays after: the target plan's, or its own plan's. */
  toPrice: PlanPrice;
  effective: MigrationEffective;
  strategy: ConflictStrategy;
  overageUntil: Date | null;
}

export function termsNode(terms: LicenseTerms): MigrationTerms {
  return Object.assign(new MigrationTerms(), {
    planId: terms.planId,
    type: terms.type,
    limits: Object.assign(new LicenseLimits(), terms.limits),
    overage: Object.assign(new Overage(), terms.overage),
    features: [...terms.features],
    site: { domains: [...terms.site.domains], cidrs: [...terms.site.cidrs] },
  });
}

/** The limit of each metric under some terms. */
export const limitOf = (terms: LicenseTerms, metric: UsageMetric) => limitOfMetric(terms.limits, metric);

/** The price of one term: the price per period, plus the price per seat for each named user or session allowed. */
function pricePerPeriod(price: PlanPrice, terms: LicenseTerms): number | null {
  if (price.pricePerPeriodCents === null && price.pricePerSeatCents === null) return null;
  const seats =
    terms.type === LicenseType.USER ? terms.limits.namedUsers : terms.type === LicenseType.CONCURRENT ? terms.limits.concurrentSessions : 0;
  return (price.pricePerPeriodCents ?? 0) + (price.pricePerSeatCents ?? 0) * (seats ?? 0);
}

/** `amount × numerator / denominator`, rounded half away from zero, exactly (in integers). */
function prorate(amount: number, numerator: number, denominator: number): number {
  const product = BigInt(Math.abs(amount)) * BigInt(numerator);
  const d = BigInt(denominator);
  const rounded = (product * 2n + d) / (2n * d);
  return Number(rounded) * Math.sign(amount);
}

function price(license: TermedLicense, request: MigrationRequest, now: Date): MigrationPrice {
  const before = pricePerPeriod(license.price, license.terms);
  const after = pricePerPeriod(request.toPrice, request.to);
  const comparable = before !== null && after !== null && license.price.currency === request.toPrice.currency;
  const difference = comparable ? after - before : null;
  let remainingFraction: number | null = null;
  let prorationCents: number | null = null;
  if (difference !== null && license.expiresAt && license.termDays) {
    if (request.effective === MigrationEffective.AT_RENEWAL) {
      remainingFraction = 0;
      prorationCents = 0;
    } else {
      // Milliseconds of the current term left, of the term's length: what the change is worth until it renews.
      const termMs = license.termDays * DAY_MS;
      const remainingMs = Math.min(termMs, Math.max(0, license.expiresAt.getTime() - now.getTime()));
      remainingFraction = remainingMs / termMs;
      prorationCents = prorate(difference, remainingMs, termMs);
    }
  }
  return Object.assign(new MigrationPrice(), {
    currency: request.toPrice.currency,
    termDays: license.termDays,
    perPeriodBefore: before,
    perPeriodAfter: after,
    differencePerPeriod: difference,
    prorationCents,
    remainingFraction,
  });
}

/**
 * Plans a migration against the license as it is: what it gains and loses, what is over the new limits, and what the
 * strategy does with it, seat by seat and lease by lease. The service applies exactly this plan, in the transaction
 * it was made in; only the alerts it would raise are added by the service (they depend on the alert rules).
 *
 * Type changes: a license leaving USER releases its named seats, one leaving CONCURRENT ends its leases (the new type
 * has none); CONCURRENT → USER gives the users of its leases named seats, most recently active first.
 */
export function planMigration(state: LicenseState, request: MigrationRequest, now: Date): MigrationPreview {
  const { license } = state;
  const from = license.terms;
  const { to, strategy } = request;
  const allowUntil = strategy === ConflictStrategy.ALLOW_OVERAGE_UNTIL ? request.overageUntil : null;

  // Named users and sessions as the new type counts them, before anything is freed.
  const seatsReleased: SeatChange[] = [];
  const leasesEnded: LeaseChange[] = [];
  let seatsAssigned: string[] = [];
  const seat = (s: LicenseState['seats'][number], fate: SeatFate) =>
    Object.assign(new SeatChange(), { seatId: s.id, userId: s.userId, lastActiveAt: s.lastActiveAt, fate });
  const lease = (l: LicenseState['leases'][number], fate: SeatFate) =>
    Object.assign(new LeaseChange(), {
      leaseId: l.id,
      fingerprint: l.fingerprint,
      userId: l.userId,
      lastHeartbeatAt: l.lastHeartbeatAt,
      fate,
    });

  let keptSeats = to.type === LicenseType.USER ? [...state.seats] : [];
  if (to.type !== LicenseType.USER) seatsReleased.push(...state.seats.map((s) => seat(s, SeatFate.TYPE_CHANGE)));
  let keptLeases = to.type === LicenseType.CONCURRENT ? [...state.leases] : [];
  if (to.type !== LicenseType.CONCURRENT) leasesEnded.push(...state.leases.map((l) => lease(l, SeatFate.TYPE_CHANGE)));
  if (from.type === LicenseType.CONCURRENT && to.type === LicenseType.USER) {
    const held = new Set(state.seats.map((s) => s.userId));
    const users: string[] = [];
    for (const l of [...state.leases].reverse()) if (l.userId && !held.has(l.userId) && !users.includes(l.userId)) users.push(l.userId);
    seatsAssigned = users;
  }

  const used: Record<UsageMetric, number> = {
    [UsageMetric.ACTIVE_USERS]: keptSeats.length + seatsAssigned.length,
    [UsageMetric.CONCURRENT_SESSIONS]: keptLeases.length,
    [UsageMetric.STORAGE_BYTES]: state.storage,
    [UsageMetric.API_CALLS]: state.apiCalls,
  };
  const limits = Object.values(UsageMetric).map((metric) => {
    const after = limitOf(to, metric);
    return Object.assign(new LimitChange(), {
      metric,
      before: limitOf(from, metric),
      after,
      used: used[metric],
      over: after === null ? 0 : Math.max(0, used[metric] - after),
      usedAfter: used[metric],
    });
  });
  const overOf = (metric: UsageMetric) => limits.find((l) => l.metric === metric)!.over;
  const conflicts = limits.some((l) => l.over > 0);
  // A migration at renewal waits whatever is over now: REJECT decides on what is over then.
  const outcome =
    request.effective === MigrationEffective.AT_RENEWAL
      ? MigrationOutcome.SCHEDULED
      : strategy === ConflictStrategy.REJECT && conflicts
        ? MigrationOutcome.REJECTED
        : MigrationOutcome.APPLIED;

  const final = { ...used };
  const violationsOpened: PlannedViolation[] = [];
  if (outcome !== MigrationOutcome.REJECTED) {
    if (strategy === ConflictStrategy.RELEASE_LEAST_ACTIVE) {
      const usersOver = overOf(UsageMetric.ACTIVE_USERS);
      // Users given seats from leases are the most recently active: those left out are the least.
      const unassigned = Math.min(usersOver, seatsAssigned.length);
      seatsAssigned = seatsAssigned.slice(0, seatsAssigned.length - unassigned);
      const released = keptSeats.slice(0, usersOver - unassigned);
      keptSeats = keptSeats.slice(released.length);
      seatsReleased.push(...released.map((s) => seat(s, SeatFate.OVER_LIMIT)));
      const ended = keptLeases.slice(0, overOf(UsageMetric.CONCURRENT_SESSIONS));
      keptLeases = keptLeases.slice(ended.length);
      leasesEnded.push(...ended.map((l) => lease(l, SeatFate.OVER_LIMIT)));
      final[UsageMetric.ACTIVE_USERS] = keptSeats.length + seatsAssigned.length;
      final[UsageMetric.CONCURRENT_SESSIONS] = keptLeases.length;
      for (const change of limits) change.usedAfter = final[change.metric];
    }
    // What is still over (storage and API calls cannot be freed; everything under ALLOW_OVERAGE_UNTIL) is a violation;
    // REJECT never keeps anything over (at renewal it refuses then).
    for (const metric of strategy === ConflictStrategy.REJECT ? [] : Object.values(UsageMetric)) {
      const limit = limitOf(to, metric);
      if (limit === null || final[metric] <= limit) continue;
      const kind = OVERAGE_KIND[metric];
      const existing = state.violations.find((v) => v.kind === kind && v.subject === '');
      violationsOpened.push(
        Object.assign(new PlannedViolation(), {
          kind,
          metric,
          value: final[metric],
          limit,
          severity: overageSeverity(final[metric], limit),
          // An open violation keeps the deadline it has unless this migration sets one.
          deadline: allowUntil ?? existing?.deadline ?? null,
          existingViolationId: existing?.id ?? null,
        }),
      );
    }
  }
  // Open overages that the new limits and what is freed clear, resolved at once (waived ones stay waived).
  const violationsResolved =
    outcome === MigrationOutcome.APPLIED
      ? state.violations
          .filter((v) => v.status === ViolationStatus.OPEN || v.status === ViolationStatus.ACKNOWLEDGED)
          .filter((v) => {
            const metric = Object.values(UsageMetric).find((m) => OVERAGE_KIND[m] === v.kind);
            if (!metric) return false;
            const limit = limitOf(to, metric);
            return limit === null || final[metric] <= limit;
          })
          .map((v) => v.id)
      : [];

  const applies = outcome === MigrationOutcome.APPLIED;
  return Object.assign(new MigrationPreview(), {
    licenseId: license.id,
    effective: request.effective,
    strategy,
    overageUntil: allowUntil,
    effectiveAt: request.effective === MigrationEffective.NOW ? now : license.expiresAt,
    outcome,
    from: termsNode(from),
    to: termsNode(to),
    featuresGained: to.features.filter((f) => !from.features.includes(f)),
    featuresLost: from.features.filter((f) => !to.features.includes(f)),
    limits,
    conflicts,
    seatsReleased: applies || outcome === MigrationOutcome.SCHEDULED ? seatsReleased : [],
    seatsAssigned: applies || outcome === MigrationOutcome.SCHEDULED ? seatsAssigned : [],
    leasesEnded: applies || outcome === MigrationOutcome.SCHEDULED ? leasesEnded : [],
    violationsOpened,
    violationsResolved,
    alerts: [],
    price: price(license, request, now),
  });
}
