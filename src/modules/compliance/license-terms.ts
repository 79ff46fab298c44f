import type { OveragePolicy, UsagePeriod } from '../../kernel/license.enums';
import { limitOfMetric, type MetricLimits, type UsageMetric } from '../usage/usage.types';
import type { LimitTerms } from '../../kernel/enforcement';
import type { TermRow } from '../license/license-store';

export { TERM_COLUMNS, type TermRow } from '../license/license-store';

/** A license's limits and overage policy. */
export interface Terms {
  limits: MetricLimits;
  apiCallPeriod: UsagePeriod;
  overage: { policy: OveragePolicy; percent: number | null };
}

export const numberOrNull = (value: number | string | null | undefined) => (value === null || value === undefined ? null : Number(value));

export function termsOf(row: TermRow): Terms {
  return {
    limits: {
      namedUsers: numberOrNull(row.named_users),
      concurrentSessions: numberOrNull(row.concurrent_sessions),
      storageBytes: numberOrNull(row.storage_bytes),
      apiCallsPerPeriod: numberOrNull(row.api_calls_per_period),
    },
    apiCallPeriod: row.api_call_period,
    overage: { policy: row.overage_policy, percent: numberOrNull(row.overage_percent) },
  };
}

/** One limit of the terms, with the policy that decides at it. */
export function limitTerms(terms: Terms, metric: UsageMetric): LimitTerms {
  return { limit: limitOfMetric(terms.limits, metric), policy: terms.overage.policy, percent: terms.overage.percent };
}
