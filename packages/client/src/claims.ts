/** Who signs license certificates (`iss`), and the media type of their header (`typ`). */
export const CERTIFICATE_ISSUER = 'ainexlayer-license-manager';
export const CERTIFICATE_TYPE = 'license+jwt';

export type LicenseType = 'SUBSCRIPTION' | 'USER' | 'CONCURRENT' | 'SITE' | 'FEATURE';
export type LicenseStatus = 'ACTIVE' | 'SUSPENDED' | 'EXPIRED' | 'REVOKED';

/** A feature of the license's product: whether the license entitles it (a CORE feature comes with any license). */
export interface CertifiedFeature {
  key: string;
  tier: 'CORE' | 'PREMIUM';
  entitled: boolean;
}

/** The license as a certificate states it: what an application needs to decide offline. */
export interface CertifiedLicense {
  type: LicenseType;
  status: LicenseStatus;
  startsAt: string;
  /** Null: perpetual. */
  expiresAt: string | null;
  gracePeriodDays: number;
  graceEndsAt: string | null;
  limits: {
    namedUsers: number | null;
    concurrentSessions: number | null;
    storageBytes: number | null;
    apiCallsPerPeriod: number | null;
    apiCallPeriod: 'DAY' | 'MONTH';
  };
  features: CertifiedFeature[];
  site: { domains: string[]; cidrs: string[] } | null;
  overagePolicy: 'NONE' | 'PERCENT' | 'ALWAYS';
  overagePercent: number | null;
}

/** The payload of a license certificate (a JWT claims set). */
export interface LicenseClaims {
  iss: string;
  /** The license's id. */
  sub: string;
  iat: number;
  nbf: number;
  exp: number;
  jti: string;
  lic: CertifiedLicense;
  /** The machine it is bound to, when it is. */
  fpr?: string;
  /** The live lease of that machine (CONCURRENT), when it held one. */
  lease?: string;
}
