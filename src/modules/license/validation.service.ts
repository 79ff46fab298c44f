import type { Actor } from '../../auth/principal';
import { checkClientArguments } from '../../common/input';
import type { SqlGateway, SqlRunner } from '../../db/sql';
import type { BreachRecorder } from '../../kernel/breach';
import type { DemandRecorder } from '../../kernel/demand';
import { checkBreaches, type Presented } from './validation-breaches';
import type { BesideColumn, KeyedLicense, LicenseCredentials } from './license-credentials';
import { LicenseType } from '../../kernel/license.enums';
import { evaluate, graceEndsAt, type LicenseFacts, type ValidationRequest, verdict } from './validation';
import {
  CheckOutcome,
  type FeatureCheckResult,
  type ValidationCheck,
  ValidationCheckKind,
  type ValidationResult,
} from './validation.types';
import type { Clock } from '../../common/clock';

/** A named user's live seat: where it stands among the license's live seats, and when its user was last active. */
export interface HeldSeat {
  id: string;
  rank: number;
  total: number;
  lastActiveAt: Date | null;
}

/** Where validation learns whether a user holds a seat and a machine a lease (the seat module's ledgers). */
export interface SeatPresence {
  seatOf(sql: SqlRunner, licenseId: string, userId: string, limit: number | null): Promise<HeldSeat | null>;
  /** Notes that the seat's user was active now (at most every few minutes a seat). */
  touch(sql: SqlRunner, seatId: string, now: Date): Promise<void>;
}
export interface LeasePresence {
  /** The id of the live lease a machine holds (null without one), read beside its license. */
  liveLeaseBeside(fingerprint: string, now: Date, as: string): BesideColumn;
}

/**
 * A feature of the license's product by its key, read beside the license: its tier (null when the product has no
 * such feature) and whether the license is entitled to it.
 */
const featureBeside = (key: string): BesideColumn[] => [
  { expression: '(select f.tier from feature f where f.product_id = license.product_id and f.key = ?)', params: [key], as: 'feature_tier' },
  {
    expression: `exists (select 1 from license_feature lf where lf.license_id = license.id
                   and lf.feature_id = (select f.id from feature f where f.product_id = license.product_id and f.key = ?))`,
    params: [key],
    as: 'feature_entitled',
  },
];

/** A seat's last activity is written again only once it is this old: validation stays a read nearly always. */
const ACTIVITY_RESOLUTION_MS = 15 * 60_000;

/**
 * Responsible for answering client applications whether their license lets them run: every check, with codes.
 * Called on every start of every client, so it reads with a handful of prepared statements and no ORM. What it
 * finds outside the license's terms (a feature not entitled, use after the term or outside the site, a tampered
 * clock) is recorded as a violation, in a write of its own that only such answers pay for.
 */
export class ValidationService {
  constructor(
    private readonly db: SqlGateway,
    private readonly credentials: LicenseCredentials,
    private readonly seats: SeatPresence,
    private readonly leases: LeasePresence,
    private readonly breaches: BreachRecorder,
    private readonly demand: DemandRecorder,
    private readonly clock: Clock,
  ) {}

  /** Tells the demand log of the feature a request named: used, or refused by the FEATURE check. */
  private featureNamed(license: KeyedLicense, request: ValidationRequest, checks: readonly ValidationCheck[], now: Date): void {
    const check = request.feature ? checks.find((c) => c.check === ValidationCheckKind.FEATURE) : undefined;
    if (!check || !request.feature) return;
    this.demand.used({
      licenseId: license.id,
      organizationId: license.organizationId,
      feature: request.feature.slice(0, 100),
      allowed: check.outcome !== CheckOutcome.FAIL,
      client: request.fingerprint ?? request.user ?? null,
      at: now,
    });
  }

