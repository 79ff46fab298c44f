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

registerEnums(
  { LicenseType, LicenseStatus, OveragePolicy, UsagePeriod },
  {
    LicenseType: {
      description: 'How a license grants access; it decides which limits and checks apply to it.',
      values: {
        SUBSCRIPTION: 'Time-bound; renews per term, and access after expiry lasts as long as the grace period.',
        USER: 'Named seats: at most `namedUsers` assigned users, and a user must hold a seat to validate.',
        CONCURRENT:
          'Floating: at most `concurrentSessions` simultaneous sessions, each a lease with a TTL kept alive by heartbeats; a dead session frees its seat by itself.',
        SITE: 'Unlimited users within a site, bound by e-mail domains and CIDR ranges; a client validates with `site`.',
        FEATURE: 'Grants features (typically PREMIUM) to an organization, alone or as an add-on to another license.',
      },
    },
    LicenseStatus: {
      description: 'Where a license is in its lifecycle; only an ACTIVE license validates.',
      values: {
        ACTIVE: 'In force: validates within its term and grace period.',
        SUSPENDED: 'Stopped by an administrator (`suspendLicense`); its live leases ended. `resumeLicense` makes it ACTIVE again.',
        EXPIRED: 'Its term and grace period are over (set by the expiry watch); `renewLicense` makes it ACTIVE again.',
        REVOKED: 'Ended for good by `revokeLicense`; nothing brings it back.',
      },
    },
    OveragePolicy: {
      description: 'What happens when usage reaches a limit.',
      values: {
        NONE: 'Deny at the limit.',
        PERCENT: 'Allow up to `overagePercent` percent over the limit, recording a violation; deny beyond it.',
        ALWAYS: 'Never deny; record a violation for the use over the limit.',
      },
    },
    UsagePeriod: {
      description: 'The period over which API calls count against `apiCallsPerPeriod`, from its start in UTC.',
      values: { DAY: 'A calendar day in UTC.', MONTH: 'A calendar month in UTC.' },
    },
  },
);
