import { LicenseLimits, Overage } from '../catalog/terms.types';
import { ViolationKind, ViolationSeverity, ViolationStatus } from '../../kernel/compliance.enums';
import { ceilingOf, OVERAGE_KIND, overageSeverity } from '../../kernel/enforcement';
import { LicenseType } from '../../kernel/license.enums';
import type { LicenseTerms, PlanPrice } from '../../kernel/license-terms';
import type { TermedLicense } from '../license/license-store';
import { latestTerm } from '../license/term';
import { limitApplies } from '../../kernel/license-types';
import { limitOfMetric, UsageMetric } from '../usage/usage.types';
import { ConflictStrategy, MigrationEffective, MigrationOutcome, MigrationWarningCode, SeatFate } from './migration.enums';
import {
  LeaseChange,
  LimitChange,
  MigrationPreview,
  MigrationPrice,
  MigrationTerms,
  MigrationWarning,
  PlannedViolation,
  SeatChange,
} from './migration.types';

const DAY_MS = 86_400_000;
const SEVERITY_RANK: Record<ViolationSeverity, number> = {
  [ViolationSeverity.LOW]: 1,
  [ViolationSeverity.MEDIUM]: 2,
  [ViolationSeverity.HIGH]: 3,
  [ViolationSeverity.CRITICAL]: 4,
};
const LIMIT_NAME: Record<UsageMetric, string> = {
  [UsageMetric.ACTIVE_USERS]: 'namedUsers',
  [UsageMetric.CONCURRENT_SESSIONS]: 'concurrentSessions',
  [UsageMetric.STORAGE_BYTES]: 'storageBytes',
  [UsageMetric.API_CALLS]: 'apiCallsPerPeriod',
};

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
  violations: {
    id: string;
    kind: ViolationKind;
    subject: string;
    status: ViolationStatus;
    severity: ViolationSeverity;
    deadline: Date | null;
  }[];
}

export interface MigrationRequest {
  to: LicenseTerms;
  /** The prices the license pays after: the target plan's, or its own plan's. */
  toPrice: PlanPrice;
  effective: MigrationEffective;
  strategy: ConflictStrategy;
  overageUntil: Date | null;
  /** The name of the plan the license is on after. */
  toPlanName: string;
}