  /**
   * The license a key opens, with what the checks of `request` need to know of it, read in one statement: the
   * lease of the machine (concurrent licenses) and the feature asked about beside the license; a named user's seat,
   * which needs its rank among the license's seats, in a second.
   */
  private async licenseWithFacts(
    sql: SqlRunner,
    key: string,
    request: ValidationRequest,
    requestId: string,
    now: Date,
  ): Promise<{ license: KeyedLicense; facts: LicenseFacts; seat: HeldSeat | null }> {
    const beside: BesideColumn[] = request.feature ? featureBeside(request.feature) : [];
    if (request.fingerprint) beside.push(this.leases.liveLeaseBeside(request.fingerprint, now, 'live_lease'));
    const { license, beside: values } = await this.credentials.authenticateWith(sql, key, beside, '', requestId);
    const facts: LicenseFacts = {
      type: license.type,
      status: license.status,
      startsAt: license.startsAt,
      expiresAt: license.expiresAt,
      gracePeriodDays: license.gracePeriodDays,
      site: { domains: license.siteDomains, cidrs: license.siteCidrs },
    };
    let seat: HeldSeat | null = null;
    if (license.type === LicenseType.USER && request.user) {
      seat = await this.seats.seatOf(sql, license.id, request.user, license.namedUsers);
      facts.seatHeld = seat !== null;
      if (seat) {
        facts.seatRank = {
          rank: seat.rank,
          total: seat.total,
          terms: { limit: license.namedUsers, policy: license.overagePolicy, percent: license.overagePercent },
        };
      }
    }
    if (license.type === LicenseType.CONCURRENT && request.fingerprint) facts.leaseLive = values.live_lease != null;
    if (request.feature) {
      const tier = values.feature_tier as 'CORE' | 'PREMIUM' | null;
      facts.feature = tier ? { key: request.feature, tier, entitled: Boolean(Number(values.feature_entitled)) } : null;
    }
    return { license, facts, seat };
  }

  private actorOf(license: KeyedLicense): Actor {
    return { type: 'LICENSE_KEY', id: license.id, label: `license key …${license.keyHint}` };
  }

  /**
   * Records what the checks found outside the license's terms, and the seat's activity when it is due: one write
   * transaction, only when there is something to write.
   */
  private async recordOutcome(
    license: KeyedLicense,
    presented: Presented,
    checks: readonly ValidationCheck[],
    seat: HeldSeat | null,
    requestId: string,
    now: Date,
  ): Promise<void> {
    const breaches = checkBreaches(license, presented, checks, now);
    const activityDue = seat !== null && (!seat.lastActiveAt || now.getTime() - seat.lastActiveAt.getTime() >= ACTIVITY_RESOLUTION_MS);
    if (breaches.length === 0 && !activityDue) return;
    await this.db.write(async (sql) => {
      // The seat's row before the compliance log's lock, like a seat release (which locks its row, then raises).
      if (seat && activityDue) await this.seats.touch(sql, seat.id, now);
      for (const breach of breaches) await this.breaches.record(sql, breach, this.actorOf(license), requestId, now);
    });
  }

  async validate(key: string, request: ValidationRequest, requestId: string, now = this.clock.now()): Promise<ValidationResult> {
    checkClientArguments(request);
    const { license, checks, seat } = await this.db.read(async (sql) => {
      const { license, facts, seat } = await this.licenseWithFacts(sql, key, request, requestId, now);
      return { license, checks: evaluate(facts, request, now), seat };
    });
    this.featureNamed(license, request, checks, now);
    await this.recordOutcome(license, request, checks, seat, requestId, now);
    const { valid, code } = verdict(checks);
    return {
      valid,
      code,
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
  }

  /**
   * Whether a feature may be used now: the license's status and term, and the feature's entitlement. A CORE feature
   * comes with any valid license of its product; a PREMIUM one only where entitled. Every denial is recorded.
   */
  async checkFeature(key: string, feature: string, requestId: string, now = this.clock.now()): Promise<FeatureCheckResult> {
    checkClientArguments({ feature });
    const request = { feature };
    const { license, checks } = await this.db.read(async (sql) => {
      const { license, facts } = await this.licenseWithFacts(sql, key, request, requestId, now);
      const all = evaluate(facts, request, now);
      const checks = all.filter((c) =>
        [ValidationCheckKind.STATUS, ValidationCheckKind.TERM, ValidationCheckKind.FEATURE].includes(c.check),
      );
      return { license, checks };
    });
    this.featureNamed(license, request, checks, now);
    await this.recordOutcome(license, request, checks, null, requestId, now);
    const { valid, code } = verdict(checks);
    return { allowed: valid, code, feature, checks };
  }
}
