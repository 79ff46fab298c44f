import { type EntityManager, type FilterQuery, LockMode } from '@mikro-orm/knex';
import { AuditAction } from '../audit/audit-actions';
import { Permission } from '../../auth/roles';
import { generateLicenseKey, hintOf, type SecretDigester } from '../../auth/secrets';
import type { Operation } from '../../common/operation';
import { limitsOf, overageOf } from '../catalog/terms.types';
import { findPage, type Page, type PageArgs } from '../../common/pagination';
import { AppError } from '../../errors';
import type { AuditService } from '../audit/audit.service';
import { type CatalogService, checkOverage } from '../catalog/catalog.service';
import type { Feature } from '../catalog/feature.entity';
import { Plan } from '../catalog/plan.entity';
import { Organization } from '../organization/organization.entity';
import { License } from './license.entity';
import { LicenseStatus, LicenseType } from '../../kernel/license.enums';
import type { IssueLicenseInput, LicenseFilter, RenewLicenseInput, SiteInput } from './license.types';
import { normalizeDomain, parseCidr } from './site';
import type { Clock } from '../../common/clock';

const DAY_MS = 86_400_000;
const REASON_MAX = 500;

/** The limits of a license that remediation can raise. */
export type RaisableLimit = 'namedUsers' | 'concurrentSessions' | 'storageBytes' | 'apiCallsPerPeriod';

/** A live lease that ended with its license. */
export interface EndedLease {
  id: string;
  fingerprint: string;
}

/** Ends the concurrent sessions of a license (the seat module's lease ledger). */
export interface SessionTerminator {
  /** Ends the live leases of a license that was suspended or revoked; returns them. */
  endAllOf(em: EntityManager, licenseId: string, now: Date): Promise<EndedLease[]>;
  /** Counts the license's live sessions again for usage and alerts, once the leases ended are committed. */
  recount(licenseId: string, requestId: string): Promise<void>;
}

/** What the audit log keeps of a license: its terms, never its key. */
function snapshot(l: License) {
  return {
    type: l.type,
    status: l.status,
    statusReason: l.statusReason ?? null,
    planId: l.plan.id,
    startsAt: l.startsAt,
    expiresAt: l.expiresAt ?? null,
    termStartedAt: l.termStartedAt ?? null,
    gracePeriodDays: l.gracePeriodDays,
    termDays: l.termDays ?? null,
    autoRenew: l.autoRenew,
    limits: limitsOf(l),
    overage: overageOf(l),
    leaseTtlSeconds: l.leaseTtlSeconds,
    site: { domains: l.siteDomains, cidrs: l.siteCidrs },
    keyHint: l.keyHint,
  };
}

export function checkSite(site: SiteInput | null | undefined): { domains: string[]; cidrs: string[] } {
  const domains = (site?.domains ?? []).map((d) => {
    const normalized = normalizeDomain(d);
    if (!normalized) throw AppError.badInput(`"${d}" is not a domain name.`, 'site.domains');
    return normalized;
  });
  const cidrs = (site?.cidrs ?? []).map((c) => {
    const parsed = parseCidr(c);
    if (!parsed) throw AppError.badInput(`"${c}" is not a CIDR range such as 10.0.0.0/8.`, 'site.cidrs');
    return `${parsed.address}/${parsed.prefix}`;
  });
  return { domains: [...new Set(domains)], cidrs: [...new Set(cidrs)] };
}

