import { Permission } from '../../auth/roles';
import type { Operation } from '../../common/operation';
import { fromJson, type SqlGateway, type SqlRunner, toDateOrNull } from '../../db/sql';
import { AppError } from '../../errors';
import { type LicenseStatus, type LicenseType, UsagePeriod } from '../../kernel/license.enums';
import { periodOf } from '../usage/usage-meter';
import { type MetricLimits, UsageMetric } from '../usage/usage.types';
import {
  ComplianceStatus,
  OPEN_STATUSES,
  SEVERITY_RANK,
  ViolationKind,
  ViolationSeverity,
  ViolationStatus,
} from '../../kernel/compliance.enums';
import { ComplianceReport, LicenseCompliance, LimitUtilization, type ViolationNode } from './compliance.types';
import { ceilingOf, OVERAGE_KIND } from '../../kernel/enforcement';
import { limitTerms, numberOrNull, TERM_COLUMNS, type TermRow, type Terms, termsOf } from './license-terms';
import { reviveViolation } from './violation-log';
import type { Clock } from '../../common/clock';

interface LicenseRow extends TermRow {
  id: string;
  type: LicenseType;
  status: LicenseStatus;
}

/** A license's status and terms at one moment. */
type TermsAt = Terms & { status: LicenseStatus };

/** The licenses of an organization, as a subquery: the tables below are indexed by license. */
const OF_ORGANIZATION = 'select id from license where organization_id = ?';

/** Tolerance for an `asOf` a little ahead of the server's clock. */
const FUTURE_SLACK_MS = 60_000;

/** A license's violations active at one moment: those that make it non-compliant, and those waived. */
interface ActiveViolations {
  open: ViolationNode[];
  waived: ViolationNode[];
}

/**
 * Non-compliant with an open violation, or over a limit that no waived overage covers; compliant with waivers when
 * an active violation is waived (an administrator accepted it), plainly compliant otherwise.
 */
function statusOf(active: ActiveViolations, utilization: readonly LimitUtilization[]): ComplianceStatus {
  if (active.open.length > 0 || utilization.some((u) => u.overLimit && !u.waived)) return ComplianceStatus.NON_COMPLIANT;
  return active.waived.length > 0 ? ComplianceStatus.COMPLIANT_WITH_WAIVERS : ComplianceStatus.COMPLIANT;
}

/**
 * Responsible for the compliance report of an organization: per license its status, each limit against what it
 * uses, the violations open then and those waived, and whether it is compliant (no open or acknowledged violation,
 * within every limit but one whose overage is waived; compliant with waivers when a waiver is what makes it so),
 * with a summary. As of now it reads the licenses and meters as they are; as of a past moment it reads each
 * license's terms from the audit log (every change of a license records them), seats and leases from their
 * assignment and release times, storage and API calls from the hourly usage series (to the hour, within its 35-day
 * retention, then daily), and violations from the compliance log.
 */
export class ComplianceReportService {
  constructor(
    private readonly db: SqlGateway,
    private readonly clock: Clock,
  ) {}

