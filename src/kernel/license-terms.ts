import type { LicenseType, OveragePolicy, UsagePeriod } from './license.enums';

/**
 * What a license is allowed, in one shape: its plan, type, limits, overage policy, entitled features and site. A
 * migration moves it, a feature transfer splits and merges it, the audit log keeps it.
 */
export interface LicenseTerms {
  planId: string;
  type: LicenseType;
  limits: {
    namedUsers: number | null;
    concurrentSessions: number | null;
    storageBytes: number | null;
    apiCallsPerPeriod: number | null;
    apiCallPeriod: UsagePeriod;
  };
  overage: { policy: OveragePolicy; percent: number | null };
  /** Entitled feature keys, sorted. */
  features: string[];
  site: { domains: string[]; cidrs: string[] };
}

/** A plan's prices, per term of the license. */
export interface PlanPrice {
  pricePerSeatCents: number | null;
  pricePerPeriodCents: number | null;
  currency: string;
}
