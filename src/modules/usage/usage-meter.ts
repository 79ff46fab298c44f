import { randomUUID } from 'node:crypto';
import { AuditAction } from '../audit/audit-actions';
import type { Actor } from '../../auth/principal';
import type { Turns } from '../../db/row-turns';
import type { SqlGateway, SqlRunner } from '../../db/sql';
import { toDate, toDateOrNull } from '../../db/sql';
import { AppError } from '../../errors';
import type { AuditService } from '../audit/audit.service';
import type { KeyedLicense, LicenseCredentials } from '../license/license-credentials';
import { UsagePeriod } from '../../kernel/license.enums';
import { type BreachRecorder, overageBreach } from '../../kernel/breach';
import type { Enforcement } from '../../kernel/enforcement.types';
import type { DemandRecorder } from '../../kernel/demand';
import { decide, report as reportTotal } from '../../kernel/enforcement';
import { RecordUsageResult, UsageOutcome } from './record-usage.types';
import type { Observed, UsageObserver, UsageWatch } from './usage-signals';
import { limitOfMetric, type MetricUsage, metricUsage, UsageBucket, UsageMetric, UsageResolution } from './usage.types';
import { Lock, type Tx } from '../../db/transaction';
import type { Clock } from '../../common/clock';

/** The start and end of the period a counter runs in: a UTC day or calendar month. */
export function periodOf(period: UsagePeriod, at: Date): { start: Date; end: Date } {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  if (period === UsagePeriod.DAY) {
    const start = new Date(Date.UTC(y, m, at.getUTCDate()));
    return { start, end: new Date(start.getTime() + 86_400_000) };
  }
  return { start: new Date(Date.UTC(y, m, 1)), end: new Date(Date.UTC(y, m + 1, 1)) };
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** The width of each resolution's buckets. */
export const BUCKET_MS: Record<UsageResolution, number> = { [UsageResolution.HOUR]: HOUR_MS, [UsageResolution.DAY]: DAY_MS };
/** Hourly buckets older than this are dropped: a year of a metric is then ~840 hourly and 365 daily rows. */
export const HOURLY_RETENTION_DAYS = 35;

/** How many seats or leases of a license are live (the seat module's ledgers). */
export interface LiveCount {
  countLive(sql: SqlRunner, licenseId: string, now: Date): Promise<number>;
}

/** The oldest hourly bucket kept at `now`: those before it are dropped (usage samples and denials alike). */
export const hourlyRetentionStart = (now: Date) => new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS - HOURLY_RETENTION_DAYS * DAY_MS);

/** The license a meter's rows belong to. */
type MeteredLicense = { id: string; organizationId: string };

export interface UsageReport {
  /** The gauge's total (STORAGE_BYTES). */
  value?: number | null;
  /** How many to add to the counter (API_CALLS; 1 when not given), or to the gauge (STORAGE_BYTES; negative to remove). */
  amount?: number | null;
}

/**
 * Adds a sample to the hourly and daily buckets of a license's series of a metric: `sample` to their sum, `value` to
 * their max and last. Reported metrics add each report; derived ones (seats, sessions) each change of their count,
 * so that a bucket's max is the peak within it, raised in the transaction of the grant that reached it.
 */
export function addSample(sql: Tx, license: MeteredLicense, metric: UsageMetric, sample: number, value: number, now: Date): void {
  // Both buckets in one statement: it runs in the transaction of every grant and release.
  const buckets = Object.entries(BUCKET_MS);
  sql.queue(
    `insert into usage_sample (license_id, metric, resolution, bucket_start, organization_id, samples, value_sum, value_max, value_last)
     values ${buckets.map(() => '(?, ?, ?, ?, ?, 1, ?, ?, ?)').join(', ')}
     on conflict (license_id, metric, resolution, bucket_start) do update set
       samples = usage_sample.samples + 1,
       value_sum = usage_sample.value_sum + excluded.value_sum,
       value_max = case when excluded.value_max > usage_sample.value_max then excluded.value_max else usage_sample.value_max end,
       value_last = excluded.value_last`,
    buckets.flatMap(([resolution, size]) => [
      license.id,
      metric,
      resolution,
      new Date(Math.floor(now.getTime() / size) * size),
      license.organizationId,
      sample,
      value,
      value,
    ]),
  );
}

