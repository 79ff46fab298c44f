import { createLocalJWKSet, decodeProtectedHeader, errors, type JSONWebKeySet, jwtVerify } from 'jose';
import { CERTIFICATE_ISSUER, CERTIFICATE_TYPE, type CertifiedLicense, type LicenseClaims } from './claims';

/** The checks of a verification: the certificate's own, then those `validateLicense` runs (offline: status, term, lease, feature). */
export type CheckKind = 'CERTIFICATE' | 'STATUS' | 'TERM' | 'SEAT' | 'LEASE' | 'FEATURE' | 'SITE' | 'CLOCK';
export type CheckOutcome = 'PASS' | 'WARN' | 'FAIL';

export interface Check {
  check: CheckKind;
  outcome: CheckOutcome;
  /** A stable code: `validateLicense`'s (ACTIVE, WITHIN_TERM, IN_GRACE_PERIOD, LEASE_ACTIVE, FEATURE_ENTITLED, …) or the certificate's. */
  code: string;
  detail: string;
}

export interface VerifyOptions {
  /** The server's public keys (`/.well-known/jwks.json`), fetched earlier and kept. */
  jwks: JSONWebKeySet;
  /** The moment to check at (now by default). */
  now?: Date;
  /** This machine: a certificate bound to another fails; on a CONCURRENT license, its lease is checked. */
  fingerprint?: string | null;
  /** A feature key to check the entitlement of. */
  feature?: string | null;
}

export interface CertificateVerdict {
  /** True when no check failed (warnings allowed). */
  valid: boolean;
  /** The first failure, else the first warning, else VALID. */
  code: string;
  checks: Check[];
  /** What the certificate says, once its signature and times were verified; null otherwise. */
  claims: LicenseClaims | null;
  /** Until when the application may rely on it offline: the certificate's end (null when it did not verify). */
  expiresAt: Date | null;
}

const check = (kind: CheckKind, outcome: CheckOutcome, code: string, detail: string): Check => ({ check: kind, outcome, code, detail });
const refused = (code: string, detail: string): CertificateVerdict => ({
  valid: false,
  code,
  checks: [check('CERTIFICATE', 'FAIL', code, detail)],
  claims: null,
  expiresAt: null,
});

/** Why jose refused a token, as the certificate check's code. */
function refusal(error: unknown): CertificateVerdict {
  if (error instanceof errors.JWTExpired) return refused('CERTIFICATE_EXPIRED', 'The certificate has expired: fetch a new one.');
  if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'nbf') {
    return refused('CERTIFICATE_NOT_YET_VALID', 'The certificate is not valid yet: check this machine’s clock.');
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return refused('UNKNOWN_KEY', 'No key of the JWKS signed this certificate: fetch the JWKS again.');
  }
  const why = error instanceof Error ? error.message : String(error);
  return refused('CERTIFICATE_INVALID', `The certificate is not one the server signed: ${why}`);
}

/**
 * Verifies a license certificate offline (no server needed): its EdDSA signature by a key of the JWKS named by its
 * `kid`, its issuer and type, its validity at `now`; then runs on the license it states the checks `validateLicense`
 * would: status, term, the machine's lease (a bound certificate checks the fingerprint), a feature's entitlement.
 * Every refusal has its code: CERTIFICATE_INVALID (any change, another algorithm or key), UNKNOWN_KEY,
 * CERTIFICATE_EXPIRED, CERTIFICATE_NOT_YET_VALID, FINGERPRINT_MISMATCH.
 */
