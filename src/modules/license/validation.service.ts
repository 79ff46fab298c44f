import { checkClientArguments } from '../../common/input';
import type { SqlGateway, SqlRunner } from '../../db/sql';
import type { KeyedLicense, LicenseCredentials } from './license-credentials';
import { LicenseType } from './license.enums';
import { evaluate, graceEndsAt, type LicenseFacts, type ValidationRequest, verdict } from './validation';
import { type FeatureCheckResult, ValidationCheckKind, type ValidationResult } from './validation.types';

/** Where validation learns whether a user holds a seat and a machine a lease (the seat module's ledgers). */
export interface SeatPresence {
  isHeld(sql: SqlRunner, licenseId: string, userId: string): Promise<boolean>;
}
export interface LeasePresence {
  isLive(sql: SqlRunner, licenseId: string, fingerprint: string, now: Date): Promise<boolean>;
}

/**
 * Responsible for answering client applications whether their license lets them run: every check, with codes.
 * Called on every start of every client, so it reads with a handful of prepared statements and no ORM.
 */
export class ValidationService {
  constructor(
    private readonly db: SqlGateway,
    private readonly credentials: LicenseCredentials,
    private readonly seats: SeatPresence,
    private readonly leases: LeasePresence,
  ) {}

  private async facts(sql: SqlRunner, license: KeyedLicense, request: ValidationRequest, now: Date): Promise<LicenseFacts> {
    const facts: LicenseFacts = {
      type: license.type,
      status: license.status,
      startsAt: license.startsAt,
      expiresAt: license.expiresAt,
      gracePeriodDays: license.gracePeriodDays,
      site: { domains: license.siteDomains, cidrs: license.siteCidrs },
    };
    if (license.type === LicenseType.USER && request.user) facts.seatHeld = await this.seats.isHeld(sql, license.id, request.user);
    if (license.type === LicenseType.CONCURRENT && request.fingerprint) {
      facts.leaseLive = await this.leases.isLive(sql, license.id, request.fingerprint, now);
    }
    if (request.feature) {
      const row = await sql.get<{ key: string; tier: 'CORE' | 'PREMIUM'; entitled: number | boolean | null }>(
        `select f.key, f.tier, lf.license_id is not null as entitled
           from feature f left join license_feature lf on lf.feature_id = f.id and lf.license_id = ?
          where f.product_id = ? and f.key = ?`,
        [license.id, license.productId, request.feature],
      );
      facts.feature = row ? { key: row.key, tier: row.tier, entitled: Boolean(row.entitled) } : null;
    }
    return facts;
  }

  async validate(key: string, request: ValidationRequest, now = new Date()): Promise<ValidationResult> {
    checkClientArguments(request);
    return this.db.read(async (sql) => {
      const license = await this.credentials.authenticate(sql, key);
      const checks = evaluate(await this.facts(sql, license, request, now), request, now);
      return {
        ...verdict(checks),
        checks,
        license: {
          id: license.id,
          type: license.type,
          status: license.status,
          expiresAt: license.expiresAt,
          graceEndsAt: graceEndsAt(license.expiresAt, license.gracePeriodDays),
        },
        validatedAt: now,
      };
    });
  }

  /** Whether a feature may be used now: the license's status and term, and the feature's entitlement. */
  async checkFeature(key: string, feature: string, now = new Date()): Promise<FeatureCheckResult> {
    checkClientArguments({ feature });
    return this.db.read(async (sql) => {
      const license = await this.credentials.authenticate(sql, key);
      const request = { feature };
      const all = evaluate(await this.facts(sql, license, request, now), request, now);
      const checks = all.filter((c) =>
        [ValidationCheckKind.STATUS, ValidationCheckKind.TERM, ValidationCheckKind.FEATURE].includes(c.check),
      );
      const { valid, code } = verdict(checks);
      return { allowed: valid, code, feature, checks };
    });
  }
}