export function termsNode(terms: LicenseTerms, planName: string): MigrationTerms {
  return Object.assign(new MigrationTerms(), {
    planId: terms.planId,
    planName,
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
  const term = latestTerm(license);
  let remainingFraction: number | null = null;
  let prorationCents: number | null = null;
  if (difference !== null && term) {
    if (request.effective === MigrationEffective.AT_RENEWAL) {
      remainingFraction = 0;
      prorationCents = 0;
    } else {
      // What is left of the license's time, in terms of the length it actually has: a price per term pays for one, and
      // a license renewed ahead has more than one left.
      const remainingMs = Math.max(0, term.endsAt.getTime() - now.getTime());
      remainingFraction = remainingMs / term.lengthMs;
      prorationCents = prorate(difference, remainingMs, term.lengthMs);
    }
  }
  return Object.assign(new MigrationPrice(), {
    currency: request.toPrice.currency,
    currencyBefore: license.price.currency,
    currencyAfter: request.toPrice.currency,
    termDays: term ? Math.round(term.lengthMs / DAY_MS) : null,
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

  const fates = typeChange(state, from, to);
  const used = usageAfterTypeChange(state, fates);
  const limits = Object.values(UsageMetric).map((metric) => limitChange(from, to, metric, used[metric]));
  const conflicts = limits.some((l) => l.over > 0);
  const outcome = outcomeOf(request, conflicts);
  let final = used;
  let violationsOpened: PlannedViolation[] = [];
  if (outcome !== MigrationOutcome.REJECTED) {
    if (strategy === ConflictStrategy.RELEASE_LEAST_ACTIVE) final = releaseOver(fates, limits, used);
    // REJECT never keeps anything over (at renewal it refuses then).
    if (strategy !== ConflictStrategy.REJECT) violationsOpened = violationsOver(state, to, final, allowUntil);
  }
  const listsFates = outcome !== MigrationOutcome.REJECTED;
  const preview = Object.assign(new MigrationPreview(), {
    licenseId: license.id,
    effective: request.effective,
    strategy,
    overageUntil: allowUntil,
    effectiveAt: request.effective === MigrationEffective.NOW ? now : license.expiresAt,
    outcome,
    from: termsNode(from, license.planName),
    to: termsNode(to, request.toPlanName),
    featuresGained: to.features.filter((f) => !from.features.includes(f)),
    featuresLost: from.features.filter((f) => !to.features.includes(f)),
    limits,
    conflicts,
    seatsReleased: listsFates ? fates.seatsReleased : [],
    seatsAssigned: listsFates ? fates.seatsAssigned : [],
    leasesEnded: listsFates ? fates.leasesEnded : [],
    violationsOpened,
    violationsResolved: outcome === MigrationOutcome.APPLIED ? violationsCleared(state, to, final) : [],
    alerts: [],
    warnings: listsFates
      ? [...droppedLimits(from, to), ...overLimitKept(to, final, [...fates.keptSeats].sort(byId), fates.seatsAssigned)]
      : [],
    price: price(license, request, now),
  });
  preview.summary = summarize(preview);
  return preview;
}

/** What becomes of the license's named seats and leases: kept, released, ended, or given to the users of leases. */
interface Fates {
  keptSeats: LicenseState['seats'];
  keptLeases: LicenseState['leases'];
  seatsReleased: SeatChange[];
  leasesEnded: LeaseChange[];
  seatsAssigned: string[];
}

const seatChange = (s: LicenseState['seats'][number], fate: SeatFate) =>
  Object.assign(new SeatChange(), { seatId: s.id, userId: s.userId, lastActiveAt: s.lastActiveAt, fate });

const leaseChange = (l: LicenseState['leases'][number], fate: SeatFate) =>
  Object.assign(new LeaseChange(), {
    leaseId: l.id,
    fingerprint: l.fingerprint,
    userId: l.userId,
    lastHeartbeatAt: l.lastHeartbeatAt,
    fate,
  });

/** The seats and leases the new type has no place for, and (CONCURRENT → USER) the users of leases given seats. */
function typeChange(state: LicenseState, from: LicenseTerms, to: LicenseTerms): Fates {
  const toUser = to.type === LicenseType.USER;
  const toConcurrent = to.type === LicenseType.CONCURRENT;
  const seatsAssigned: string[] = [];
  if (from.type === LicenseType.CONCURRENT && toUser) {
    // Most recently active first: the leases come oldest heartbeat first.
    const held = new Set(state.seats.map((s) => s.userId));
    for (const l of [...state.leases].reverse()) {
      if (l.userId && !held.has(l.userId) && !seatsAssigned.includes(l.userId)) seatsAssigned.push(l.userId);
    }
  }
  return {
    keptSeats: toUser ? [...state.seats] : [],
    keptLeases: toConcurrent ? [...state.leases] : [],
    seatsReleased: toUser ? [] : state.seats.map((s) => seatChange(s, SeatFate.TYPE_CHANGE)),
    leasesEnded: toConcurrent ? [] : state.leases.map((l) => leaseChange(l, SeatFate.TYPE_CHANGE)),
    seatsAssigned,
  };
}

/** What the license uses, named users and sessions as the new type counts them, before anything is freed. */
function usageAfterTypeChange(state: LicenseState, fates: Fates): Record<UsageMetric, number> {
  return {
    [UsageMetric.ACTIVE_USERS]: fates.keptSeats.length + fates.seatsAssigned.length,
    [UsageMetric.CONCURRENT_SESSIONS]: fates.keptLeases.length,
    [UsageMetric.STORAGE_BYTES]: state.storage,
    [UsageMetric.API_CALLS]: state.apiCalls,
  };
}

function limitChange(from: LicenseTerms, to: LicenseTerms, metric: UsageMetric, used: number): LimitChange {
  const after = limitOf(to, metric);
  return Object.assign(new LimitChange(), {
    metric,
    before: limitOf(from, metric),
    after,
    used,
    over: after === null ? 0 : Math.max(0, used - after),
    usedAfter: used,
  });
}

/** A migration at renewal waits whatever is over now (REJECT decides on what is over then); REJECT refuses a conflict. */
function outcomeOf(request: MigrationRequest, conflicts: boolean): MigrationOutcome {
  if (request.effective === MigrationEffective.AT_RENEWAL) return MigrationOutcome.SCHEDULED;
  return request.strategy === ConflictStrategy.REJECT && conflicts ? MigrationOutcome.REJECTED : MigrationOutcome.APPLIED;
}

/**
 * RELEASE_LEAST_ACTIVE: frees the named users and sessions over the new limits, least active first (users of leases
 * not given a seat first: they are the most recently active, so those left out are the least); returns what is used
 * after, and sets it on the limit changes.
 */
function releaseOver(fates: Fates, limits: LimitChange[], used: Record<UsageMetric, number>): Record<UsageMetric, number> {
  const overOf = (metric: UsageMetric) => limits.find((l) => l.metric === metric)!.over;
  const usersOver = overOf(UsageMetric.ACTIVE_USERS);
  const unassigned = Math.min(usersOver, fates.seatsAssigned.length);
  fates.seatsAssigned = fates.seatsAssigned.slice(0, fates.seatsAssigned.length - unassigned);
  const released = fates.keptSeats.slice(0, usersOver - unassigned);
  fates.keptSeats = fates.keptSeats.slice(released.length);
  fates.seatsReleased.push(...released.map((s) => seatChange(s, SeatFate.OVER_LIMIT)));
  const ended = fates.keptLeases.slice(0, overOf(UsageMetric.CONCURRENT_SESSIONS));
  fates.keptLeases = fates.keptLeases.slice(ended.length);
  fates.leasesEnded.push(...ended.map((l) => leaseChange(l, SeatFate.OVER_LIMIT)));
  const final = {
    ...used,
    [UsageMetric.ACTIVE_USERS]: fates.keptSeats.length + fates.seatsAssigned.length,
    [UsageMetric.CONCURRENT_SESSIONS]: fates.keptLeases.length,
  };
  for (const change of limits) change.usedAfter = final[change.metric];
  return final;
}

/**
 * What is still over a new limit (storage and API calls cannot be freed; everything under ALLOW_OVERAGE_UNTIL): a
 * violation each, or one more occurrence of the one open already, which keeps the highest severity it reached and
 * its deadline unless this migration sets one.
 */
function violationsOver(
  state: LicenseState,
  to: LicenseTerms,
  final: Record<UsageMetric, number>,
  allowUntil: Date | null,
): PlannedViolation[] {
  const planned: PlannedViolation[] = [];
  for (const metric of Object.values(UsageMetric)) {
    const limit = limitOf(to, metric);
    if (limit === null || final[metric] <= limit) continue;
    const kind = OVERAGE_KIND[metric];
    const existing = state.violations.find((v) => v.kind === kind && v.subject === '');
    const severity = overageSeverity(final[metric], limit);
    planned.push(
      Object.assign(new PlannedViolation(), {
        kind,
        metric,
        value: final[metric],
        limit,
        severity: existing && SEVERITY_RANK[existing.severity] > SEVERITY_RANK[severity] ? existing.severity : severity,
        deadline: allowUntil ?? existing?.deadline ?? null,
        existingViolationId: existing?.id ?? null,
      }),
    );
  }
  return planned;
}

/** The open overages the new limits and what is freed clear, resolved at once (waived ones stay waived). */
function violationsCleared(state: LicenseState, to: LicenseTerms, final: Record<UsageMetric, number>): string[] {
  return state.violations
    .filter((v) => v.status === ViolationStatus.OPEN || v.status === ViolationStatus.ACKNOWLEDGED)
    .filter((v) => {
      const metric = Object.values(UsageMetric).find((m) => OVERAGE_KIND[m] === v.kind);
      if (!metric) return false;
      const limit = limitOf(to, metric);
      return limit === null || final[metric] <= limit;
    })
    .map((v) => v.id);
}

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

const warning = (code: MigrationWarningCode, metric: UsageMetric | null, message: string, userIds: string[] = []) =>
  Object.assign(new MigrationWarning(), { code, metric, message, userIds });

/**
 * The limits a migration drops because the license's type after does not count them (named users off USER, sessions
 * off CONCURRENT): the old type's on a type change, or ones a license was issued with on a type that ignores them.
 */
function droppedLimits(from: LicenseTerms, to: LicenseTerms): MigrationWarning[] {
  return Object.values(UsageMetric)
    .filter((metric) => !limitApplies(metric, to.type) && limitOf(from, metric) !== null)
    .map((metric) =>
      warning(
        MigrationWarningCode.LIMIT_DROPPED,
        metric,
        `${LIMIT_NAME[metric]} (${limitOf(from, metric)}) is dropped: a ${to.type} license does not count ${metric}.`,
      ),
    );
}

/**
 * What stays over a new limit (kept under ALLOW_OVERAGE_UNTIL; storage and API calls under any strategy) and what that
 * does under the license's overage policy after: named users ranked past what the policy allows fail validation,
 * and nothing more is taken (checkouts, storage, calls) until the license is back under what it allows.
 */
function overLimitKept(
  to: LicenseTerms,
  final: Record<UsageMetric, number>,
  seatsByRank: readonly { userId: string }[],
  assigned: readonly string[],
): MigrationWarning[] {
  const warnings: MigrationWarning[] = [];
  for (const metric of Object.values(UsageMetric)) {
    const limit = limitOf(to, metric);
    if (limit === null || final[metric] <= limit) continue;
    const ceiling = ceilingOf({ limit, policy: to.overage.policy, percent: to.overage.percent });
    if (ceiling === null) continue;
    const policy = `the ${to.overage.policy} overage policy${ceiling > limit ? ` (up to ${ceiling})` : ''}`;
    if (metric === UsageMetric.ACTIVE_USERS) {
      // Validation ranks seats in the order they were assigned (those a migration assigns come last).
      const past = [...seatsByRank.map((s) => s.userId), ...assigned].slice(ceiling);
      if (!past.length) continue;
      warnings.push(
        warning(
          MigrationWarningCode.USERS_FAIL_VALIDATION,
          metric,
          `${past.join(', ')} keep${past.length === 1 ? 's' : ''} a seat past the ${limit} named users ${policy} allows: validation fails for them (USER_LIMIT_EXCEEDED) until seats are released or the limit raised.`,
          past,
        ),
      );
    } else if (final[metric] >= ceiling) {
      const refused =
        metric === UsageMetric.CONCURRENT_SESSIONS
          ? `checkouts are refused until fewer than ${ceiling} sessions are live`
          : metric === UsageMetric.STORAGE_BYTES
            ? `reports adding storage are refused until it is under ${ceiling}`
            : `API calls are refused until the period ends`;
      warnings.push(
        warning(
          MigrationWarningCode.USAGE_REFUSED,
          metric,
          `${metric} stays at ${final[metric]}, over the new limit of ${limit}: under ${policy}, ${refused}.`,
        ),
      );
    }
  }
  return warnings;
}

const limitText = (value: number | null) => (value === null ? 'none' : String(value));

/** The change in words, naming plans by name: what the alert of an applied migration says. */
export function summarize(p: MigrationPreview): string {
  const { from, to } = p;
  const plan = (t: MigrationTerms) => `plan “${t.planName}” (${t.type})`;
  const same = from.planId === to.planId && from.type === to.type;
  const head = same ? `Plan “${to.planName}” (${to.type}) kept` : `Plan “${from.planName}” (${from.type}) → ${plan(to)}`;
  const changed: string[] = [];
  for (const c of p.limits)
    if (c.before !== c.after) changed.push(`${LIMIT_NAME[c.metric]} ${limitText(c.before)} → ${limitText(c.after)}`);
  if (from.limits.apiCallPeriod !== to.limits.apiCallPeriod)
    changed.push(`apiCallPeriod ${from.limits.apiCallPeriod} → ${to.limits.apiCallPeriod}`);
  const overage = (o: MigrationTerms['overage']) => (o.policy === 'PERCENT' ? `PERCENT ${o.percent}%` : o.policy);
  if (overage(from.overage) !== overage(to.overage)) changed.push(`overage ${overage(from.overage)} → ${overage(to.overage)}`);
  if (p.featuresGained.length) changed.push(`features gained: ${p.featuresGained.join(', ')}`);
  if (p.featuresLost.length) changed.push(`features lost: ${p.featuresLost.join(', ')}`);
  const site = (t: MigrationTerms) => [...t.site.domains, ...t.site.cidrs].join(', ') || 'none';
  if (site(from) !== site(to)) changed.push(`site ${site(from)} → ${site(to)}`);
  const freed: string[] = [];
  if (p.seatsReleased.length) freed.push(`${p.seatsReleased.length} seat(s) released (${p.seatsReleased.map((s) => s.userId).join(', ')})`);
  if (p.seatsAssigned.length) freed.push(`${p.seatsAssigned.length} seat(s) assigned (${p.seatsAssigned.join(', ')})`);
  if (p.leasesEnded.length) freed.push(`${p.leasesEnded.length} lease(s) ended`);
  return `${head}${changed.length ? `: ${changed.join('; ')}` : ''}.${freed.length ? ` ${freed.join(', ')}.` : ''}`;
}