  async report(op: Operation, organizationId: string, asOf: Date | null | undefined): Promise<ComplianceReport> {
    op.principal.require(Permission.LICENSE_READ, organizationId);
    const now = this.clock.now();
    if (asOf && asOf.getTime() > now.getTime() + FUTURE_SLACK_MS) throw AppError.badInput('`asOf` must not be in the future.', 'asOf');
    const at = asOf ?? now;
    const historical = asOf !== null && asOf !== undefined;
    return this.db.read(async (sql) => {
      const organization = await sql.get('select id from organization where id = ?', [organizationId]);
      if (!organization) throw AppError.notFound('Organization', organizationId);
      const rows = await sql.all<LicenseRow>(
        `select id, type, status, ${TERM_COLUMNS} from license where organization_id = ? and created_at <= ? order by id`,
        [organizationId, at],
      );
      // Each kind of fact read once for the whole organization, not once a license.
      const termsAt = historical ? await this.termsAt(sql, organizationId, at) : new Map<string, TermsAt>();
      const terms = new Map(rows.map((row) => [row.id, termsAt.get(row.id) ?? { ...termsOf(row), status: row.status }]));
      const usage = await this.usageAt(sql, organizationId, terms, at, historical);
      const violations = await this.activeViolationsAt(sql, organizationId, at);
      const licenses: LicenseCompliance[] = [];
      for (const row of rows) {
        const license = terms.get(row.id)!;
        const used = usage.get(row.id)!;
        const active = violations.get(row.id) ?? { open: [], waived: [] };
        const waivedKinds = new Set(active.waived.map((v) => v.kind));
        const utilization: LimitUtilization[] = [];
        for (const metric of Object.values(UsageMetric)) {
          const { limit } = limitTerms(license, metric);
          if (limit === null) continue;
          const value = used[metric];
          utilization.push(
            Object.assign(new LimitUtilization(), {
              metric,
              value,
              limit,
              utilization: limit > 0 ? value / limit : null,
              ceiling: ceilingOf(limitTerms(license, metric)),
              overLimit: value > limit,
              waived: value > limit && waivedKinds.has(OVERAGE_KIND[metric]),
            }),
          );
        }
        const complianceStatus = statusOf(active, utilization);
        licenses.push(
          Object.assign(new LicenseCompliance(), {
            licenseId: row.id,
            type: row.type,
            status: license.status,
            utilization,
            openViolations: active.open,
            waivedViolations: active.waived,
            compliant: complianceStatus !== ComplianceStatus.NON_COMPLIANT,
            complianceStatus,
          }),
        );
      }
      const open = licenses.flatMap((l) => l.openViolations);
      const count = <K extends string>(keys: readonly K[], keyOf: (v: ViolationNode) => K) =>
        keys.map((key) => ({ key, count: open.filter((v) => keyOf(v) === key).length })).filter((c) => c.count > 0);
      const severities = Object.values(ViolationSeverity).sort((a, b) => SEVERITY_RANK[b] - SEVERITY_RANK[a]);
      return Object.assign(new ComplianceReport(), {
        organizationId,
        asOf: at,
        all: licenses,
        summary: {
          licenses: licenses.length,
          compliant: licenses.filter((l) => l.compliant).length,
          compliantWithWaivers: licenses.filter((l) => l.complianceStatus === ComplianceStatus.COMPLIANT_WITH_WAIVERS).length,
          nonCompliant: licenses.filter((l) => !l.compliant).length,
          openViolations: open.length,
          waivedViolations: licenses.reduce((n, l) => n + l.waivedViolations.length, 0),
          bySeverity: count(severities, (v) => v.severity).map(({ key, count }) => ({ severity: key, count })),
          byKind: count(Object.values(ViolationKind), (v) => v.kind).map(({ key, count }) => ({ kind: key, count })),
        },
      });
    });
  }

  /**
   * The terms of an organization's licenses as their audited changes before `at` left them: the status from the last
   * that names one, the limits and overage from the last that records them (every change but an expiry records the
   * whole license).
   */
  private async termsAt(sql: SqlRunner, organizationId: string, at: Date): Promise<Map<string, TermsAt>> {
    const rows = await sql.all<{ object_id: string; after: unknown }>(
      `select object_id, after from audit_event where organization_id = ? and object_type = 'License' and action like 'license.%'
        and occurred_at <= ? and after is not null order by id desc`,
      [organizationId, at],
    );
    type Snapshot = {
      status?: LicenseStatus;
      limits?: MetricLimits & { apiCallPeriod: UsagePeriod };
      overage?: Terms['overage'];
    };
    const latest = new Map<string, { status?: LicenseStatus; full?: Snapshot }>();
    for (const row of rows) {
      const snapshot = fromJson<Snapshot>(row.after);
      const found = latest.get(row.object_id) ?? {};
      found.status ??= snapshot.status;
      if (!found.full && snapshot.limits && snapshot.overage) found.full = snapshot;
      latest.set(row.object_id, found);
    }
    const terms = new Map<string, TermsAt>();
    for (const [licenseId, { status, full }] of latest) {
      if (!status || !full?.limits || !full.overage) continue;
      terms.set(licenseId, {
        status,
        limits: full.limits,
        apiCallPeriod: full.limits.apiCallPeriod,
        overage: full.overage,
      });
    }
    return terms;
  }

