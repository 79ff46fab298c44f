import { registerEnums } from './register-enums';

/** The five ways AINexLayer is licensed. */
export enum LicenseType {
  /** Time-bound; renews per billing period; access after expiry follows the grace period. */
  SUBSCRIPTION = 'SUBSCRIPTION',
  /** Named seats: at most N assigned users, and a user must hold a seat to validate. */
  USER = 'USER',
  /** Floating: at most N simultaneous sessions, leased with a TTL and kept alive by heartbeats. */
  CONCURRENT = 'CONCURRENT',
  /** Unlimited users within a site bound by e-mail domains and CIDR ranges. */
  SITE = 'SITE',
  /** Grants features (typically premium), alone or as an add-on. */
  FEATURE = 'FEATURE',
}

export enum LicenseStatus {
  ACTIVE = 'ACTIVE',
  SUSPENDED = 'SUSPENDED',
  EXPIRED = 'EXPIRED',
  REVOKED = 'REVOKED',
}

/** What happens when usage reaches a limit (enforced fully by the compliance module). */
export enum OveragePolicy {
  /** Block at the limit. */
  NONE = 'NONE',
  /** Allow up to `overagePercent` over the limit, and record a violation. */
  PERCENT = 'PERCENT',
  /** Never block; record a violation. */
  ALWAYS = 'ALWAYS',
}

/** The period over which API calls are counted. */
export enum UsagePeriod {
  DAY = 'DAY',
  MONTH = 'MONTH',
}

registerEnums({ LicenseType, LicenseStatus, OveragePolicy, UsagePeriod });
