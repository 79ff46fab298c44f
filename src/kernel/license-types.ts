import { LicenseType } from './license.enums';
import { UsageMetric } from './metrics';

/** What a license of a type must have, besides what every license has. */
export type TypeNeed = 'term' | 'namedUsers' | 'concurrentSessions' | 'site' | 'features';

/** The per-type requirements, in one table: each type's need, and how to say it. */
export const TYPE_NEEDS: Record<LicenseType, { need: TypeNeed; what: string }> = {
  [LicenseType.SUBSCRIPTION]: { need: 'term', what: 'a term' },
  [LicenseType.USER]: { need: 'namedUsers', what: '`limits.namedUsers` of at least 1' },
  [LicenseType.CONCURRENT]: { need: 'concurrentSessions', what: '`limits.concurrentSessions` of at least 1' },
  [LicenseType.SITE]: { need: 'site', what: 'at least one domain or CIDR range' },
  [LicenseType.FEATURE]: { need: 'features', what: 'at least one feature' },
};

/** The limits only licenses of one type count, each with its metric: they mean nothing on another type. */
export const TYPE_LIMITS = [
  [UsageMetric.ACTIVE_USERS, 'namedUsers', LicenseType.USER],
  [UsageMetric.CONCURRENT_SESSIONS, 'concurrentSessions', LicenseType.CONCURRENT],
] as const;

/** Whether a limit of `metric` means anything on a license of `type`. */
export const limitApplies = (metric: UsageMetric, type: LicenseType) => TYPE_LIMITS.every(([m, , t]) => m !== metric || t === type);

/** What the per-type requirements look at in a license's terms. */
export interface TypedTerms {
  type: LicenseType;
  hasTerm: boolean;
  namedUsers: number | null | undefined;
  concurrentSessions: number | null | undefined;
  site: { domains: readonly string[]; cidrs: readonly string[] };
  features: number;
}

/** The need of the license's type that its terms do not meet, with the sentence that says so; null when met. */
export function unmetNeed(terms: TypedTerms): { need: TypeNeed; message: string } | null {
  const { need, what } = TYPE_NEEDS[terms.type];
  const met: Record<TypeNeed, boolean> = {
    term: terms.hasTerm,
    namedUsers: Boolean(terms.namedUsers),
    concurrentSessions: Boolean(terms.concurrentSessions),
    site: terms.site.domains.length > 0 || terms.site.cidrs.length > 0,
    features: terms.features > 0,
  };
  return met[need] ? null : { need, message: `A ${terms.type} license needs ${what}` };
}