  /** What each license of an organization used at `at`. */
  private async usageAt(
    sql: SqlRunner,
    organizationId: string,
    terms: ReadonlyMap<string, TermsAt>,
    at: Date,
    historical: boolean,
  ): Promise<Map<string, Record<UsageMetric, number>>> {
    const counts = async (table: 'seat' | 'lease', from: string, alive: string, extra: Date[]) =>
      new Map(
        (
          await sql.all<{ license_id: string; n: number | string }>(
            `select license_id, count(*) as n from ${table} where license_id in (${OF_ORGANIZATION}) and ${from} <= ? and (released_at is null or released_at > ?)
               ${alive} group by license_id`,
            [organizationId, at, at, ...extra],
          )
        ).map((r) => [r.license_id, Number(r.n)]),
      );
    const seats = await counts('seat', 'assigned_at', '', []);
    const sessions = await counts('lease', 'checked_out_at', 'and expires_at > ?', [at]);
    const day = periodOf(UsagePeriod.DAY, at).start;
    const month = periodOf(UsagePeriod.MONTH, at).start;
    const storage = new Map<string, number>();
    const apiCalls = new Map<string, { day: number; month: number }>();
    if (!historical) {
      const meters = await sql.all<{ license_id: string; metric: UsageMetric; value: number | string; period_start: unknown }>(
        `select license_id, metric, value, period_start from usage_meter where license_id in (${OF_ORGANIZATION})`,
        [organizationId],
      );
      for (const m of meters) {
        if (m.metric === UsageMetric.STORAGE_BYTES) storage.set(m.license_id, Number(m.value));
        if (m.metric !== UsageMetric.API_CALLS) continue;
        // A counter of a past period reads 0.
        const started = toDateOrNull(m.period_start)?.getTime();
        apiCalls.set(m.license_id, {
          day: started === day.getTime() ? Number(m.value) : 0,
          month: started === month.getTime() ? Number(m.value) : 0,
        });
      }
    } else {
      // Storage: the last value reported by then (to the hour; daily buckets past the hourly ones' retention).
      const last = await sql.all<{ id: string; value: number | string | null }>(
        `select l.id, (select s.value_last from usage_sample s where s.license_id = l.id and s.metric = 'STORAGE_BYTES' and s.bucket_start <= ?
           order by case s.resolution when 'HOUR' then 0 else 1 end, s.bucket_start desc limit 1) as value
           from license l where l.organization_id = ?`,
        [at, organizationId],
      );
      for (const r of last) if (r.value !== null) storage.set(r.id, Number(r.value));
      // API calls: the hourly buckets of the day and of the month up to then (the month starts no later than the day).
      const calls = await sql.all<{ license_id: string; day: number | string | null; month: number | string | null }>(
        `select license_id, sum(case when bucket_start >= ? then value_sum else 0 end) as day, sum(value_sum) as month
           from usage_sample where license_id in (${OF_ORGANIZATION}) and metric = 'API_CALLS' and resolution = 'HOUR' and bucket_start >= ? and bucket_start <= ?
          group by license_id`,
        [day, organizationId, month, at],
      );
      for (const r of calls) apiCalls.set(r.license_id, { day: numberOrNull(r.day) ?? 0, month: numberOrNull(r.month) ?? 0 });
    }
    const usage = new Map<string, Record<UsageMetric, number>>();
    for (const [licenseId, license] of terms) {
      const calls = apiCalls.get(licenseId);
      usage.set(licenseId, {
        [UsageMetric.ACTIVE_USERS]: seats.get(licenseId) ?? 0,
        [UsageMetric.CONCURRENT_SESSIONS]: sessions.get(licenseId) ?? 0,
        [UsageMetric.STORAGE_BYTES]: storage.get(licenseId) ?? 0,
        [UsageMetric.API_CALLS]: (license.apiCallPeriod === UsagePeriod.DAY ? calls?.day : calls?.month) ?? 0,
      });
    }
    return usage;
  }

  /**
   * The violations of an organization's licenses active at `at` (open or acknowledged, and waived), as the compliance
   * log had them then.
   */
  private async activeViolationsAt(sql: SqlRunner, organizationId: string, at: Date): Promise<Map<string, ActiveViolations>> {
    const rows = await sql.all<{ license_id: string; violation: unknown }>(
      `select e.license_id, e.violation from compliance_event e
        where e.organization_id = ? and e.occurred_at <= ?
          and e.id = (select max(l.id) from compliance_event l where l.violation_id = e.violation_id and l.occurred_at <= ?)
        order by e.violation_id`,
      [organizationId, at, at],
    );
    const active = new Map<string, ActiveViolations>();
    for (const row of rows) {
      const violation = reviveViolation(fromJson<ViolationNode>(row.violation));
      const isOpen = (OPEN_STATUSES as readonly string[]).includes(violation.status);
      if (!isOpen && violation.status !== ViolationStatus.WAIVED) continue;
      const found = active.get(row.license_id) ?? { open: [], waived: [] };
      (isOpen ? found.open : found.waived).push(violation);
      active.set(row.license_id, found);
    }
    return active;
  }
}
