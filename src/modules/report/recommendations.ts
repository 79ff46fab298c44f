import { createHash } from 'node:crypto';
import { Permission } from '../../auth/roles';
import type { Clock } from '../../common/clock';
import type { Operation } from '../../common/operation';
import { isId } from '../../db/ids';
import { type SqlGateway, type SqlRunner, toDate, toDateOrNull } from '../../db/sql';
import { AppError } from '../../errors';
import { LicenseStatus, LicenseType } from '../../kernel/license.enums';
import { UsageMetric } from '../../kernel/metrics';
import type { ViolationKind } from '../../kernel/compliance.enums';
import { OVERAGE_KIND } from '../../kernel/enforcement';
import { AuditAction } from '../audit/audit-actions';
import type { AuditService } from '../audit/audit.service';
import { LimitsInput } from '../catalog/terms.types';
import { ConflictStrategy, MigrationEffective, MigrationOutcome } from '../migration/migration.enums';
import type { MigrationService } from '../migration/migration.service';
import { ConflictInput, type MigrateLicenseResult, type MigrationPreview, MigrationTargetInput } from '../migration/migration.types';
import { UsageResolution } from '../usage/usage.types';
import {
  RecommendationEvidence,
  type RecommendationFilter,
  RecommendationKind,
  RecommendationNode,
  RecommendationTarget,
  RenewalNode,
} from './recommendation.types';
import { percentile, type ReportDetail, type UsageReportService } from './usage-report';
import { type RecommendationSettings, settingsOf } from './recommendation-settings';
import type { LicenseUsageReport, MetricUsageSummary } from './usage-report.types';

const DAY_MS = 86_400_000;
/** The periods a window is cut into to see whether overages recur. */
const PERIOD_MS = 30 * DAY_MS;
const REASON_MAX = 500;

/** A plan a license could move to: its type, limits and features. */
interface PlanFacts {
  id: string;
  productId: string;
  type: LicenseType;
  limits: Record<keyof Pick<LimitsInput, 'namedUsers' | 'concurrentSessions' | 'storageBytes' | 'apiCallsPerPeriod'>, number | null>;
  features: Set<string>;
}

/** Every metric's limit, by the name a plan and a migration target give it. */
const LIMIT_NAME: Record<UsageMetric, keyof PlanFacts['limits']> = {
  [UsageMetric.ACTIVE_USERS]: 'namedUsers',
  [UsageMetric.CONCURRENT_SESSIONS]: 'concurrentSessions',
  [UsageMetric.STORAGE_BYTES]: 'storageBytes',
  [UsageMetric.API_CALLS]: 'apiCallsPerPeriod',
};

/** What a limit must allow for what was used: the p95 of daily peaks plus the buffer; for API calls, the highest count. */
function need(m: MetricUsageSummary, settings: RecommendationSettings): number | null {
  if (m.metric === UsageMetric.API_CALLS) return m.limit !== null && m.utilization !== null ? Math.round(m.utilization * m.limit) : null;
  const p95 = Math.ceil(m.p95DailyPeak);
  return p95 + Math.max(1, Math.ceil((p95 * settings.bufferPercent) / 100));
}

/** Of the plans proposed for a license, the one that saves most, and only if it saves. */
function cheapestPlans<R extends { node: RecommendationNode }>(recommendations: R[]): R[] {
  const planKinds = [RecommendationKind.CHEAPER_PLAN, RecommendationKind.RENEWAL_RIGHT_SIZE];
  const best = new Map<string, R>();
  for (const r of recommendations) {
    const { kind, licenseId, yearlyCostChangeCents: change } = r.node;
    if (!planKinds.includes(kind) || change === null || change >= 0) continue;
    const current = best.get(licenseId);
    if (!current || change < (current.node.yearlyCostChangeCents ?? 0)) best.set(licenseId, r);
  }
  return recommendations.filter((r) => !planKinds.includes(r.node.kind) || best.get(r.node.licenseId) === r);
}

/** The metrics whose denials name their clients: their unmet demand is counted in clients. */
const CLIENT_METRICS: readonly UsageMetric[] = [UsageMetric.ACTIVE_USERS, UsageMetric.CONCURRENT_SESSIONS];

/** A recommendation before its preview: what argues for it, and the migration it proposes. */
interface Candidate {
  kind: RecommendationKind;
  license: LicenseFacts;
  summary: string;
  evidence: Record<string, number>;
  /** The evidence its id rests on: the numbers that make it, not those that drift from day to day. */
  decisive: Record<string, number | string>;
  target: MigrationTargetInput;
  effective: MigrationEffective;
}

