import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { CERTIFICATE_ISSUER, CERTIFICATE_TYPE, type CertifiedLicense, type LicenseClaims } from '../../../packages/client/src/claims';
import type { Clock } from '../../common/clock';
import { checkClientArguments } from '../../common/input';
import type { SqlGateway, SqlRunner } from '../../db/sql';
import { AppError, ErrorCode } from '../../errors';
import { LicenseStatus, LicenseType } from '../../kernel/license.enums';
import { AuditAction } from '../audit/audit-actions';
import type { AuditService } from '../audit/audit.service';
import type { KeyedLicense, LicenseCredentials } from '../license/license-credentials';
import type { CheckoutResult } from '../seat/seat.types';
import { graceEndsAt } from '../license/validation';
import type { CertificateIssuer, LicenseCertificate } from '../license/license-certificate.types';
import { SIGNING_ALGORITHM, type SigningKeys } from './signing-keys';

/** A certificate lasts this long unless asked for less (never past the term and its grace period). */
export const DEFAULT_CERTIFICATE_TTL_S = 30 * 86_400;
/** The shortest a certificate may be asked to last. */
export const MIN_CERTIFICATE_TTL_S = 3_600;

/** The seat module's lease ledger, as certificates use it: the live lease a machine holds, and borrowing one. */
export interface LeaseLookup {
  liveLease(sql: SqlRunner, licenseId: string, fingerprint: string, now: Date): Promise<{ id: string } | null>;
  borrow(key: string, fingerprint: string, until: Date, userId: string | null, call: { requestId: string }): Promise<CheckoutResult>;
}

export interface CertificateRequest {
  fingerprint?: string | null;
  ttlSeconds?: number | null;
  /** Instead of a TTL, the end of a borrowed seat (checked by the lease ledger). */
  until?: Date;
}

/**
 * Responsible for license certificates: a compact JWS signed with the server's current Ed25519 key, stating what an
 * application needs to check its license offline (status, term and grace end, limits, features, site, overage
 * policy), bound to a machine (and its live lease) when one is named. Issued only for a license that works now,
 * and never lasting past its term and grace period.
 */
