import { type EntityManager, type FilterQuery, LockMode } from '@mikro-orm/knex';
import type { SqlGateway } from '../../db/sql';
import { Lock, type Tx } from '../../db/transaction';
import { type ActionOn, AuditAction } from '../audit/audit-actions';
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
import type { LicenseRow, LicenseStore } from './license-store';
import { LicenseStatus, type LicenseType } from '../../kernel/license.enums';
import { type TypeNeed, unmetNeed } from '../../kernel/license-types';
import type { IssueLicenseInput, LicenseFilter, RenewLicenseInput, SiteInput } from './license.types';
import { normalizeDomain, parseCidr } from './site';
import type { Clock } from '../../common/clock';

const DAY_MS = 86_400_000;
const REASON_MAX = 500;

/** The limits of a license that remediation can raise. */
export type RaisableLimit = 'namedUsers' | 'concurrentSessions' | 'storageBytes' | 'apiCallsPerPeriod';

/** What a change of a license writes, and what its audit event notes beside the license's state. */
interface LicenseChange {
  set: Partial<LicenseRow>;
  note?: Record<string, unknown>;
}

/** A live lease that ended with its license. */
export interface EndedLease {
  id: string;
  fingerprint: string;
}

/** Ends the concurrent sessions of a license (the seat module's lease ledger). */
export interface SessionTerminator {
  /** Ends the live leases of a license that was suspended or revoked; returns them. */
  endAllOf(tx: Tx, licenseId: string, now: Date): Promise<EndedLease[]>;
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

/** Where issuing a license states what its type needs: the field to fix, and how. */
const ISSUE_HINT: Record<TypeNeed, { field: string; hint: string }> = {
  term: { field: 'termDays', hint: ': give `termDays` or `expiresAt`, or use a plan with a term.' },
  namedUsers: { field: 'limits.namedUsers', hint: '.' },
  concurrentSessions: { field: 'limits.concurrentSessions', hint: '.' },
  site: { field: 'site', hint: ' in `site`.' },
  features: { field: 'featureKeys', hint: '.' },
};

/** What a license's type and term need, checked before it is issued. */
function checkIssuable(t: {
  type: LicenseType;
  startsAt: Date;
  expiresAt: Date | null;
  namedUsers: number | null | undefined;
  concurrentSessions: number | null | undefined;
  site: { domains: string[]; cidrs: string[] };
  features: number;
  autoRenew: boolean;
}): void {
  if (t.expiresAt && t.expiresAt <= t.startsAt) throw AppError.badInput('The license would end before it starts.', 'expiresAt');
  const unmet = unmetNeed({ ...t, hasTerm: t.expiresAt !== null });
  if (unmet) throw AppError.badInput(`${unmet.message}${ISSUE_HINT[unmet.need].hint}`, ISSUE_HINT[unmet.need].field);
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
    private readonly db: SqlGateway,
    private readonly store: LicenseStore,
    private readonly audit: AuditService,
    private readonly catalog: CatalogService,
    private readonly sessions: SessionTerminator,
    private readonly digester: SecretDigester,
    private readonly clock: Clock,
  ) {}

