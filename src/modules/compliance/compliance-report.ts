import { Permission } from '../../auth/roles';
import type { Operation } from '../../common/operation';
import { fromJson, type SqlGateway, type SqlRunner, toDateOrNull } from '../../db/sql';
import { AppError } from '../../errors';
import type { LicenseStatus, LicenseType, UsagePeriod } from '../license/license.enums';
import { periodOf } from '../usage/usage-meter';
import { UsageMetric } from '../usage/usage.types';
import { OPEN_STATUSES, SEVERITY_RANK, ViolationKind, ViolationSeverity } from './compliance.enums';
import { ComplianceReport, LicenseCompliance, LimitUtilization, type ViolationNode } from './compliance.types';
import { ceilingOf } from './enforcement';
import { limitTerms, numberOrNull, TERM_COLUMNS, type TermRow, type Terms, termsOf } from './license-terms';
import { reviveViolation } from './violation-log';

interface LicenseRow extends TermRow {
  id: string;
  type: LicenseType;
  status: LicenseStatus;
}

/** A license's status and terms at one moment. */
type TermsAt = Terms & { status: LicenseStatus };

/** Tolerance for an `asOf` a little ahead of the server's clock. */
const FUTURE_SLACK_MS = 60_000;

/**
 * Responsible for the compliance report of an organization: per license its status, each limit against what it
 * uses, the violations open then, and whether it is compliant (within every limit, no open or acknowledged
 * violation; a waived one does not count), with a summary. As of now it reads the licenses and meters as they are;
 * as of a past moment it reads each license's terms from the audit log (every change of a license records them),
 * seats and leases from their assignment and release times, storage and API calls from the hourly usage series
 * (to the hour, within its 35-day retention, then daily), and violations from the compliance log.
 */
export class ComplianceReportService {
  constructor(private readonly db: SqlGateway) {}

  async report(op: Operation, organizationId: string, asOf: Date | null | undefined): Promise<ComplianceReport> {
    op.principal.require(Permission.LICENSE_READ, organizationId);
    const now = new Date();
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
      const licenses: LicenseCompliance[] = [];
      for (const row of rows) {
        const terms = (historical ? await this.termsAt(sql, row.id, at) : null) ?? { ...termsOf(row), status: row.status };
        const usage = await this.usageAt(sql, row.id, terms.apiCallPeriod, at, historical);
        const utilization: LimitUtilization[] = [];
        for (const metric of Object.values(UsageMetric)) {
          const { limit } = limitTerms(terms, metric);
          if (limit === null) continue;
          const value = usage[metric];
          utilization.push(
            Object.assign(new LimitUtilization(), {
              metric,
              value,
              limit,
              utilization: limit > 0 ? value / limit : null,
              ceiling: ceilingOf(limitTerms(terms, metric)),
              overLimit: value > limit,
            }),
          );
        }
        const openViolations = await this.openViolationsAt(sql, row.id, at);
        licenses.push(
          Object.assign(new LicenseCompliance(), {
            licenseId: row.id,
            type: row.type,
            status: terms.status,
            utilization,
            openViolations,
            compliant: openViolations.length === 0 && !utilization.some((u) => u.overLimit),
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
        licenses,
        summary: {
          licenses: licenses.length,
          compliant: licenses.filter((l) => l.compliant).length,
          nonCompliant: licenses.filter((l) => !l.compliant).length,
          openViolations: open.length,
          bySeverity: count(severities, (v) => v.severity).map(({ key, count }) => ({ severity: key, count })),
          byKind: count(Object.values(ViolationKind), (v) => v.kind).map(({ key, count }) => ({ kind: key, count })),
        },
      });
    });
  }

