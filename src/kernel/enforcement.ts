import { OveragePolicy } from './license.enums';
import { UsageMetric } from './metrics';
import { EnforcementCode, ViolationKind, ViolationSeverity } from './compliance.enums';
import { Enforcement } from './enforcement.types';

/** A limit with the overage policy that decides what happens at it. */
export interface LimitTerms {
  /** Null: no limit. */
  limit: number | null;
  policy: OveragePolicy;
  /** How far over the limit PERCENT allows, in percent. */
  percent: number | null;
}

/** The overage violation of each limited metric. */
export const OVERAGE_KIND: Record<UsageMetric, ViolationKind> = {
  [UsageMetric.ACTIVE_USERS]: ViolationKind.SEAT_OVERAGE,
  [UsageMetric.CONCURRENT_SESSIONS]: ViolationKind.CONCURRENCY_OVERAGE,
  [UsageMetric.STORAGE_BYTES]: ViolationKind.STORAGE_OVERAGE,
  [UsageMetric.API_CALLS]: ViolationKind.API_OVERAGE,
};

/**
 * The most a license may reach under its policy: the limit (NONE), the limit and its allowance (PERCENT, rounded
 * down: 10 seats at 25 % allow 12), or no ceiling (ALWAYS, or no limit at all).
 */
export function ceilingOf(terms: LimitTerms): number | null {
  if (terms.limit === null) return null;
  switch (terms.policy) {
    case OveragePolicy.NONE:
      return terms.limit;
    case OveragePolicy.PERCENT:
      return terms.limit + Math.floor((terms.limit * (terms.percent ?? 0)) / 100);
    case OveragePolicy.ALWAYS:
      return null;
  }
}

/** An answer with whether it is a breach to record (over the limit, taken). */
export interface Decision {
  enforcement: Enforcement;
  breach: boolean;
}

function answer(
  metric: UsageMetric,
  terms: LimitTerms,
  current: number,
  requested: number,
  allowed: boolean,
  code: EnforcementCode,
  detail: string,
): Decision {
  const value = allowed ? Math.max(0, current + requested) : current;
  const enforcement = Object.assign(new Enforcement(), {
    allowed,
    code,
    detail,
    metric,
    current,
    requested,
    value,
    limit: terms.limit,
    ceiling: ceilingOf(terms),
    policy: terms.policy,
    overagePercent: terms.percent,
  });
  return { enforcement, breach: allowed && terms.limit !== null && value > terms.limit && requested > 0 };
}

/**
 * Whether `requested` more (seats, sessions, bytes, calls) may be taken by a license that has `current` now. A
 * request that ends at or under the limit is allowed; past it NONE denies, PERCENT allows up to its ceiling and
 * ALWAYS allows all, and what is allowed past the limit is a breach to record. Giving back (a negative request)
 * is always allowed.
 */
export function decide(metric: UsageMetric, terms: LimitTerms, current: number, requested: number): Decision {
  const after = current + requested;
  const { limit } = terms;
  if (limit === null) return answer(metric, terms, current, requested, true, EnforcementCode.UNLIMITED, `${metric} has no limit.`);
  if (after <= limit || requested <= 0) {
    return after <= limit
      ? answer(metric, terms, current, requested, true, EnforcementCode.WITHIN_LIMIT, `${metric} would be ${after} of ${limit}.`)
      : answer(
          metric,
          terms,
          current,
          requested,
          true,
          EnforcementCode.OVERAGE_ALLOWED,
          `${metric} goes down to ${Math.max(0, after)}, still over its limit of ${limit}.`,
        );
  }
  const ceiling = ceilingOf(terms);
  if (terms.policy === OveragePolicy.NONE) {
    return answer(
      metric,
      terms,
      current,
      requested,
      false,
      EnforcementCode.LIMIT_REACHED,
      `${metric} would be ${after}, over its limit of ${limit}.`,
    );
  }
  if (ceiling !== null && after > ceiling) {
    return answer(
      metric,
      terms,
      current,
      requested,
      false,
      EnforcementCode.OVERAGE_LIMIT_REACHED,
      `${metric} would be ${after}, over the ${terms.percent} % allowed past its limit of ${limit} (at most ${ceiling}).`,
    );
  }
  return answer(
    metric,
    terms,
    current,
    requested,
    true,
    EnforcementCode.OVERAGE_ALLOWED,
    `${metric} is ${after}, over its limit of ${limit}: allowed by the ${terms.policy} overage policy and recorded as a violation.`,
  );
}

/**
 * A total reported as it is (storage): a fact, never refused, but a breach when it is over the limit, whatever the
 * policy would have allowed.
 */
export function report(metric: UsageMetric, terms: LimitTerms, current: number, total: number): Decision {
  const decision = decide(metric, terms, current, total - current);
  if (decision.enforcement.allowed) return { ...decision, breach: terms.limit !== null && total > terms.limit };
  const { enforcement } = answer(metric, terms, current, total - current, true, EnforcementCode.OVER_LIMIT_REPORTED, '');
  enforcement.detail = `${metric} was reported at ${total}, past what the ${terms.policy} policy allows over its limit of ${terms.limit}.`;
  return { enforcement, breach: true };
}

/** How grave an overage is, by how far over the limit it goes: up to 10 % LOW, 25 % MEDIUM, 50 % HIGH, beyond CRITICAL. */
export function overageSeverity(value: number, limit: number): ViolationSeverity {
  if (limit <= 0) return ViolationSeverity.CRITICAL;
  const over = ((value - limit) * 100) / limit;
  if (over <= 10) return ViolationSeverity.LOW;
  if (over <= 25) return ViolationSeverity.MEDIUM;
  return over <= 50 ? ViolationSeverity.HIGH : ViolationSeverity.CRITICAL;
}