  /** How many license keys are stored under each server secret's id (see LicenseStore.keysBySecret); for diagnostics. */
  keysBySecret(): Promise<{ secretId: string | null; count: number }[]> {
    return this.db.read((sql) => this.store.keysBySecret(sql));
  }

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
    return this.db.withEntities(op.em, async (em, tx) => {
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
      const features = input.featureKeys
        ? await this.catalog.resolveFeatures(em, plan.product.id, input.featureKeys, 'featureKeys')
        : plan.features.getItems();
      const autoRenew = input.autoRenew ?? false;
      checkIssuable({ type, startsAt, expiresAt, namedUsers, concurrentSessions, site, features: features.length, autoRenew });

      const key = generateLicenseKey();
      const now = this.clock.now();
      const row: LicenseRow = {
        organizationId: organization.id,
        planId: plan.id,
        productId: plan.product.id,
        keyDigest: this.digester.digest(key),
        keyHint: hintOf(key),
        type,
        status: LicenseStatus.ACTIVE,
        statusReason: null,
        startsAt,
        expiresAt,
        termStartedAt: expiresAt ? startsAt : null,
        termDays,
        gracePeriodDays: input.gracePeriodDays ?? plan.gracePeriodDays,
        autoRenew: expiresAt ? (input.autoRenew ?? plan.autoRenew) : false,
        namedUsers: namedUsers ?? null,
        concurrentSessions: concurrentSessions ?? null,
        storageBytes: (limits.storageBytes !== undefined ? limits.storageBytes : plan.storageBytes) ?? null,
        apiCallsPerPeriod: (limits.apiCallsPerPeriod !== undefined ? limits.apiCallsPerPeriod : plan.apiCallsPerPeriod) ?? null,
        apiCallPeriod: limits.apiCallPeriod ?? plan.apiCallPeriod,
        overagePolicy: overage?.policy ?? plan.overagePolicy,
        overagePercent: (overage ? overage.percent : plan.overagePercent) ?? null,
        leaseTtlSeconds: input.leaseTtlSeconds ?? plan.leaseTtlSeconds,
        clientCallsPerMinute: input.clientCallsPerMinute ?? plan.clientCallsPerMinute ?? null,
        siteDomains: site.domains,
        siteCidrs: site.cidrs,
      };
      const license = await em.findOneOrFail(License, {
        id: await this.store.insert(
          tx,
          row,
          features.map((f) => f.key),
          now,
        ),
      });
      await this.audit.record(tx, {
        actor: op.principal.requireActor(),
        requestId: op.requestId,
        at: now,
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
    action: ActionOn<'License'>,
    change: (license: Readonly<License>, tx: Tx, now: Date) => Promise<LicenseChange>,
  ): Promise<License> {
    op.principal.require(Permission.LICENSE_MANAGE);
    return this.db.withEntities(op.em, async (em, tx) => {
      const lock = tx.forUpdate(Lock.LICENSE, id) ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {};
      const license = await em.findOne(License, { id }, lock);
      if (!license) throw AppError.notFound('License', id);
      op.principal.requireObject(Permission.LICENSE_MANAGE, license.organization.id, 'License', id);
      const before = snapshot(license);
      const now = this.clock.now();
      const { set, note } = await change(license, tx, now);
      await this.store.update(tx, id, set, now);
      // The license as written: read again on the transaction's connection.
      await em.refresh(license);
      await this.audit.record(tx, {
        actor: op.principal.requireActor(),
        requestId: op.requestId,
        at: now,
        organizationId: license.organization.id,
        action,
        objectType: 'License',
        objectId: license.id,
        before,
        after: { ...snapshot(license), ...note },
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
      return { set: { status: LicenseStatus.ACTIVE, statusReason: null } };
    });
  }

  /**
   * Gives a license a new key, for one leaked or lost: the old key stops at once (its clients' calls, heartbeats
   * included, are refused from now on); the new one is returned this once. The audit event holds the hints only.
   */
  async regenerateKey(op: Operation, id: string): Promise<{ license: License; key: string }> {
    const key = generateLicenseKey();
    const license = await this.change(op, id, AuditAction.LICENSE_REGENERATE_KEY, async (license) => {
      if (license.status === LicenseStatus.REVOKED) throw AppError.invalidTransition('license', license.status, 'regenerate the key of');
      return { set: { keyDigest: this.digester.digest(key), keyHint: hintOf(key) } };
    });
    return { license, key };
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
    const license = await this.change(op, id, action, async (license, tx, now) => {
      if (!allowedFrom(license.status)) throw AppError.invalidTransition('license', license.status, verb);
      leasesEnded = await this.sessions.endAllOf(tx, license.id, now);
      return { set: { status, statusReason: why }, note: { leasesEnded: leasesEnded.length } };
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
      return { set: { [limit]: to } };
    });
  }

  /** Turns automatic renewal on or off (off: the license ends with its term, like cancelling a subscription). */
  setAutoRenew(op: Operation, id: string, autoRenew: boolean): Promise<License> {
    return this.change(op, id, AuditAction.LICENSE_SET_AUTO_RENEW, async (license) => {
      if (license.status === LicenseStatus.REVOKED) throw AppError.invalidTransition('license', license.status, 'setAutoRenew');
      if (autoRenew && !license.expiresAt) throw AppError.badInput('A perpetual license has no term to renew.', 'autoRenew');
      return { set: { autoRenew } };
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
      const status = license.status === LicenseStatus.EXPIRED ? LicenseStatus.ACTIVE : license.status;
      return { set: { expiresAt, termStartedAt: new Date(from), status } };
    });
  }
}