interface LicenseFacts {
  id: string;
  /** Its organization's recommendation settings. */
  settings: RecommendationSettings;
  organizationId: string;
  type: LicenseType;
  productId: string;
  planId: string;
  startsAt: Date;
  expiresAt: Date | null;
  /** Features named and allowed within the window: a plan without one of them is no plan for the license. */
  featuresUsed: Set<string>;
  features: { key: string; premium: boolean; lastUsedAt: Date | null }[];
  assignedSeats: number;
  inactiveSeats: number;
  /** Distinct clients left without, per metric and day. */
  unmetClients: Map<string, number>;
  /** Overage violations seen within the window, by kind. */
  overages: { kind: ViolationKind; firstSeenAt: number; lastSeenAt: number; peak: number }[];
}

/**
 * A recommendation's id: its license's id (16 bytes) and 11 bytes of a digest of what makes it (the same data, the
 * same id), as 36 characters of base64url, opaque to clients as a cursor is.
 */
function recommendationId(kind: RecommendationKind, licenseId: string, decisive: object, target: MigrationTargetInput): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([kind, licenseId, decisive, target]))
    .digest()
    .subarray(0, 11);
  return Buffer.concat([Buffer.from(licenseId.replaceAll('-', ''), 'hex'), digest]).toString('base64url');
}

/** The license a recommendation id names; null when it is no id this server made. */
function licenseOfId(id: string): string | null {
  if (!/^[A-Za-z0-9_-]{36}$/.test(id)) return null;
  const hex = Buffer.from(id, 'base64url').subarray(0, 16).toString('hex');
  const licenseId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return isId(licenseId) ? licenseId : null;
}

/** The start of the window recommendations look at: midnight (UTC) of the day the window's days before now's. */
const windowStart = (now: Date, windowDays: number) => new Date(Math.floor((now.getTime() - windowDays * DAY_MS) / DAY_MS) * DAY_MS);

/** The longest renewal window asked for: two years. */
const MAX_RENEWAL_DAYS = 730;

interface RenewalRow {
  id: string;
  organization_id: string;
  type: LicenseType;
  expires_at: unknown;
  auto_renew: unknown;
  starts_at: unknown;
  term_started_at: unknown;
  term_days: unknown;
  named_users: unknown;
  concurrent_sessions: unknown;
  plan_name: string;
  plan_term_days: unknown;
  price_per_seat_cents: unknown;
  price_per_period_cents: unknown;
  currency: string;
}

/**
 * A year of a license at its plan's prices: a term's price (per period, plus per seat for each named user or session
 * allowed) times the terms in 365 days, the term being the license's `termDays`, its plan's, or its current term.
 */
function yearlyCostOf(row: RenewalRow): { yearlyCostCents: number | null; currency: string | null } {
  const perSeat = row.price_per_seat_cents === null ? null : Number(row.price_per_seat_cents);
  const perPeriod = row.price_per_period_cents === null ? null : Number(row.price_per_period_cents);
  if (perSeat === null && perPeriod === null) return { yearlyCostCents: null, currency: null };
  const seats = row.type === LicenseType.USER ? row.named_users : row.type === LicenseType.CONCURRENT ? row.concurrent_sessions : 0;
  const term = (perPeriod ?? 0) + (perSeat ?? 0) * Number(seats ?? 0);
  const started = toDate(row.term_started_at ?? row.starts_at).getTime();
  const termDays = Number(row.term_days ?? row.plan_term_days ?? 0) || Math.round((toDate(row.expires_at).getTime() - started) / DAY_MS);
  return termDays > 0
    ? { yearlyCostCents: Math.round((term * 365) / termDays), currency: row.currency }
    : { yearlyCostCents: null, currency: null };
}

const limitsTarget = (limits: Partial<LimitsInput>) =>
  Object.assign(new MigrationTargetInput(), { limits: Object.assign(new LimitsInput(), limits) });

/**
 * Responsible for recommendations: what the use of an organization's licenses over a window argues for (seats to
 * reclaim, limits to lower or raise, premium features nobody uses), each with its evidence in numbers, the migration
 * it proposes and, from that migration's exact preview, what it does to the yearly cost. A recommendation can be
 * previewed, applied (through the migration, audited as coming from it) or dismissed.
 */