/** Told each change of a license's seats and sessions: adds it to their series, so that reports know each hour's peak. */
export class PeakWatch implements UsageWatch {
  async watch(sql: Tx, observed: Observed, now: Date): Promise<void> {
    if (observed.metric !== UsageMetric.ACTIVE_USERS && observed.metric !== UsageMetric.CONCURRENT_SESSIONS) return;
    addSample(
      sql,
      { id: observed.licenseId, organizationId: observed.organizationId },
      observed.metric,
      observed.value,
      observed.value,
      now,
    );
  }
}

/**
 * Responsible for reported usage: storage as a gauge, API calls as a counter within the license's period, and
 * the time series behind reports, rolled up on write into hourly and daily buckets. Client applications report
 * on their hot path, so it runs plain SQL in one short write transaction, like the lease ledger.
 */
export class UsageMeter {
  constructor(
    private readonly db: SqlGateway,
    private readonly credentials: LicenseCredentials,
    private readonly audit: AuditService,
    private readonly seats: LiveCount,
    private readonly leases: LiveCount,
    private readonly observer: UsageObserver,
    private readonly breaches: BreachRecorder,
    private readonly turns: Turns,
    private readonly demand: DemandRecorder,
    private readonly clock: Clock,
  ) {}

  async record(
    key: string,
    metric: UsageMetric,
    report: UsageReport,
    requestId: string,
    now = this.clock.now(),
  ): Promise<RecordUsageResult> {
    const change = UsageMeter.changeOf(metric, report);
    // On PostgreSQL one report at a time per license in this process waits for its lock (see Turns); on SQLite
    // the writer orders them.
    return this.turns.run(this.credentials.normalized(key), () =>
      this.db.write(async (sql) => {
        // Locked (PostgreSQL) like a checkout: concurrent reports of one license are decided one after the other.
        const license = await this.credentials.authenticate(sql, key, sql.forUpdate(Lock.LICENSE), requestId);
        const period = metric === UsageMetric.API_CALLS ? periodOf(license.apiCallPeriod, now) : null;
        const before = await this.current(sql, license, metric, now);
        const limit = limitOfMetric(license, metric);
        const terms = { limit, policy: license.overagePolicy, percent: license.overagePercent };
        const { enforcement, breach } =
          'total' in change ? reportTotal(metric, terms, before, change.total) : decide(metric, terms, before, change.amount);
        // A denial changes nothing and writes nothing, like a refused checkout.
        if (!enforcement.allowed) {
          this.demand.denied({ licenseId: license.id, organizationId: license.organizationId, subject: metric, client: null, at: now });
          return { outcome: UsageOutcome.DENIED, usage: metricUsage(metric, before, limit, period ?? undefined), enforcement };
        }
        const value = enforcement.value;
        // What the API cannot represent is not written: it would make the license's usage unreadable.
        if (!Number.isSafeInteger(value)) {
          throw AppError.badInput(
            `This would bring ${metric} to ${value}, past ${Number.MAX_SAFE_INTEGER}, the largest value it can hold; nothing was recorded.`,
            'amount' in change ? 'amount' : 'value',
          );
        }
        await this.writeMeter(sql, license, metric, value, period?.start ?? null, now);
        // The series adds up what a counter counted, and takes a gauge's totals.
        addSample(sql, license, metric, 'amount' in change && metric === UsageMetric.API_CALLS ? change.amount : value, value, now);
        const usage = metricUsage(metric, value, limit, period ?? undefined);
        await this.observer.observe(
          sql,
          {
            licenseId: license.id,
            organizationId: license.organizationId,
            planId: license.planId,
            metric,
            value,
            limit,
            period,
            requestId,
          },
          now,
        );
        const actor = this.actorOf(license);
        await this.audit.record(sql, {
          actor,
          requestId,
          at: now,
          organizationId: license.organizationId,
          action: AuditAction.USAGE_RECORD,
          objectType: 'License',
          objectId: license.id,
          before: { metric, value: before },
          after: { metric, value, reported: 'total' in change ? change.total : change.amount },
        });
        if (breach) await this.breaches.record(sql, overageBreach(license, enforcement), actor, requestId, now);
        return { outcome: UsageOutcome.RECORDED, usage, enforcement };
      }),
    );
  }