/** What a license's type and term need, checked before it is issued. */
function checkIssuable(t: {
  type: LicenseType;
  startsAt: Date;
  expiresAt: Date | null;
  namedUsers: number | null | undefined;
  concurrentSessions: number | null | undefined;
  site: { domains: string[]; cidrs: string[] };
  autoRenew: boolean;
}): void {
  if (t.expiresAt && t.expiresAt <= t.startsAt) throw AppError.badInput('The license would end before it starts.', 'expiresAt');
  if (t.type === LicenseType.SUBSCRIPTION && !t.expiresAt) {
    throw AppError.badInput('A SUBSCRIPTION license needs a term: give `termDays` or `expiresAt`, or use a plan with a term.', 'termDays');
  }
  if (t.type === LicenseType.USER && !t.namedUsers)
    throw AppError.badInput('A USER license needs `limits.namedUsers` of at least 1.', 'limits.namedUsers');
  if (t.type === LicenseType.CONCURRENT && !t.concurrentSessions) {
    throw AppError.badInput('A CONCURRENT license needs `limits.concurrentSessions` of at least 1.', 'limits.concurrentSessions');
  }
  if (t.type === LicenseType.SITE && !t.site.domains.length && !t.site.cidrs.length) {
    throw AppError.badInput('A SITE license needs at least one domain or CIDR range in `site`.', 'site');
  }
  // Renewing needs a term: a perpetual license cannot renew, by itself or otherwise.
  if (t.autoRenew && !t.expiresAt) {
    throw AppError.badInput(
      'A perpetual license has no term to renew: give `termDays` or `expiresAt`, or leave `autoRenew` off.',
      'autoRenew',
    );
  }
}

/**
 * Responsible for the life of licenses: issuing them from plans, suspension, resumption, revocation and renewal,
 * and reading them. Talks to the catalog (plans and features), the lease ledger and the audit log.
 */
export class LicenseService {
  constructor(
    private readonly audit: AuditService,
    private readonly catalog: CatalogService,
    private readonly sessions: SessionTerminator,
    private readonly digester: SecretDigester,
    /** Whether the database has row locks (PostgreSQL); SQLite's single writer already excludes. */
    private readonly rowLocks: boolean,
    private readonly clock: Clock,
  ) {}

  async get(op: Operation, id: string): Promise<License> {
    op.principal.require(Permission.LICENSE_READ);
    const license = await op.em.findOne(License, { id });
    if (!license || !op.principal.mayAccessOrganization(license.organization.id)) throw AppError.notFound('License', id);
    return license;
  }

  list(op: Operation, filter: LicenseFilter, page: PageArgs): Promise<Page<License>> {
    op.principal.require(Permission.LICENSE_READ);
    const organizationId = op.principal.scopeOrganization(filter.organizationId);
    const where: FilterQuery<License> = {};
    if (organizationId) where.organization = organizationId;
    if (filter.planId) where.plan = filter.planId;
    if (filter.productId) where.product = filter.productId;
    if (filter.type) where.type = filter.type;
    if (filter.status) where.status = filter.status;
    return findPage(op.em, License, where, page, (l) => l);
  }

  /** The features each license entitles, in one query for all of them. */
  async featuresOf(em: EntityManager, licenseIds: readonly string[]): Promise<Map<string, Feature[]>> {
    const licenses = await em.find(License, { id: { $in: [...licenseIds] } }, { populate: ['features'], fields: ['id', 'features'] });
    return new Map(licenses.map((l) => [l.id, l.features.getItems()]));
  }

