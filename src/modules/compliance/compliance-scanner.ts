import type { Actor } from '../../auth/principal';
import type { Tx } from '../../db/transaction';
import { Permission } from '../../auth/roles';
import type { Operation } from '../../common/operation';
import type { SqlGateway, SqlRunner, SqlValue } from '../../db/sql';
import { toDateOrNull } from '../../db/sql';
import { periodOf } from '../usage/usage-meter';
import { UsageMetric } from '../usage/usage.types';
import {
  ACTIVE_STATUSES,
  ComplianceEventType,
  OPEN_STATUSES,
  ViolationKind,
  ViolationSeverity,
  ViolationStatus,
} from '../../kernel/compliance.enums';
import { ComplianceCheckResult, type ViolationNode } from './compliance.types';
import { AdvisoryLock } from '../../db/advisory-locks';
import { ceilingOf, type LimitTerms, OVERAGE_KIND, overageSeverity } from '../../kernel/enforcement';
import { limitTerms, TERM_COLUMNS, type TermRow, termsOf } from './license-terms';
import type { Breach } from '../../kernel/breach';
import { VIOLATION_COLUMNS, type ViolationChange, type ViolationLog, type ViolationRow, violationNodeOf } from './violation-log';
import type { Clock } from '../../common/clock';

interface LicenseRow extends TermRow {
  id: string;
  organization_id: string;
  expires_at: unknown;
  seats: number | string;
  sessions: number | string;
  storage: number | string | null;
  api_calls: number | string | null;
  api_period_start: unknown;
}

const list = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');

/** What a scan looks at: every active license, or those of one organization, or one license. */
export interface ScanScope {
  organizationId?: string | null;
  licenseId?: string | null;
}

const OVERAGE_KINDS: ReadonlySet<ViolationKind> = new Set(Object.values(OVERAGE_KIND));

const SCANNER_ACTOR: Actor = { type: 'SYSTEM', id: null, label: 'compliance scan' };

/**
 * Responsible for compliance monitoring: evaluates every active license against its limits and terms, and opens the
 * overage violations that no request saw happen (a limit lowered under what is used), resolves those whose cause
 * cleared without anyone telling (a new API period, leases that died unseen, a renewal, a feature entitled since),
 * ends waivers that ran out (reopening what still holds), and escalates to CRITICAL what is still over at its deadline. It changes only what differs from what it finds, so
 * that two scans in a row change nothing the second time. One transaction a scan; on PostgreSQL it holds an
 * advisory lock, and a scan that finds it taken skips its turn: one instance scans at a time.
 */
export class ComplianceScanner {
  constructor(
    private readonly db: SqlGateway,
    private readonly log: ViolationLog,
    private readonly clock: Clock,
  ) {}

  /** A scan on demand: of the caller's organization, or for a platform admin of every one (or the one named). */
  runCheck(op: Operation, organizationId: string | null): Promise<ComplianceCheckResult> {
    op.principal.require(Permission.LICENSE_MANAGE);
    const scoped = op.principal.scopeOrganization(organizationId);
    return this.scan(op.requestId, this.clock.now(), { organizationId: scoped }, op.principal.requireActor());
  }