export async function verifyLicenseCertificate(token: string, options: VerifyOptions): Promise<CertificateVerdict> {
  const now = options.now ?? new Date();
  let claims: LicenseClaims;
  let kid: string;
  try {
    const header = decodeProtectedHeader(token);
    if (typeof header.kid !== 'string' || !header.kid) return refused('CERTIFICATE_INVALID', 'The certificate names no key (`kid`).');
    kid = header.kid;
    const verified = await jwtVerify<LicenseClaims>(token, createLocalJWKSet(options.jwks), {
      algorithms: ['EdDSA'],
      issuer: CERTIFICATE_ISSUER,
      typ: CERTIFICATE_TYPE,
      currentDate: now,
      requiredClaims: ['sub', 'iat', 'nbf', 'exp', 'jti'],
    });
    claims = verified.payload as LicenseClaims;
  } catch (error) {
    return refusal(error);
  }
  if (!claims.lic || typeof claims.lic !== 'object') return refused('CERTIFICATE_INVALID', 'The certificate states no license.');
  const expiresAt = new Date(claims.exp * 1000);
  const checks = [check('CERTIFICATE', 'PASS', 'CERTIFICATE_VALID', `Signed by key ${kid}; valid until ${expiresAt.toISOString()}.`)];
  if (options.fingerprint && claims.fpr && claims.fpr !== options.fingerprint) {
    checks.push(
      check('CERTIFICATE', 'FAIL', 'FINGERPRINT_MISMATCH', `The certificate is bound to another machine, not ${options.fingerprint}.`),
    );
  }
  checks.push(...licenseChecks(claims, options, now));
  const failure = checks.find((c) => c.outcome === 'FAIL');
  const warning = checks.find((c) => c.outcome === 'WARN');
  return { valid: !failure, code: failure?.code ?? warning?.code ?? 'VALID', checks, claims, expiresAt };
}

/** What `validateLicense` checks, on the license as the certificate states it (its wording too). */
function licenseChecks(claims: LicenseClaims, options: VerifyOptions, now: Date): Check[] {
  const lic = claims.lic;
  const checks = [statusCheck(lic), termCheck(lic, now)];
  if (lic.type === 'CONCURRENT' && options.fingerprint) {
    checks.push(
      claims.lease && claims.fpr === options.fingerprint
        ? check('LEASE', 'PASS', 'LEASE_ACTIVE', `Fingerprint ${options.fingerprint} holds a live lease.`)
        : check('LEASE', 'FAIL', 'NO_ACTIVE_LEASE', `Fingerprint ${options.fingerprint} holds no live lease: check a seat out.`),
    );
  }
  if (options.feature) checks.push(featureCheck(lic, options.feature));
  return checks;
}

function statusCheck(lic: CertifiedLicense): Check {
  switch (lic.status) {
    case 'ACTIVE':
      return check('STATUS', 'PASS', 'ACTIVE', 'The license is active.');
    case 'SUSPENDED':
      return check('STATUS', 'FAIL', 'SUSPENDED', 'The license is suspended.');
    case 'REVOKED':
      return check('STATUS', 'FAIL', 'REVOKED', 'The license was revoked.');
    default:
      return check('STATUS', 'FAIL', 'EXPIRED', 'The license has expired.');
  }
}

function termCheck(lic: CertifiedLicense, now: Date): Check {
  if (now < new Date(lic.startsAt)) return check('TERM', 'FAIL', 'NOT_YET_VALID', `The term starts at ${lic.startsAt}.`);
  if (!lic.expiresAt) return check('TERM', 'PASS', 'WITHIN_TERM', 'The license is perpetual.');
  if (now < new Date(lic.expiresAt)) return check('TERM', 'PASS', 'WITHIN_TERM', `The term ends at ${lic.expiresAt}.`);
  if (lic.graceEndsAt && now < new Date(lic.graceEndsAt)) {
    return check('TERM', 'WARN', 'IN_GRACE_PERIOD', `The term ended at ${lic.expiresAt}; the grace period lasts until ${lic.graceEndsAt}.`);
  }
  return check('TERM', 'FAIL', 'EXPIRED', `The term ended at ${lic.expiresAt}.`);
}

function featureCheck(lic: CertifiedLicense, key: string): Check {
  const feature = lic.features.find((f) => f.key === key);
  if (!feature) return check('FEATURE', 'FAIL', 'FEATURE_UNKNOWN', `The product has no feature "${key}".`);
  if (feature.tier === 'CORE') return check('FEATURE', 'PASS', 'FEATURE_ENTITLED', `"${feature.key}" is a core feature of the product.`);
  if (feature.entitled) {
    return check('FEATURE', 'PASS', 'FEATURE_ENTITLED', `The license entitles the premium feature "${feature.key}".`);
  }
  return check('FEATURE', 'FAIL', 'FEATURE_NOT_ENTITLED', `The license does not entitle the premium feature "${feature.key}".`);
}