  async issue(op: Operation, input: IssueLicenseInput): Promise<{ license: License; key: string }> {
    op.principal.require(Permission.LICENSE_MANAGE, input.organizationId);
    const overage = input.overage ? checkOverage(input.overage) : null;
    const site = checkSite(input.site);
    return op.em.transactional(async (em) => {
      const organization = await em.findOne(Organization, { id: input.organizationId });
      if (!organization) throw AppError.notFound('Organization', input.organizationId);
      const plan = await em.findOne(Plan, { id: input.planId }, { populate: ['features'] });
      if (!plan) throw AppError.notFound('Plan', input.planId);

      const type = input.type ?? plan.licenseType;
      const limits = input.limits ?? {};
      const namedUsers = limits.namedUsers !== undefined ? limits.namedUsers : plan.namedUsers;
      const concurrentSessions = limits.concurrentSessions !== undefined ? limits.concurrentSessions : plan.concurrentSessions;
      const termDays = input.termDays ?? plan.termDays ?? null;
      const startsAt = input.startsAt ?? this.clock.now();
      const expiresAt = input.expiresAt ?? (termDays ? new Date(startsAt.getTime() + termDays * DAY_MS) : null);
      checkIssuable({ type, startsAt, expiresAt, namedUsers, concurrentSessions, site, autoRenew: input.autoRenew ?? false });
      const features = input.featureKeys
        ? await this.catalog.resolveFeatures(em, plan.product.id, input.featureKeys, 'featureKeys')
        : plan.features.getItems();
      if (type === LicenseType.FEATURE && !features.length) {
        throw AppError.badInput('A FEATURE license needs at least one feature.', 'featureKeys');
      }

      const key = generateLicenseKey();
      const license = em.create(License, {
        organization,
        plan,
        product: plan.product,
        keyDigest: this.digester.digest(key),
        keyHint: hintOf(key),
        type,
        status: LicenseStatus.ACTIVE,
        startsAt,
        expiresAt,
        termStartedAt: expiresAt ? startsAt : null,
        termDays,
        gracePeriodDays: input.gracePeriodDays ?? plan.gracePeriodDays,
        autoRenew: expiresAt ? (input.autoRenew ?? plan.autoRenew) : false,
        namedUsers: namedUsers ?? null,
        concurrentSessions: concurrentSessions ?? null,
        storageBytes: limits.storageBytes !== undefined ? limits.storageBytes : plan.storageBytes,
        apiCallsPerPeriod: limits.apiCallsPerPeriod !== undefined ? limits.apiCallsPerPeriod : plan.apiCallsPerPeriod,
        apiCallPeriod: limits.apiCallPeriod ?? plan.apiCallPeriod,
        overagePolicy: overage?.policy ?? plan.overagePolicy,
        overagePercent: overage ? overage.percent : plan.overagePercent,
        leaseTtlSeconds: input.leaseTtlSeconds ?? plan.leaseTtlSeconds,
        clientCallsPerMinute: input.clientCallsPerMinute ?? plan.clientCallsPerMinute ?? null,
        siteDomains: site.domains,
        siteCidrs: site.cidrs,
        createdAt: this.clock.now(),
      });
      license.features.set(features);
      this.audit.record(em, op.principal.requireActor(), op.requestId, {
        organizationId: organization.id,
        action: AuditAction.LICENSE_ISSUE,
        objectType: 'License',
        objectId: license.id,
        after: { ...snapshot(license), features: features.map((f) => f.key) },
      });
      return { license, key };
    });
  }

  /**
   * Loads and locks a license for a change, checks the caller's right to change it, applies `change`, and
   * records the change in the audit log, all in one transaction.
   */
  private async change(
    op: Operation,
    id: string,
    action: AuditAction,
    change: (license: License, em: EntityManager, now: Date) => Promise<Record<string, unknown> | undefined>,
  ): Promise<License> {
    op.principal.require(Permission.LICENSE_MANAGE);
    return op.em.transactional(async (em) => {
      const license = await em.findOne(License, { id }, this.rowLocks ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {});
      if (!license) throw AppError.notFound('License', id);
      op.principal.requireObject(Permission.LICENSE_MANAGE, license.organization.id, 'License', id);
      const before = snapshot(license);
      const extra = (await change(license, em, this.clock.now())) ?? {};
      this.audit.record(em, op.principal.requireActor(), op.requestId, {
        organizationId: license.organization.id,
        action,
        objectType: 'License',
        objectId: license.id,
        before,
        after: { ...snapshot(license), ...extra },
      });
      return license;
    });
  }

  private reason(reason: string | null | undefined): string | null {
    const trimmed = reason?.trim() || null;
    if (trimmed && trimmed.length > REASON_MAX) throw AppError.badInput(`A reason is at most ${REASON_MAX} characters.`, 'reason');
    return trimmed;
  }

  /**
   * `ended`, when given, is told the live leases that ended with the license, once that is committed and before their
   * count is observed again (which may resolve an overage: a remediation notes itself first).
   */
  suspend(op: Operation, id: string, reason?: string | null, ended?: (leases: EndedLease[]) => Promise<unknown>): Promise<License> {
    return this.deactivate(op, id, 'suspend', LicenseStatus.SUSPENDED, reason, (status) => status === LicenseStatus.ACTIVE, ended);
  }

  resume(op: Operation, id: string): Promise<License> {
    return this.change(op, id, AuditAction.LICENSE_RESUME, async (license) => {
      if (license.status !== LicenseStatus.SUSPENDED) throw AppError.invalidTransition('license', license.status, 'resume');
      license.status = LicenseStatus.ACTIVE;
      license.statusReason = null;
      return undefined;
    });
  }