export class RecommendationService {
  constructor(
    private readonly db: SqlGateway,
    private readonly reports: UsageReportService,
    private readonly migrations: MigrationService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async list(op: Operation, organizationId: string, filter: RecommendationFilter | null): Promise<RecommendationNode[]> {
    op.principal.require(Permission.LICENSE_READ, organizationId);
    const now = this.clock.now();
    const { recommendations: all } = await this.recommend(op, organizationId, now);
    const dismissed = filter?.includeDismissed ? new Set<string>() : await this.dismissed(organizationId, now);
    return all
      .filter(
        ({ node }) =>
          !dismissed.has(node.id) &&
          (!filter?.kinds?.length || filter.kinds.includes(node.kind)) &&
          (!filter?.licenseIds?.length || filter.licenseIds.includes(node.licenseId)),
      )
      .map(({ node }) => node);
  }

  /**
   * The active licenses of an organization whose term ends within `withinDays`, soonest first, each with its yearly
   * cost, its use over the window and its recommendations (those not dismissed): what renewal planning needs, in one
   * answer.
   */
  async renewals(op: Operation, organizationId: string, withinDays: number): Promise<RenewalNode[]> {
    op.principal.require(Permission.LICENSE_READ, organizationId);
    if (!Number.isInteger(withinDays) || withinDays < 1 || withinDays > MAX_RENEWAL_DAYS) {
      throw AppError.badInput(`\`withinDays\` is a whole number of days from 1 to ${MAX_RENEWAL_DAYS}.`, 'withinDays');
    }
    const now = this.clock.now();
    const ending = await this.db.read((sql) =>
      sql.all<RenewalRow>(
        `select l.id, l.organization_id, l.type, l.expires_at, l.auto_renew, l.starts_at, l.term_started_at, l.term_days, l.named_users,
                l.concurrent_sessions, p.name as plan_name, p.term_days as plan_term_days, p.price_per_seat_cents, p.price_per_period_cents, p.currency
           from license l join plan p on p.id = l.plan_id
          where l.organization_id = ? and l.status = ? and l.expires_at > ? and l.expires_at <= ? order by l.expires_at, l.id`,
        [organizationId, LicenseStatus.ACTIVE, now, new Date(now.getTime() + withinDays * DAY_MS)],
      ),
    );
    if (!ending.length) return [];
    const dismissed = await this.dismissed(organizationId, now);
    const { report, recommendations } = await this.recommend(
      op,
      organizationId,
      now,
      ending.map((r) => r.id),
      { series: true, thresholds: true },
    );
    const recommended = recommendations.filter((r) => !dismissed.has(r.node.id));
    return ending.map((row) =>
      Object.assign(new RenewalNode(), {
        licenseId: row.id,
        organizationId: row.organization_id,
        planName: row.plan_name,
        type: row.type,
        expiresAt: toDate(row.expires_at),
        autoRenew: Boolean(row.auto_renew),
        ...yearlyCostOf(row),
        utilization: report.licenses.find((l) => l.licenseId === row.id)?.metrics ?? [],
        recommendations: recommended.filter((r) => r.node.licenseId === row.id).map((r) => r.node),
      }),
    );
  }

  /** The migration preview of a recommendation as it stands now. */
  async preview(op: Operation, id: string): Promise<MigrationPreview> {
    return (await this.find(op, id)).preview;
  }

  /** Applies a recommendation through its migration, as its preview says; the audit log names the recommendation. */
  async apply(op: Operation, id: string, onConflict: ConflictInput | null | undefined): Promise<MigrateLicenseResult> {
    op.principal.require(Permission.LICENSE_MANAGE);
    const { node, target } = await this.find(op, id);
    const conflict = onConflict ?? Object.assign(new ConflictInput(), { strategy: ConflictStrategy.RELEASE_LEAST_ACTIVE });
    return this.migrations.migrate(op, node.licenseId, target, node.target.effective, conflict, this.clock.now(), { recommendationId: id });
  }

  /** Hides a recommendation until `until`, or for as long as its evidence stays the same (its id changes with it). */
  async dismiss(op: Operation, id: string, reason: string, until: Date | null | undefined): Promise<RecommendationNode> {
    op.principal.require(Permission.LICENSE_MANAGE);
    const why = reason.trim();
    if (!why) throw AppError.badInput('Give a reason: `reason` is empty.', 'reason');
    if (why.length > REASON_MAX) throw AppError.badInput(`A reason is at most ${REASON_MAX} characters.`, 'reason');
    const now = this.clock.now();
    if (until && until <= now) throw AppError.badInput('`until` must be in the future.', 'until');
    const { node } = await this.find(op, id);
    op.principal.requireObject(Permission.LICENSE_MANAGE, node.organizationId, 'Recommendation', id);
    const actor = op.principal.requireActor();
    await this.db.write(async (tx) => {
      await tx.run(
        `insert into recommendation_dismissal (id, organization_id, license_id, kind, reason, until, dismissed_at, dismissed_by)
         values (?, ?, ?, ?, ?, ?, ?, ?)
         on conflict (id) do update set reason = excluded.reason, until = excluded.until, dismissed_at = excluded.dismissed_at,
           dismissed_by = excluded.dismissed_by`,
        [id, node.organizationId, node.licenseId, node.kind, why, until ?? null, now, actor.label],
      );
      await this.audit.record(tx, {
        actor,
        requestId: op.requestId,
        at: now,
        organizationId: node.organizationId,
        action: AuditAction.RECOMMENDATION_DISMISS,
        objectType: 'Recommendation',
        objectId: id,
        after: { kind: node.kind, licenseId: node.licenseId, reason: why, until: until ?? null },
      });
    });
    return node;
  }

  /** A recommendation of a license the caller may read, as it stands now; NOT_FOUND once its evidence changed. */
  private async find(op: Operation, id: string) {
    op.principal.require(Permission.LICENSE_READ);
    const licenseId = licenseOfId(id);
    const license =
      licenseId &&
      (await this.db.read((sql) => sql.get<{ organization_id: string }>('select organization_id from license where id = ?', [licenseId])));
    if (!licenseId || !license || !op.principal.mayAccessOrganization(license.organization_id))
      throw AppError.notFound('Recommendation', id);
    const found = (await this.recommend(op, license.organization_id, this.clock.now(), [licenseId])).recommendations.find(
      (r) => r.node.id === id,
    );
    if (!found) throw AppError.notFound('Recommendation', id);
    return found;
  }

  private async dismissed(organizationId: string, now: Date): Promise<Set<string>> {
    const rows = await this.db.read((sql) =>
      sql.all<{ id: string; until: unknown }>('select id, until from recommendation_dismissal where organization_id = ?', [organizationId]),
    );
    return new Set(rows.filter((r) => !r.until || toDate(r.until) > now).map((r) => r.id));
  }

  /**
   * Every recommendation of an organization (or of some of its licenses) now, each with its preview, and the usage
   * report of the window they rest on.
   */
  private async recommend(op: Operation, organizationId: string, now: Date, licenseIds?: string[], detail?: ReportDetail) {
    const settings = await this.db.read((sql) => settingsOf(sql, organizationId));
    const from = windowStart(now, settings.windowDays);
    const windowDays = Math.round((now.getTime() - from.getTime()) / DAY_MS);
    const filter = licenseIds ? { licenseIds } : { organizationId };
    const { facts, plans } = await this.db.read(async (sql) => ({
      facts: await this.factsOf(sql, organizationId, settings, from, now),
      plans: await this.plansOf(sql, organizationId),
    }));
    // Day by day is needed only where demand went unmet (RIGHT_SIZE_UP); every other kind rests on the figures.
    const report = await this.reports.report(
      op,
      { filter, from, to: now, resolution: UsageResolution.DAY },
      detail ?? { series: (id) => (facts.get(id)?.unmetClients.size ?? 0) > 0, thresholds: false },
    );
    const candidates: Candidate[] = [];
    for (const usage of report.licenses) {
      const license = facts.get(usage.licenseId);
      if (!license) continue;
      candidates.push(...this.candidatesOf(license, usage, from, now), ...this.planCandidates(license, usage, plans, from, now));
    }
    const recommendations: { node: RecommendationNode; target: MigrationTargetInput; preview: MigrationPreview }[] = [];
    for (const candidate of candidates) {
      const preview = await this.previewOf(op, candidate, now);
      if (!preview || preview.outcome === MigrationOutcome.REJECTED) continue;
      recommendations.push({ node: this.nodeOf(candidate, preview, windowDays), target: candidate.target, preview });
    }
    return { report, recommendations: cheapestPlans(recommendations) };
  }

  /** A candidate's migration preview; null when the migration cannot be asked for now (one already waits for the renewal). */
  private async previewOf(op: Operation, candidate: Candidate, now: Date): Promise<MigrationPreview | null> {
    const conflict = Object.assign(new ConflictInput(), { strategy: ConflictStrategy.RELEASE_LEAST_ACTIVE });
    try {
      return await this.migrations.preview(op, candidate.license.id, candidate.target, candidate.effective, conflict, now);
    } catch (error) {
      if (error instanceof AppError && error.code === 'CONFLICT') return null;
      throw error;
    }
  }

  private nodeOf(candidate: Candidate, preview: MigrationPreview, windowDays: number): RecommendationNode {
    const { price } = preview;
    const yearly =
      price.differencePerPeriod !== null && price.termDays ? Math.round((price.differencePerPeriod * 365) / price.termDays) : null;
    return Object.assign(new RecommendationNode(), {
      id: recommendationId(candidate.kind, candidate.license.id, candidate.decisive, candidate.target),
      kind: candidate.kind,
      organizationId: candidate.license.organizationId,
      licenseId: candidate.license.id,
      summary: candidate.summary,
      windowDays,
      evidence: Object.entries(candidate.evidence).map(([name, value]) => Object.assign(new RecommendationEvidence(), { name, value })),
      target: Object.assign(new RecommendationTarget(), {
        planId: candidate.target.planId ?? null,
        limits: candidate.target.limits || candidate.target.planId ? preview.to.limits : null,
        featureKeys: candidate.target.featureKeys || candidate.target.planId ? preview.to.features : null,
        effective: candidate.effective,
      }),
      yearlyCostChangeCents: yearly,
      currency: yearly === null ? null : price.currencyAfter,
    });
  }

  /** What a license's use argues for. */
  private candidatesOf(license: LicenseFacts, usage: LicenseUsageReport, from: Date, now: Date): Candidate[] {
    const found: Candidate[] = [];
    const fullWindow = license.startsAt <= from;
    for (const m of usage.metrics) {
      // API calls count per period, not per day: their limit is moved by the plan kinds only.
      if (m.metric === UsageMetric.API_CALLS || m.limit === null || !fullWindow) continue;
      const limitName = LIMIT_NAME[m.metric];
      if (m.metric === UsageMetric.ACTIVE_USERS && license.type !== LicenseType.USER) continue;
      if (m.metric === UsageMetric.CONCURRENT_SESSIONS && license.type !== LicenseType.CONCURRENT) continue;
      const down = this.rightSizeDown(license, m, limitName);
      if (down) found.push(down);
      const up = this.rightSizeUp(license, m, limitName, usage);
      if (up) found.push(up);
      const recurring = this.recurringOverage(license, m, limitName, from, now);
      if (recurring) found.push(recurring);
    }
    const reclaim = this.reclaim(license, usage.metrics.find((m) => m.metric === UsageMetric.ACTIVE_USERS)?.limit ?? null);
    if (reclaim) found.push(reclaim);
    found.push(...this.unusedFeatures(license, now));
    return found;
  }

  /**
   * CHEAPER_PLAN (RENEWAL_RIGHT_SIZE for a license whose term ends soon, at its renewal): each other plan of the same
   * product and type whose limits cover what was used (the 95th percentile of daily peaks plus the buffer, the highest
   * count of API calls) and whose features include every feature used; the cheapest of them is kept once previewed.
   */
  private planCandidates(
    license: LicenseFacts,
    usage: LicenseUsageReport,
    plans: readonly PlanFacts[],
    from: Date,
    now: Date,
  ): Candidate[] {
    if (license.startsAt > from) return [];
    const needs = usage.metrics.map((m) => ({ metric: m.metric, need: need(m, license.settings) }));
    if (needs.some((n) => n.metric !== UsageMetric.API_CALLS && usage.metrics.find((m) => m.metric === n.metric)!.unmetDemand > 0))
      return [];
    const renewing = license.expiresAt !== null && license.expiresAt.getTime() - now.getTime() <= license.settings.renewalDays * DAY_MS;
    const kind = renewing ? RecommendationKind.RENEWAL_RIGHT_SIZE : RecommendationKind.CHEAPER_PLAN;
    return plans
      .filter((p) => p.id !== license.planId && p.productId === license.productId && p.type === license.type)
      .filter((p) => [...license.featuresUsed].every((key) => p.features.has(key)))
      .filter((p) =>
        needs.every(({ metric, need }) => {
          const limit = p.limits[LIMIT_NAME[metric]];
          return limit === null || (need !== null && need <= limit);
        }),
      )
      .map((p) => ({
        kind,
        license,
        summary: `The plan ${p.id} covers what the license used (${needs
          .filter((n) => n.need !== null)
          .map((n) => `${n.metric} ${n.need}`)
          .join(', ')}) and every feature used${renewing ? ', from its renewal' : ''}.`,
        evidence: Object.fromEntries(needs.filter((n) => n.need !== null).map((n) => [`needed${n.metric}`, n.need as number])),
        decisive: { planId: p.id, ...Object.fromEntries(needs.map((n) => [n.metric, n.need ?? 'none'])) },
        target: Object.assign(new MigrationTargetInput(), { planId: p.id }),
        effective: renewing ? MigrationEffective.AT_RENEWAL : MigrationEffective.NOW,
      }));
  }

  /** RIGHT_SIZE_DOWN: the 95th percentile of daily peaks plus a buffer is below the limit, and nothing was left unmet. */
  private rightSizeDown(license: LicenseFacts, m: MetricUsageSummary, limitName: keyof LimitsInput): Candidate | null {
    const { bufferPercent } = license.settings;
    const p95 = Math.ceil(m.p95DailyPeak);
    const buffer = Math.max(1, Math.ceil((p95 * bufferPercent) / 100));
    const target = p95 + buffer;
    if (m.limit === null || target >= m.limit || m.unmetDemand > 0) return null;
    return {
      kind: RecommendationKind.RIGHT_SIZE_DOWN,
      license,
      summary: `${m.metric}: the 95th percentile of daily peaks was ${p95} of ${m.limit}, and nothing was refused; ${target} (${buffer} above it) would do.`,
      evidence: { limit: m.limit, p95DailyPeak: p95, buffer, peak: m.peak, average: m.average, unmetDemand: m.unmetDemand },
      decisive: { metric: m.metric, limit: m.limit, p95DailyPeak: p95 },
      target: limitsTarget({ [limitName]: target }),
      effective: MigrationEffective.NOW,
    };
  }

  /**
   * RIGHT_SIZE_UP: demand was left unmet on more than a set share of days; the limit that would have met 95 % of the
   * days' demand (each day's peak plus the clients it left without).
   */
  private rightSizeUp(
    license: LicenseFacts,
    m: MetricUsageSummary,
    limitName: keyof LimitsInput,
    usage: LicenseUsageReport,
  ): Candidate | null {
    if (m.limit === null || !CLIENT_METRICS.includes(m.metric) || !license.unmetClients.size) return null;
    const days = m.series.length;
    const demand = m.series.map((p) => p.peak + (license.unmetClients.get(`${m.metric}\u0000${p.start.getTime()}`) ?? 0));
    const unmetDays = m.series.filter((p) => (license.unmetClients.get(`${m.metric}\u0000${p.start.getTime()}`) ?? 0) > 0).length;
    if (!days || (unmetDays * 100) / days <= license.settings.unmetDaySharePercent) return null;
    const target = percentile(demand, 95);
    if (target <= m.limit) return null;
    return {
      kind: RecommendationKind.RIGHT_SIZE_UP,
      license,
      summary: `${m.metric}: demand went unmet on ${unmetDays} of ${days} days at a limit of ${m.limit}; ${target} would have met it on 95 % of days.`,
      evidence: {
        limit: m.limit,
        daysWithUnmetDemand: unmetDays,
        days,
        unmetDemand: m.unmetDemand,
        clientsRefused: m.clientsRefused,
        p95DailyDemand: target,
      },
      decisive: { metric: m.metric, limit: m.limit, target, unmetDays, licenseType: usage.type },
      target: limitsTarget({ [limitName]: target }),
      effective: MigrationEffective.NOW,
    };
  }

  /**
   * RECURRING_OVERAGE: overage violations of a limit in most (more than half) of the window's 30-day periods; the limit
   * that would have held the highest value they saw, with the buffer.
   */
  private recurringOverage(
    license: LicenseFacts,
    m: MetricUsageSummary,
    limitName: keyof LimitsInput,
    from: Date,
    now: Date,
  ): Candidate | null {
    const kind = OVERAGE_KIND[m.metric];
    const overages = license.overages.filter((o) => o.kind === kind);
    if (m.limit === null || !overages.length) return null;
    const periods: [number, number][] = [];
    for (let start = from.getTime(); start + PERIOD_MS <= now.getTime() + DAY_MS; start += PERIOD_MS)
      periods.push([start, start + PERIOD_MS]);
    const over = periods.filter(([start, end]) => overages.some((o) => o.firstSeenAt < end && o.lastSeenAt >= start)).length;
    if (over * 2 <= periods.length) return null;
    const peak = Math.max(...overages.map((o) => o.peak));
    const target = peak + Math.max(1, Math.ceil((peak * license.settings.bufferPercent) / 100));
    if (target <= m.limit) return null;
    return {
      kind: RecommendationKind.RECURRING_OVERAGE,
      license,
      summary: `${m.metric} went over its limit of ${m.limit} in ${over} of ${periods.length} periods of 30 days, up to ${peak}; ${target} would have held it.`,
      evidence: { limit: m.limit, periodsOver: over, periods: periods.length, highestOverage: peak },
      decisive: { metric: m.metric, limit: m.limit, highestOverage: peak, periodsOver: over },
      target: limitsTarget({ [limitName]: target }),
      effective: MigrationEffective.NOW,
    };
  }

  /**
   * RECLAIM_INACTIVE_SEATS: named seats whose users were not active for the window; the limit of the active ones, which
   * releases the others. Not when the limit is that already: lowering nothing releases nothing.
   */
  private reclaim(license: LicenseFacts, namedUsers: number | null): Candidate | null {
    if (license.type !== LicenseType.USER || license.inactiveSeats === 0) return null;
    const { inactiveDays } = license.settings;
    const active = Math.max(1, license.assignedSeats - license.inactiveSeats);
    if (namedUsers !== null && active >= namedUsers) return null;
    return {
      kind: RecommendationKind.RECLAIM_INACTIVE_SEATS,
      license,
      summary: `${license.inactiveSeats} of ${license.assignedSeats} named seats were not used for ${inactiveDays} days: release them, and keep ${active}.`,
      evidence: { assignedSeats: license.assignedSeats, inactiveSeats: license.inactiveSeats, inactiveDays },
      decisive: { assignedSeats: license.assignedSeats, inactiveSeats: license.inactiveSeats },
      target: limitsTarget({ namedUsers: active }),
      effective: MigrationEffective.NOW,
    };
  }

  /** UNUSED_PREMIUM_FEATURE: an entitled premium feature nobody used for the window (on a license at least that old). */
  private unusedFeatures(license: LicenseFacts, now: Date): Candidate[] {
    const { unusedFeatureDays } = license.settings;
    const since = now.getTime() - unusedFeatureDays * DAY_MS;
    if (license.startsAt.getTime() > since) return [];
    const keys = license.features.map((f) => f.key);
    // A FEATURE license is its features: the last one is not dropped.
    if (license.type === LicenseType.FEATURE && keys.length < 2) return [];
    return license.features
      .filter((f) => f.premium && (!f.lastUsedAt || f.lastUsedAt.getTime() < since))
      .map((f) => ({
        kind: RecommendationKind.UNUSED_PREMIUM_FEATURE,
        license,
        summary: `The premium feature ${f.key} was not used for ${unusedFeatureDays} days${f.lastUsedAt ? ` (last on ${f.lastUsedAt.toISOString().slice(0, 10)})` : ' (never)'}: drop it.`,
        evidence: {
          unusedDays: unusedFeatureDays,
          daysSinceLastUse: f.lastUsedAt ? Math.floor((now.getTime() - f.lastUsedAt.getTime()) / DAY_MS) : -1,
        },
        decisive: { feature: f.key },
        target: Object.assign(new MigrationTargetInput(), { featureKeys: keys.filter((k) => k !== f.key) }),
        effective: MigrationEffective.NOW,
      }));
  }

  /** The plans of the products an organization's licenses are of, with their limits and features. */
  private async plansOf(sql: SqlRunner, organizationId: string): Promise<PlanFacts[]> {
    const products = 'select distinct product_id from license where organization_id = ?';
    const rows = await sql.all<{
      id: string;
      product_id: string;
      license_type: LicenseType;
      named_users: unknown;
      concurrent_sessions: unknown;
      storage_bytes: unknown;
      api_calls_per_period: unknown;
    }>(
      `select id, product_id, license_type, named_users, concurrent_sessions, storage_bytes, api_calls_per_period from plan
        where product_id in (${products}) order by id`,
      [organizationId],
    );
    const features = await sql.all<{ plan_id: string; key: string }>(
      `select pf.plan_id, f.key from plan_feature pf join feature f on f.id = pf.feature_id join plan p on p.id = pf.plan_id
        where p.product_id in (${products})`,
      [organizationId],
    );
    const orNull = (value: unknown) => (value === null || value === undefined ? null : Number(value));
    return rows.map((p) => ({
      id: p.id,
      productId: p.product_id,
      type: p.license_type,
      limits: {
        namedUsers: orNull(p.named_users),
        concurrentSessions: orNull(p.concurrent_sessions),
        storageBytes: orNull(p.storage_bytes),
        apiCallsPerPeriod: orNull(p.api_calls_per_period),
      },
      features: new Set(features.filter((f) => f.plan_id === p.id).map((f) => f.key)),
    }));
  }

  /** What recommendations need beyond the usage report: the active licenses, their seats, unmet clients by day, features. */
  private async factsOf(
    sql: SqlRunner,
    organizationId: string,
    settings: RecommendationSettings,
    from: Date,
    now: Date,
  ): Promise<Map<string, LicenseFacts>> {
    const licenses = await sql.all<{
      id: string;
      type: LicenseType;
      product_id: string;
      plan_id: string;
      starts_at: unknown;
      expires_at: unknown;
    }>('select id, type, product_id, plan_id, starts_at, expires_at from license where organization_id = ? and status = ? order by id', [
      organizationId,
      LicenseStatus.ACTIVE,
    ]);
    const facts = new Map<string, LicenseFacts>(
      licenses.map((l) => [
        l.id,
        {
          id: l.id,
          settings,
          organizationId,
          type: l.type,
          productId: l.product_id,
          planId: l.plan_id,
          startsAt: toDate(l.starts_at),
          expiresAt: toDateOrNull(l.expires_at),
          featuresUsed: new Set(),
          overages: [],
          features: [],
          assignedSeats: 0,
          inactiveSeats: 0,
          unmetClients: new Map(),
        },
      ]),
    );
    const inactiveSince = new Date(now.getTime() - settings.inactiveDays * DAY_MS);
    const seats = await sql.all<{ license_id: string; assigned: unknown; inactive: unknown }>(
      `select s.license_id, count(*) as assigned, sum(case when coalesce(s.last_active_at, s.assigned_at) <= ? then 1 else 0 end) as inactive
         from seat s join license l on l.id = s.license_id where l.organization_id = ? and s.released_at is null group by s.license_id`,
      [inactiveSince, organizationId],
    );
    for (const s of seats) {
      const f = facts.get(s.license_id);
      if (f) Object.assign(f, { assignedSeats: Number(s.assigned), inactiveSeats: Number(s.inactive ?? 0) });
    }
    const unmet = await sql.all<{ license_id: string; subject: string; day: unknown; n: unknown }>(
      `select c.license_id, c.subject, c.day, count(*) as n from usage_denial_client c join license l on l.id = c.license_id
        where l.organization_id = ? and c.day >= ? and c.denials > c.retries group by c.license_id, c.subject, c.day`,
      [organizationId, from],
    );
    for (const u of unmet) facts.get(u.license_id)?.unmetClients.set(`${u.subject}\u0000${toDate(u.day).getTime()}`, Number(u.n));
    const features = await sql.all<{ license_id: string; key: string; tier: string; last_used_at: unknown }>(
      `select lf.license_id, f.key, f.tier, (select max(u.last_used_at) from feature_use u where u.license_id = lf.license_id and u.feature_key = f.key) as last_used_at
         from license_feature lf join feature f on f.id = lf.feature_id join license l on l.id = lf.license_id
        where l.organization_id = ? order by f.key`,
      [organizationId],
    );
    for (const f of features) {
      facts.get(f.license_id)?.features.push({ key: f.key, premium: f.tier === 'PREMIUM', lastUsedAt: toDateOrNull(f.last_used_at) });
    }
    await this.readUse(sql, organizationId, from, facts);
    return facts;
  }

  /** The features each license used within the window, and the overage violations it had in it. */
  private async readUse(sql: SqlRunner, organizationId: string, from: Date, facts: Map<string, LicenseFacts>): Promise<void> {
    const used = await sql.all<{ license_id: string; feature_key: string }>(
      `select distinct u.license_id, u.feature_key from feature_use u join license l on l.id = u.license_id
        where l.organization_id = ? and u.day >= ? and u.uses > 0`,
      [organizationId, from],
    );
    for (const u of used) facts.get(u.license_id)?.featuresUsed.add(u.feature_key);
    const kinds = Object.values(OVERAGE_KIND);
    const overages = await sql.all<{
      license_id: string;
      kind: ViolationKind;
      first_seen_at: unknown;
      last_seen_at: unknown;
      peak_value: unknown;
    }>(
      `select v.license_id, v.kind, v.first_seen_at, v.last_seen_at, v.peak_value from violation v join license l on l.id = v.license_id
        where l.organization_id = ? and v.kind in (${kinds.map(() => '?').join(', ')}) and v.last_seen_at >= ?`,
      [organizationId, ...kinds, from],
    );
    for (const o of overages) {
      facts.get(o.license_id)?.overages.push({
        kind: o.kind,
        firstSeenAt: toDate(o.first_seen_at).getTime(),
        lastSeenAt: toDate(o.last_seen_at).getTime(),
        peak: Number(o.peak_value ?? 0),
      });
    }
  }
}
