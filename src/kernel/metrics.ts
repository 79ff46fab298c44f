import { registerEnumType } from 'type-graphql';

/** What is metered per license. */
export enum UsageMetric {
  /** Named users holding a seat; derived from seats, not reported. */
  ACTIVE_USERS = 'ACTIVE_USERS',
  /** Live concurrent leases; derived from leases, not reported. */
  CONCURRENT_SESSIONS = 'CONCURRENT_SESSIONS',
  /** Bytes stored: a gauge, reported as the current total. */
  STORAGE_BYTES = 'STORAGE_BYTES',
  /** API calls: a counter within the license's period (a day or a month, from its start in UTC). */
  API_CALLS = 'API_CALLS',
}

registerEnumType(UsageMetric, {
  name: 'UsageMetric',
  description: 'What is metered per license; each metric has its limit in `LicenseLimits`.',
  valuesConfig: {
    ACTIVE_USERS: { description: 'Named users holding a seat, against `namedUsers`; derived from seats, never reported.' },
    CONCURRENT_SESSIONS: { description: 'Live leases, against `concurrentSessions`; derived from leases, never reported.' },
    STORAGE_BYTES: { description: 'Bytes stored, against `storageBytes`: a gauge, reported as the current total.' },
    API_CALLS: {
      description: "API calls, against `apiCallsPerPeriod`: a counter within the license's period (a day or a month in UTC).",
    },
  },
});

/** The limits of a license or plan, by the names they carry there. */
export interface MetricLimits {
  namedUsers: number | null;
  concurrentSessions: number | null;
  storageBytes: number | null;
  apiCallsPerPeriod: number | null;
}

/** The limit that applies to a metric: named users to active users, and so on. */
export function limitOfMetric(limits: MetricLimits, metric: UsageMetric): number | null {
  switch (metric) {
    case UsageMetric.ACTIVE_USERS:
      return limits.namedUsers;
    case UsageMetric.CONCURRENT_SESSIONS:
      return limits.concurrentSessions;
    case UsageMetric.STORAGE_BYTES:
      return limits.storageBytes;
    case UsageMetric.API_CALLS:
      return limits.apiCallsPerPeriod;
  }
}