  revoke(op: Operation, id: string, reason?: string | null): Promise<License> {
    return this.deactivate(op, id, 'revoke', LicenseStatus.REVOKED, reason, (status) => status !== LicenseStatus.REVOKED);
  }

  /**
   * Suspends or revokes: the license's live sessions end with it, and once that is committed its session count is
   * observed again, for usage subscribers and threshold alerts.
   */
  private async deactivate(
    op: Operation,
    id: string,
    verb: 'suspend' | 'revoke',
    status: LicenseStatus,
    reason: string | null | undefined,
    allowedFrom: (status: LicenseStatus) => boolean,
    ended?: (leases: EndedLease[]) => Promise<unknown>,
  ): Promise<License> {
    const why = this.reason(reason);
    let leasesEnded: EndedLease[] = [];
    const action = verb === 'suspend' ? AuditAction.LICENSE_SUSPEND : AuditAction.LICENSE_REVOKE;
    const license = await this.change(op, id, action, async (license, em, now) => {
      if (!allowedFrom(license.status)) throw AppError.invalidTransition('license', license.status, verb);
      license.status = status;
      license.statusReason = why;
      leasesEnded = await this.sessions.endAllOf(em, license.id, now);
      return { leasesEnded: leasesEnded.length };
    });
    await ended?.(leasesEnded);
    if (leasesEnded.length > 0) await this.sessions.recount(license.id, op.requestId);
    return license;
  }

  /** Raises one limit of a license (remediating an overage); a lower or equal one is refused. */
  raiseLimit(op: Operation, id: string, limit: RaisableLimit, to: number): Promise<License> {
    return this.change(op, id, AuditAction.LICENSE_RAISE_LIMIT, async (license) => {
      const from = license[limit] ?? null;
      if (from === null) throw AppError.badInput(`The license sets no ${limit} limit to raise.`, 'limit');
      if (to <= from) throw AppError.badInput(`The new ${limit} limit must be above the current ${from}.`, 'limit');
      license[limit] = to;
      return undefined;
    });
  }

  /** Turns automatic renewal on or off (off: the license ends with its term, like cancelling a subscription). */
  setAutoRenew(op: Operation, id: string, autoRenew: boolean): Promise<License> {
    return this.change(op, id, AuditAction.LICENSE_SET_AUTO_RENEW, async (license) => {
      if (license.status === LicenseStatus.REVOKED) throw AppError.invalidTransition('license', license.status, 'setAutoRenew');
      if (autoRenew && !license.expiresAt) throw AppError.badInput('A perpetual license has no term to renew.', 'autoRenew');
      license.autoRenew = autoRenew;
      return undefined;
    });
  }

  renew(op: Operation, id: string, input: RenewLicenseInput): Promise<License> {
    if (input.termDays && input.expiresAt) throw AppError.badInput('Give either `termDays` or `expiresAt`, not both.', 'expiresAt');
    return this.change(op, id, AuditAction.LICENSE_RENEW, async (license, _em, now) => {
      if (license.status === LicenseStatus.REVOKED) throw AppError.invalidTransition('license', license.status, 'renew');
      // Giving a perpetual license an end would take access away, which is no renewal.
      if (!license.expiresAt) throw AppError.badInput('A perpetual license has no term to renew.', 'expiresAt');
      const currentEnd = license.expiresAt;
      // A renewal continues the term; a license renewed after it lapsed starts its new term now.
      const from = Math.max(currentEnd.getTime(), now.getTime());
      let expiresAt: Date;
      if (input.expiresAt) {
        expiresAt = input.expiresAt;
      } else {
        const days = input.termDays ?? license.termDays;
        if (!days) throw AppError.badInput('This license has no term length to renew by: give `termDays` or `expiresAt`.', 'termDays');
        expiresAt = new Date(from + days * DAY_MS);
      }
      if (expiresAt <= now || expiresAt <= license.startsAt) throw AppError.badInput('A renewal must end in the future.', 'expiresAt');
      if (expiresAt <= currentEnd) throw AppError.badInput('A renewal must end after the current term.', 'expiresAt');
      license.expiresAt = expiresAt;
      license.termStartedAt = new Date(from);
      if (license.status === LicenseStatus.EXPIRED) license.status = LicenseStatus.ACTIVE;
      return undefined;
    });
  }
}
