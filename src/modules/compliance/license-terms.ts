import type { OveragePolicy, UsagePeriod } from '../../kernel/license.enums';
import { limitOfMetric, type MetricLimits, type UsageMetric } from '../usage/usage.types';
import type { LimitTerms } from '../../kernel/enforcement';

/** The columns of a license that say what it may use, as compliance reads them with plain SQL. */
export const TERM_COLUMNS =
  'named_users, concurrent_sessions, storage_bytes, api_calls_per_period, api_call_period, overage_policy, overage_percent';

export interface TermRow {
  named_users: number | string | null;
  concurrent_sessions: number | string | null;
  storage_bytes: number | string | null;
  api_calls_per_period: number | string | null;
  api_call_period: UsagePeriod;
  overage_policy: OveragePolicy;
  overage_percent: number | string | null;
}

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