  scan(requestId: string, now = this.clock.now(), scope: ScanScope = {}, actor: Actor = SCANNER_ACTOR): Promise<ComplianceCheckResult> {
    return this.db.write(async (sql) => {
      const result = Object.assign(new ComplianceCheckResult(), {
        skipped: false,
        licensesChecked: 0,
        violationsOpened: 0,
        violationsResolved: 0,
        violationsReopened: 0,
        violationsEscalated: 0,
        checkedAt: now,
      });
      // The evaluation of one license (after a remediation) waits its turn; a full scan skips it.
      if (scope.licenseId) await sql.advisoryLock(AdvisoryLock.COMPLIANCE_SCAN);
      else if (!(await sql.tryAdvisoryLock(AdvisoryLock.COMPLIANCE_SCAN))) return Object.assign(result, { skipped: true });
      const scoped = (column: string) => {
        const conditions: string[] = [];
        const params: SqlValue[] = [];
        if (scope.organizationId) {
          conditions.push(`${column}organization_id = ?`);
          params.push(scope.organizationId);
        }
        if (scope.licenseId) {
          conditions.push(`${column}id = ?`);
          params.push(scope.licenseId);
        }
        return { sql: conditions.map((c) => ` and ${c}`).join(''), params };
      };
      const licenseScope = scoped('l.');
      const licenses = await sql.all<LicenseRow>(
        `select l.id, l.organization_id, ${TERM_COLUMNS}, l.expires_at,
           (select count(*) from seat s where s.license_id = l.id and s.released_at is null) as seats,
           (select count(*) from lease e where e.license_id = l.id and e.released_at is null and e.expires_at > ?) as sessions,
           (select value from usage_meter m where m.license_id = l.id and m.metric = 'STORAGE_BYTES') as storage,
           (select value from usage_meter m where m.license_id = l.id and m.metric = 'API_CALLS') as api_calls,
           (select period_start from usage_meter m where m.license_id = l.id and m.metric = 'API_CALLS') as api_period_start
         from license l where l.status = 'ACTIVE'${licenseScope.sql} order by l.id`,
        [now, ...licenseScope.params],
      );
      const violationScope = scope.licenseId ? { sql: ' and license_id = ?', params: [scope.licenseId] } : scoped('');
      const rows = await sql.all<ViolationRow>(
        `select ${VIOLATION_COLUMNS} from violation where status in (${list(ACTIVE_STATUSES)})${violationScope.sql} order by id`,
        violationScope.params,
      );
      const active = new Map<string, ViolationNode[]>();
      for (const v of rows.map(violationNodeOf)) active.set(v.licenseId, [...(active.get(v.licenseId) ?? []), v]);

      for (const license of licenses) {
        result.licensesChecked++;
        await this.evaluate(sql, license, active.get(license.id) ?? [], result, requestId, actor, now);
      }
      return result;
    });
  }

  private async evaluate(
    sql: Tx,
    license: LicenseRow,
    violations: ViolationNode[],
    result: ComplianceCheckResult,
    requestId: string,
    actor: Actor,
    now: Date,
  ): Promise<void> {
    const pass: Pass = { sql, result, requestId, actor, now };
    const terms = termsOf(license);
    const used = usedOf(license, terms, now);
    for (const metric of Object.values(UsageMetric)) {
      const current = violations.find((v) => v.kind === OVERAGE_KIND[metric] && v.subject === null);
      await this.evaluateOverage(pass, license, limitTerms(terms, metric), metric, used[metric], current);
    }
    for (const v of violations) await this.evaluateEvent(pass, license, v);
  }

  /** An overage: opened when over and none is active, resolved once back within, reopened or escalated when due. */
  private async evaluateOverage(
    pass: Pass,
    license: LicenseRow,
    policy: LimitTerms,
    metric: UsageMetric,
    value: number,
    current: ViolationNode | undefined,
  ): Promise<void> {
    const { limit } = policy;
    const over = limit !== null && value > limit;
    if (!current && over) {
      await this.log.record(pass.sql, scanBreach(license, metric, value, policy), pass.actor, pass.requestId, pass.now);
      pass.result.violationsOpened++;
    } else if (current && !over && (isOpen(current) || waiverEnded(current, pass.now))) {
      const why = limit === null ? `${metric} has no limit any more.` : `${metric} is back within its limit: ${value} of ${limit}.`;
      await this.resolve(pass, current, why);
    } else if (current && over && waiverEnded(current, pass.now)) {
      await this.reopen(pass, current);
    } else if (current && over && isOpen(current) && current.deadline && current.deadline <= pass.now) {
      await this.escalate(pass, current);
    }
  }

  /** A breach that is an event: resolved once its cause is gone (renewed, entitled), else reopened when its waiver ends. */
  private async evaluateEvent(pass: Pass, license: LicenseRow, v: ViolationNode): Promise<void> {
    const expiresAt = toDateOrNull(license.expires_at);
    const active = isOpen(v) || waiverEnded(v, pass.now);
    if (v.kind === ViolationKind.EXPIRED_USE && active && (!expiresAt || pass.now < expiresAt)) {
      await this.resolve(
        pass,
        v,
        expiresAt ? `The license was renewed: its term ends ${expiresAt.toISOString()}.` : 'The license is perpetual now.',
      );
    } else if (
      v.kind === ViolationKind.UNLICENSED_FEATURE &&
      v.subject &&
      active &&
      (await this.entitled(pass.sql, license.id, v.subject))
    ) {
      await this.resolve(pass, v, `The license entitles "${v.subject}" now.`);
    } else if (waiverEnded(v, pass.now) && !OVERAGE_KINDS.has(v.kind)) {
      // Breaches that are events, not states (a clock, a site, use after expiry not yet renewed): the waiver's end
      // puts them back before an administrator.
      await this.reopen(pass, v);
    }
  }