  /**
   * Whether `amount` more of a metric would be allowed now under the license's limit and overage policy: what a
   * client asks before a write. It reserves nothing; the report of the write is decided again, atomically.
   */
  async checkQuota(key: string, metric: UsageMetric, amount: number, now = this.clock.now()): Promise<Enforcement> {
    if (!Number.isSafeInteger(amount) || amount < 1) throw AppError.badInput('`amount` must be a whole number of at least 1.', 'amount');
    return this.db.read(async (sql) => {
      const license = await this.credentials.authenticate(sql, key, '', randomUUID());
      const terms = { limit: limitOfMetric(license, metric), policy: license.overagePolicy, percent: license.overagePercent };
      let current: number;
      if (metric === UsageMetric.ACTIVE_USERS) current = await this.seats.countLive(sql, license.id, now);
      else if (metric === UsageMetric.CONCURRENT_SESSIONS) current = await this.leases.countLive(sql, license.id, now);
      else current = await this.current(sql, license, metric, now);
      return decide(metric, terms, current, amount).enforcement;
    });
  }

  private actorOf(license: KeyedLicense): Actor {
    return { type: 'LICENSE_KEY', id: license.id, label: `license key …${license.keyHint}` };
  }

  /** A gauge's report is its total (`value`) or a change of it (`amount`, negative to give back); a counter's, a count. */
  private static changeOf(metric: UsageMetric, report: UsageReport): { total: number } | { amount: number } {
    const given = (v: number | null | undefined): v is number => v !== undefined && v !== null;
    switch (metric) {
      case UsageMetric.STORAGE_BYTES:
        if (given(report.value) && given(report.amount)) {
          throw AppError.badInput('STORAGE_BYTES takes either its total as `value` or a change as `amount`, not both.', 'amount');
        }
        if (given(report.amount)) {
          if (report.amount === 0) throw AppError.badInput('`amount` must not be 0: bytes added, or removed when negative.', 'amount');
          return { amount: report.amount };
        }
        if (!given(report.value) || report.value < 0) {
          throw AppError.badInput(
            'STORAGE_BYTES is a gauge: report the current total as a non-negative `value`, or a change as `amount`.',
            'value',
          );
        }
        return { total: report.value };
      case UsageMetric.API_CALLS:
        if (given(report.value)) throw AppError.badInput('API_CALLS is a counter: report how many calls as `amount`.', 'value');
        if (given(report.amount) && report.amount < 1) throw AppError.badInput('`amount` must be at least 1.', 'amount');
        return { amount: report.amount ?? 1 };
      default:
        throw AppError.badInput(`${metric} is derived from seats and leases; it is not reported.`, 'metric');
    }
  }

  /** A reported metric's current value: a counter of a past period reads 0. */
  async current(sql: SqlRunner, license: Pick<KeyedLicense, 'id' | 'apiCallPeriod'>, metric: UsageMetric, now: Date): Promise<number> {
    const row = await sql.get<{ value: number | string; period_start: unknown }>(
      'select value, period_start from usage_meter where license_id = ? and metric = ?',
      [license.id, metric],
    );
    if (!row) return 0;
    if (metric === UsageMetric.API_CALLS) {
      const started = toDateOrNull(row.period_start);
      if (!started || started.getTime() !== periodOf(license.apiCallPeriod, now).start.getTime()) return 0;
    }
    return Number(row.value);
  }

