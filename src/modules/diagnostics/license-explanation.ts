import type { Clock } from '../../common/clock';
import type { Operation } from '../../common/operation';
import type { SqlGateway, SqlRunner } from '../../db/sql';
import { UsageMetric } from '../../kernel/metrics';
import { AuditAction } from '../audit/audit-actions';
import type { AuditService } from '../audit/audit.service';
import type { LicenseService } from '../license/license.service';
import type { LeaseLedger } from '../seat/lease-ledger';
import type { SeatLedger } from '../seat/seat-ledger';
import { periodOf, type UsageMeter } from '../usage/usage-meter';
import { CountExplanation, LicenseDiagnostics, UsageExplanation, UsageReportEntry } from './license-diagnostics.types';

/** The most reports listed per total. */
const REPORTS_LISTED = 100;
/** The most usage events read of a license at once (both metrics). */
const EVENTS_READ = 2_000;

type License = Awaited<ReturnType<LicenseService['get']>>;

/**
 * Responsible for explaining a license's counts: which named seats and live leases make its user and session counts,
 * and which usage reports (as the audit log keeps them) make its storage and API-call totals in the current period.
 * It reads through the modules that own them (seat ledgers, usage meter, audit log), with the same counting as usage
 * and enforcement, so that the explanation adds up to what `licenseUsage` says. Access is the license's own: who may
 * read the license may read why it counts what it counts.
 */
export class LicenseExplainer {
  constructor(
    private readonly db: SqlGateway,
    private readonly licenses: Pick<LicenseService, 'get'>,
    private readonly seats: Pick<SeatLedger, 'leastActive' | 'countLive'>,
    private readonly leases: Pick<LeaseLedger, 'oldestHeartbeats' | 'countLive'>,
    private readonly meter: Pick<UsageMeter, 'current'>,
    private readonly audit: Pick<AuditService, 'changesOf'>,
    private readonly clock: Clock,
  ) {}

  async explain(op: Operation, licenseId: string): Promise<LicenseDiagnostics> {
    const license = await this.licenses.get(op, licenseId);
    const now = this.clock.now();
    return this.db.read(async (sql) => {
      const seats = await this.seats.leastActive(sql, license.id, null);
      const leases = await this.leases.oldestHeartbeats(sql, license.id, now, null);
      const users = await this.seats.countLive(sql, license.id);
      const sessions = await this.leases.countLive(sql, license.id, now);
      return Object.assign(new LicenseDiagnostics(), {
        licenseId: license.id,
        type: license.type,
        status: license.status,
        checkedAt: now,
        users: Object.assign(new CountExplanation(), {
          metric: UsageMetric.ACTIVE_USERS,
          count: users,
          limit: license.namedUsers ?? null,
          explanation: `${users} user(s): one for each named seat assigned and not released (listed in seats, with their user and since when). A seat stays taken until releaseSeat releases it (or a remediation releases the least active ones); validating or checking out takes none.`,
        }),
        seats,
        sessions: Object.assign(new CountExplanation(), {
          metric: UsageMetric.CONCURRENT_SESSIONS,
          count: sessions,
          limit: license.concurrentSessions ?? null,
          explanation: `${sessions} session(s): one for each lease checked out and neither checked in nor past its expiry (listed in leases, with their fingerprint, user and expiry). Each heartbeat extends a lease by the plan's lease TTL; a client that stops sending them holds its session until expiresAt, and a borrowed seat until it is due back (borrowedUntil). The same fingerprint checking out again reuses its lease.`,
        }),
        leases,
        ...(await this.usage(sql, license, now)),
      });
    });
  }

  private async usage(sql: SqlRunner, license: License, now: Date): Promise<Pick<LicenseDiagnostics, 'storage' | 'apiCalls'>> {
    const period = periodOf(license.apiCallPeriod, now);
    const events = await this.audit.changesOf(sql, {
      objectId: license.id,
      action: AuditAction.USAGE_RECORD,
      from: new Date(0),
      limit: EVENTS_READ,
    });
    const reportsOf = (metric: UsageMetric, from: Date) =>
      events.flatMap((event) => {
        const after = event.after as { metric?: string; value?: number; reported?: number } | null;
        if (after?.metric !== metric || event.at < from) return [];
        return [
          Object.assign(new UsageReportEntry(), {
            at: event.at,
            requestId: event.requestId,
            reported: Number(after.reported ?? 0),
            totalAfter: Number(after.value ?? 0),
          }),
        ];
      });
    const storageTotal = await this.meter.current(sql, license, UsageMetric.STORAGE_BYTES, now);
    const storageReports = reportsOf(UsageMetric.STORAGE_BYTES, new Date(0));
    const calls = await this.meter.current(sql, license, UsageMetric.API_CALLS, now);
    const callReports = reportsOf(UsageMetric.API_CALLS, period.start);
    const reportedCalls = callReports.reduce((sum, r) => sum + r.reported, 0);
    const last = storageReports[0];
    return {
      storage: Object.assign(new UsageExplanation(), {
        metric: UsageMetric.STORAGE_BYTES,
        total: storageTotal,
        limit: license.storageBytes ?? null,
        periodStart: null,
        periodEnd: null,
        reportCount: storageReports.length,
        reports: storageReports.slice(0, REPORTS_LISTED),
        explanation: last
          ? `${storageTotal} bytes: storage is a gauge, its total is what the last report made it (${last.at.toISOString()}: ${last.totalAfter} bytes), a total or a change added to the one before. Reports refused as over the limit change nothing and are not listed.`
          : `${storageTotal} bytes: no storage report is recorded for this license.`,
      }),
      apiCalls: Object.assign(new UsageExplanation(), {
        metric: UsageMetric.API_CALLS,
        total: calls,
        limit: license.apiCallsPerPeriod ?? null,
        periodStart: period.start,
        periodEnd: period.end,
        reportCount: callReports.length,
        reports: callReports.slice(0, REPORTS_LISTED),
        explanation:
          `${calls} call(s) in the period ${period.start.toISOString()} to ${period.end.toISOString()} (${license.apiCallPeriod}): the sum of the ${callReports.length} report(s) recorded in it, ${reportedCalls} call(s).` +
          (reportedCalls === calls
            ? ' Reports refused as over the limit count nothing and are not listed.'
            : ' The counter started the period elsewhere: a change of the license (a migration of its period) carried the calls already made in it.'),
      }),
    };
  }
}