  /**
   * A license's terms as its audited changes before `at` left them: the status from the last that names one, the
   * limits and overage from the last that records them (every change but an expiry records the whole license).
   */
  private async termsAt(sql: SqlRunner, licenseId: string, at: Date): Promise<TermsAt | null> {
    const rows = await sql.all<{ after: unknown }>(
      `select after from audit_event where object_type = 'License' and object_id = ? and action like 'license.%' and occurred_at <= ?
        and after is not null order by id desc`,
      [licenseId, at],
    );
    type Snapshot = {
      status?: LicenseStatus;
      limits?: Record<'namedUsers' | 'concurrentSessions' | 'storageBytes' | 'apiCallsPerPeriod', number | null> & {
        apiCallPeriod: UsagePeriod;
      };
      overage?: Terms['overage'];
    };
    const snapshots = rows.map((row) => fromJson<Snapshot>(row.after));
    const status = snapshots.find((s) => s.status)?.status;
    const full = snapshots.find((s) => s.limits && s.overage);
    if (!status || !full?.limits || !full.overage) return null;
    return {
      status,
      limits: {
        [UsageMetric.ACTIVE_USERS]: full.limits.namedUsers,
        [UsageMetric.CONCURRENT_SESSIONS]: full.limits.concurrentSessions,
        [UsageMetric.STORAGE_BYTES]: full.limits.storageBytes,
        [UsageMetric.API_CALLS]: full.limits.apiCallsPerPeriod,
      },
      apiCallPeriod: full.limits.apiCallPeriod,
      overage: full.overage,
    };
  }

  private async usageAt(
    sql: SqlRunner,
    licenseId: string,
    apiCallPeriod: UsagePeriod,
    at: Date,
    historical: boolean,
  ): Promise<Record<UsageMetric, number>> {
    const seats = await sql.get<{ n: number | string }>(
      'select count(*) as n from seat where license_id = ? and assigned_at <= ? and (released_at is null or released_at > ?)',
      [licenseId, at, at],
    );
    const sessions = await sql.get<{ n: number | string }>(
      `select count(*) as n from lease where license_id = ? and checked_out_at <= ? and (released_at is null or released_at > ?)
         and expires_at > ?`,
      [licenseId, at, at, at],
    );
    const period = periodOf(apiCallPeriod, at);
    let storage: number;
    let apiCalls: number;
    if (!historical) {
      const meters = await sql.all<{ metric: UsageMetric; value: number | string; period_start: unknown }>(
        'select metric, value, period_start from usage_meter where license_id = ?',
        [licenseId],
      );
      const meter = (metric: UsageMetric) => meters.find((m) => m.metric === metric);
      storage = numberOrNull(meter(UsageMetric.STORAGE_BYTES)?.value) ?? 0;
      const api = meter(UsageMetric.API_CALLS);
      apiCalls = api && toDateOrNull(api.period_start)?.getTime() === period.start.getTime() ? Number(api.value) : 0;
    } else {
      const last = await sql.get<{ value_last: number | string }>(
        `select value_last from usage_sample where license_id = ? and metric = 'STORAGE_BYTES' and bucket_start <= ?
          order by case resolution when 'HOUR' then 0 else 1 end, bucket_start desc limit 1`,
        [licenseId, at],
      );
      storage = numberOrNull(last?.value_last) ?? 0;
      const calls = await sql.get<{ n: number | string | null }>(
        `select sum(value_sum) as n from usage_sample where license_id = ? and metric = 'API_CALLS' and resolution = 'HOUR'
           and bucket_start >= ? and bucket_start <= ?`,
        [licenseId, period.start, at],
      );
      apiCalls = numberOrNull(calls?.n) ?? 0;
    }
    return {
      [UsageMetric.ACTIVE_USERS]: Number(seats?.n ?? 0),
      [UsageMetric.CONCURRENT_SESSIONS]: Number(sessions?.n ?? 0),
      [UsageMetric.STORAGE_BYTES]: storage,
      [UsageMetric.API_CALLS]: apiCalls,
    };
  }

  /** The violations of a license open or acknowledged at `at`, as the compliance log had them then. */
  private async openViolationsAt(sql: SqlRunner, licenseId: string, at: Date): Promise<ViolationNode[]> {
    const rows = await sql.all<{ violation: unknown }>(
      `select e.violation from compliance_event e
        where e.license_id = ? and e.occurred_at <= ?
          and e.id = (select max(l.id) from compliance_event l where l.violation_id = e.violation_id and l.occurred_at <= ?)
        order by e.violation_id`,
      [licenseId, at, at],
    );
    return rows
      .map((row) => reviveViolation(fromJson<ViolationNode>(row.violation)))
      .filter((v) => (OPEN_STATUSES as readonly string[]).includes(v.status));
  }
}