  private async resolve(pass: Pass, v: ViolationNode, resolution: string): Promise<void> {
    const from = v.status === ViolationStatus.WAIVED ? [ViolationStatus.WAIVED] : OPEN_STATUSES;
    const change = { status: ViolationStatus.RESOLVED, resolvedAt: pass.now, resolvedBy: 'SYSTEM', resolution };
    if (await this.transition(pass, v.id, from, change, ComplianceEventType.RESOLVED)) pass.result.violationsResolved++;
  }

  private async reopen(pass: Pass, v: ViolationNode): Promise<void> {
    const change = { status: ViolationStatus.OPEN };
    if (await this.transition(pass, v.id, [ViolationStatus.WAIVED], change, ComplianceEventType.REOPENED)) pass.result.violationsReopened++;
  }

  /** Still over at the deadline a migration allowed: CRITICAL, once (the deadline is spent). */
  private async escalate(pass: Pass, v: ViolationNode): Promise<void> {
    const change = { status: v.status, severity: ViolationSeverity.CRITICAL, deadline: null };
    if (await this.transition(pass, v.id, OPEN_STATUSES, change, ComplianceEventType.ESCALATED)) pass.result.violationsEscalated++;
  }

  private transition(pass: Pass, id: string, from: readonly ViolationStatus[], change: ViolationChange, event: ComplianceEventType) {
    return this.log.transition(pass.sql, id, from, change, event, pass.actor, pass.requestId, pass.now);
  }

  private async entitled(sql: SqlRunner, licenseId: string, featureKey: string): Promise<boolean> {
    const row = await sql.get<{ tier: string; entitled: number | boolean | null }>(
      `select f.tier, lf.license_id is not null as entitled
         from license l join feature f on f.product_id = l.product_id and f.key = ?
         left join license_feature lf on lf.feature_id = f.id and lf.license_id = l.id
        where l.id = ?`,
      [featureKey, licenseId],
    );
    return row !== undefined && (row.tier === 'CORE' || Boolean(row.entitled));
  }
}

/** What one scan pass of one license writes with, and counts into. */
interface Pass {
  sql: Tx;
  result: ComplianceCheckResult;
  requestId: string;
  actor: Actor;
  now: Date;
}

const isOpen = (v: ViolationNode) => v.status === ViolationStatus.OPEN || v.status === ViolationStatus.ACKNOWLEDGED;
const waiverEnded = (v: ViolationNode, now: Date) => v.status === ViolationStatus.WAIVED && v.waivedUntil !== null && v.waivedUntil <= now;

/** What a license uses, as the scan reads it: an API call counter of a past period reads 0. */
function usedOf(license: LicenseRow, terms: ReturnType<typeof termsOf>, now: Date): Record<UsageMetric, number> {
  const apiPeriodStart = toDateOrNull(license.api_period_start);
  const apiCurrent =
    apiPeriodStart && apiPeriodStart.getTime() === periodOf(terms.apiCallPeriod, now).start.getTime() ? Number(license.api_calls ?? 0) : 0;
  return {
    [UsageMetric.ACTIVE_USERS]: Number(license.seats),
    [UsageMetric.CONCURRENT_SESSIONS]: Number(license.sessions),
    [UsageMetric.STORAGE_BYTES]: Number(license.storage ?? 0),
    [UsageMetric.API_CALLS]: apiCurrent,
  };
}

/** The overage a scan found, with what it saw. */
function scanBreach(license: LicenseRow, metric: UsageMetric, value: number, policy: LimitTerms): Breach {
  const limit = policy.limit!;
  return {
    organizationId: license.organization_id,
    licenseId: license.id,
    kind: OVERAGE_KIND[metric],
    severity: overageSeverity(value, limit),
    value,
    limit,
    evidence: {
      metric,
      value,
      limit,
      ceiling: ceilingOf(policy),
      policy: policy.policy,
      overagePercent: policy.percent,
      source: 'scan',
    },
    detail: `The compliance scan found ${metric} at ${value}, over its limit of ${limit}.`,
  };
}