  /**
   * The API calls a license made in a period so far, added up from its daily series (which keeps every call counted,
   * whatever period the counter ran in): what the counter starts from when its period changes.
   */
  async callsIn(sql: SqlRunner, licenseId: string, period: { start: Date; end: Date }): Promise<number> {
    const row = await sql.get<{ calls: number | string | null }>(
      `select sum(value_sum) as calls from usage_sample
        where license_id = ? and metric = ? and resolution = ? and bucket_start >= ? and bucket_start < ?`,
      [licenseId, UsageMetric.API_CALLS, UsageResolution.DAY, period.start, period.end],
    );
    return Number(row?.calls ?? 0);
  }

  /** Starts the API call counter of a license in another period, at the calls already made in it (a migration). */
  restartCounter(sql: SqlRunner, license: MeteredLicense, period: UsagePeriod, calls: number, now: Date): Promise<void> {
    return this.writeMeter(sql, license, UsageMetric.API_CALLS, calls, periodOf(period, now).start, now);
  }

  /** A metric's current value (and, for the counter, the start of the period it counts in). */
  private async writeMeter(
    sql: SqlRunner,
    license: MeteredLicense,
    metric: UsageMetric,
    value: number,
    periodStart: Date | null,
    now: Date,
  ): Promise<void> {
    await sql.run(
      `insert into usage_meter (license_id, metric, organization_id, value, period_start, updated_at) values (?, ?, ?, ?, ?, ?)
       on conflict (license_id, metric) do update set
         value = excluded.value, period_start = excluded.period_start, updated_at = excluded.updated_at`,
      [license.id, metric, license.organizationId, value, periodStart, now],
    );
  }

  /** Every metric of a license, reported and derived, read in a handful of statements. */
  async usageOf(
    license: Pick<KeyedLicense, 'id' | 'apiCallPeriod' | 'storageBytes' | 'apiCallsPerPeriod' | 'namedUsers' | 'concurrentSessions'>,
    now = this.clock.now(),
  ): Promise<MetricUsage[]> {
    return this.db.read(async (sql) => {
      return [
        metricUsage(UsageMetric.ACTIVE_USERS, await this.seats.countLive(sql, license.id, now), license.namedUsers),
        metricUsage(UsageMetric.CONCURRENT_SESSIONS, await this.leases.countLive(sql, license.id, now), license.concurrentSessions),
        metricUsage(UsageMetric.STORAGE_BYTES, await this.current(sql, license, UsageMetric.STORAGE_BYTES, now), license.storageBytes),
        metricUsage(
          UsageMetric.API_CALLS,
          await this.current(sql, license, UsageMetric.API_CALLS, now),
          license.apiCallsPerPeriod,
          periodOf(license.apiCallPeriod, now),
        ),
      ];
    });
  }

  /** The buckets of one metric of a license whose start lies in [from, to), oldest first. */
  history(licenseId: string, metric: UsageMetric, resolution: UsageResolution, from: Date, to: Date): Promise<UsageBucket[]> {
    return this.db.read(async (sql) => {
      const rows = await sql.all<{
        bucket_start: unknown;
        samples: number | string;
        value_sum: number | string;
        value_max: number | string;
        value_last: number | string;
      }>(
        `select bucket_start, samples, value_sum, value_max, value_last from usage_sample
          where license_id = ? and metric = ? and resolution = ? and bucket_start >= ? and bucket_start < ? order by bucket_start`,
        [licenseId, metric, resolution, from, to],
      );
      return rows.map((row) =>
        Object.assign(new UsageBucket(), {
          start: toDate(row.bucket_start),
          samples: Number(row.samples),
          sum: Number(row.value_sum),
          max: Number(row.value_max),
          last: Number(row.value_last),
          // A bucket carried into a day without samples holds the value carried (see DailyCarry).
          average: Number(row.samples) ? Number(row.value_sum) / Number(row.samples) : Number(row.value_last),
        }),
      );
    });
  }

  /** Drops the hourly buckets past their retention (the daily ones stay); returns how many. */
  prune(now = this.clock.now()): Promise<number> {
    const before = hourlyRetentionStart(now);
    return this.db.write((sql) =>
      sql.run('delete from usage_sample where resolution = ? and bucket_start < ?', [UsageResolution.HOUR, before]),
    );
  }
}