export class CertificateService implements CertificateIssuer {
  constructor(
    private readonly db: SqlGateway,
    private readonly credentials: LicenseCredentials,
    private readonly leases: LeaseLookup,
    private readonly keys: SigningKeys,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async issue(key: string, request: CertificateRequest, requestId: string, now = this.clock.now()): Promise<LicenseCertificate> {
    checkClientArguments({ fingerprint: request.fingerprint });
    const { license, features, lease, signer, maxDays } = await this.db.read(async (sql) => {
      const license = await this.credentials.authenticate(sql, key, '', requestId);
      const fingerprint = request.fingerprint;
      const plan = await sql.get<{ certificate_max_days: unknown }>('select certificate_max_days from plan where id = ?', [license.planId]);
      return {
        license,
        maxDays: Number(plan?.certificate_max_days ?? DEFAULT_CERTIFICATE_TTL_S / 86_400),
        features: await this.featuresOf(sql, license),
        lease:
          license.type === LicenseType.CONCURRENT && fingerprint ? await this.leases.liveLease(sql, license.id, fingerprint, now) : null,
        signer: await this.keys.signer(sql),
      };
    });
    // The plan's policy bounds the TTL (30 days by default, or less when it says so); never under an hour.
    const maxTtl = maxDays * 86_400;
    const ttl = request.ttlSeconds ?? Math.min(DEFAULT_CERTIFICATE_TTL_S, maxTtl);
    if (!request.until && (!Number.isInteger(ttl) || ttl < MIN_CERTIFICATE_TTL_S || ttl > maxTtl)) {
      throw AppError.badInput(
        `\`ttlSeconds\` is a whole number from ${MIN_CERTIFICATE_TTL_S} to ${maxTtl} (the plan's ${maxDays} days).`,
        'ttlSeconds',
      );
    }
    if (!signer) throw AppError.serviceUnavailable('The server has no signing key yet.', 5);
    const graceEnd = graceEndsAt(license.expiresAt, license.gracePeriodDays);
    if (license.status !== LicenseStatus.ACTIVE || now < license.startsAt || (graceEnd && now >= graceEnd)) {
      throw new AppError(
        ErrorCode.INVALID_STATE_TRANSITION,
        `A certificate is issued for a license that works now; this one is ${license.status === LicenseStatus.ACTIVE ? 'outside its term' : license.status.toLowerCase()}.`,
        { status: license.status },
      );
    }
    // JWT times are whole seconds: the certificate ends at the second its term (or TTL) ends, or before.
    const end = request.until?.getTime() ?? now.getTime() + ttl * 1000;
    const expiresAt = new Date(Math.floor(Math.min(end, graceEnd?.getTime() ?? Number.POSITIVE_INFINITY) / 1000) * 1000);
    const claims: Omit<LicenseClaims, 'iss' | 'sub' | 'iat' | 'nbf' | 'exp' | 'jti'> = {
      lic: certified(license, features, graceEnd),
      ...(request.fingerprint ? { fpr: request.fingerprint } : {}),
      ...(lease ? { lease: lease.id } : {}),
    };
    const seconds = Math.floor(now.getTime() / 1000);
    const jti = randomUUID();
    const certificate = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: signer.kid, typ: CERTIFICATE_TYPE })
      .setIssuer(CERTIFICATE_ISSUER)
      .setSubject(license.id)
      .setIssuedAt(seconds)
      .setNotBefore(seconds)
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .setJti(jti)
      .sign(signer.privateKey);
    await this.db.write(async (tx) => {
      // Its key stays published until it has expired.
      await this.keys.signed(tx, signer.kid, expiresAt);
      await this.audit.record(tx, {
        actor: { type: 'LICENSE_KEY', id: license.id, label: `license key …${license.keyHint}` },
        requestId,
        at: now,
        organizationId: license.organizationId,
        action: AuditAction.CERTIFICATE_ISSUE,
        objectType: 'License',
        objectId: license.id,
        before: null,
        after: {
          kid: signer.kid,
          jti,
          fingerprint: request.fingerprint ?? null,
          leaseId: lease?.id ?? null,
          expiresAt: expiresAt.toISOString(),
        },
      });
    });
    return { certificate, kid: signer.kid, licenseId: license.id, issuedAt: new Date(seconds * 1000), expiresAt };
  }

  /** Borrows a seat (see `LeaseLedger.borrow`) and, when one is granted, the certificate to run on until it is due back. */
  async borrow(
    key: string,
    request: { fingerprint: string; until: Date; userId: string | null },
    requestId: string,
  ): Promise<{ checkout: CheckoutResult; certificate: LicenseCertificate | null }> {
    const checkout = await this.leases.borrow(key, request.fingerprint, request.until, request.userId, { requestId });
    const until = checkout.lease?.borrowedUntil ?? null;
    const certificate = until ? await this.issue(key, { fingerprint: request.fingerprint, until }, requestId) : null;
    return { checkout, certificate };
  }

  /** The features of the license's product, each with whether the license entitles it. */
  private featuresOf(sql: SqlRunner, license: KeyedLicense) {
    return sql
      .all<{ key: string; tier: 'CORE' | 'PREMIUM'; entitled: number | boolean | null }>(
        `select f.key, f.tier, lf.license_id is not null as entitled
           from feature f left join license_feature lf on lf.feature_id = f.id and lf.license_id = ?
          where f.product_id = ? order by f.key`,
        [license.id, license.productId],
      )
      .then((rows) => rows.map((r) => ({ key: r.key, tier: r.tier, entitled: Boolean(r.entitled) })));
  }
}

function certified(license: KeyedLicense, features: CertifiedLicense['features'], graceEnd: Date | null): CertifiedLicense {
  return {
    type: license.type,
    status: license.status,
    startsAt: license.startsAt.toISOString(),
    expiresAt: license.expiresAt?.toISOString() ?? null,
    gracePeriodDays: license.gracePeriodDays,
    graceEndsAt: graceEnd?.toISOString() ?? null,
    limits: {
      namedUsers: license.namedUsers,
      concurrentSessions: license.concurrentSessions,
      storageBytes: license.storageBytes,
      apiCallsPerPeriod: license.apiCallsPerPeriod,
      apiCallPeriod: license.apiCallPeriod,
    },
    features,
    site: license.type === LicenseType.SITE ? { domains: license.siteDomains, cidrs: license.siteCidrs } : null,
    overagePolicy: license.overagePolicy,
    overagePercent: license.overagePercent,
  };
}
