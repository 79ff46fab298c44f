import { Permission } from '../../auth/roles';
import type { Clock } from '../../common/clock';
import type { Operation } from '../../common/operation';
import { type SqlGateway, type SqlRunner, toDate, toDateOrNull } from '../../db/sql';
import { AppError } from '../../errors';
import type { LicenseStatus, LicenseType } from '../../kernel/license.enums';
import { limitOfMetric, UsageMetric } from '../../kernel/metrics';
import { effectiveRule, RULE_COLUMNS, type RuleRow } from '../alert/alert-rules';
import type { FeatureTier } from '../catalog/catalog.enums';
import { BUCKET_MS, hourlyRetentionStart } from '../usage/usage-meter';
import { UsageResolution } from '../usage/usage.types';
import {
  FeatureUsageSummary,
  LicenseUsageReport,
  MetricUsageSummary,
  SeatActivitySummary,
  ThresholdTime,
  UsagePoint,
  UsageReport,
  type UsageReportArgs,
  type UsageReportFilter,
} from './usage-report.types';

/** The most licenses one report covers: a larger set is narrowed by its filter. */
export const MAX_REPORT_LICENSES = 1_000;
/** The longest window of a daily report. */
const MAX_DAYS = 400;
const DAY_MS = BUCKET_MS[UsageResolution.DAY];
/** Tolerance for a `to` a little ahead of the server's clock. */
const FUTURE_SLACK_MS = 60_000;
const ACTIVITY_DAYS = [30, 60, 90] as const;
/** The column of a license's limit of each metric. */
const LIMIT_COLUMNS: Record<UsageMetric, string> = {
  [UsageMetric.ACTIVE_USERS]: 'named_users',
  [UsageMetric.CONCURRENT_SESSIONS]: 'concurrent_sessions',
  [UsageMetric.STORAGE_BYTES]: 'storage_bytes',
  [UsageMetric.API_CALLS]: 'api_calls_per_period',
};
/** Gauges carry their last value through buckets without a change; the counter counts what was made in each. */
const COUNTER = UsageMetric.API_CALLS;

interface LicenseRow {
  id: string;
  organization_id: string;
  product_id: string;
  plan_id: string;
  plan_name: string;
  type: LicenseType;
  status: LicenseStatus;
  named_users: unknown;
  concurrent_sessions: unknown;
  storage_bytes: unknown;
  api_calls_per_period: unknown;
}

interface SampleRow {
  license_id: string;
  metric: UsageMetric;
  resolution: UsageResolution;
  bucket_start: unknown;
  samples: unknown;
  value_sum: unknown;
  value_max: unknown;
  value_last: unknown;
}

/** What a report reads beyond its figures, when asked: each metric's series (of every license, or of some) and time over thresholds. */
export interface ReportDetail {
  series: boolean | ((licenseId: string) => boolean);
  thresholds: boolean;
}

const FULL_DETAIL: ReportDetail = { series: true, thresholds: true };

/** A metric's figures over a window in which every day has its bucket, aggregated by the database. */
interface Aggregate {
  /** The buckets' averages added up (API_CALLS: the calls). */
  total: number;
  peak: number;
  /** The highest count of a period (API_CALLS), or the peak. */
  highest: number;
  p95: number;
  /** Buckets at or over each threshold, by threshold; absent when thresholds were not asked for. */
  over: Map<number, number> | null;
}

/** A bucket of a series as stored. */
interface Bucket {
  samples: number;
  sum: number;
  max: number;
  last: number;
}

/** The window of a report: its buckets, and the days its daily peaks are taken over. */
interface Window {
  from: Date;
  to: Date;
  resolution: UsageResolution;
  starts: number[];
  days: number[];
}

const num = (value: unknown) => (value === null || value === undefined ? 0 : Number(value));
const numOrNull = (value: unknown) => (value === null || value === undefined ? null : Number(value));
const floorTo = (at: number, size: number) => Math.floor(at / size) * size;
const key = (...parts: (string | number)[]) => parts.join('\u0000');
const placeholders = (values: readonly unknown[]) => values.map(() => '?').join(', ');
/** A stored time as epoch ms: SQLite keeps numbers, PostgreSQL gives text or dates. */
const epochOf = (value: unknown) => (typeof value === 'number' ? value : toDate(value).getTime());

/** The nearest-rank percentile of values (0 when there are none). */
export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function windowOf(args: UsageReportArgs, now: Date): Window {
  const size = BUCKET_MS[args.resolution];
  const from = floorTo(args.from.getTime(), size);
  const to = args.to.getTime();
  if (to > now.getTime() + FUTURE_SLACK_MS) throw AppError.badInput('`to` must not be in the future.', 'to');
  if (to <= from) throw AppError.badInput('`to` must come after `from`.', 'to');
  if (to - from > MAX_DAYS * DAY_MS) throw AppError.badInput(`A report covers at most ${MAX_DAYS} days.`, 'from');
  if (args.resolution === UsageResolution.HOUR && from < hourlyRetentionStart(now).getTime()) {
    throw AppError.badInput('Hourly figures are kept 35 days: ask for DAY, or a later `from`.', 'from');
  }
  const starts: number[] = [];
  for (let at = from; at < to; at += size) starts.push(at);
  const days: number[] = [];
  for (let at = floorTo(from, DAY_MS); at < to; at += DAY_MS) days.push(at);
  return { from: new Date(from), to: new Date(to), resolution: args.resolution, starts, days };
}

/**
 * Responsible for usage reports: for each license of an organization, a product or a list, and for all of them, each
 * metric's average, peak, 95th percentile of daily peaks, utilization, time over the thresholds of its alert rule,
 * denials and the demand left unmet, with its series; its features' uses and last use; its named seats by how recently
 * they were active. Each kind of fact is read once for every license of the report, so that the number of statements
 * does not grow with the number of licenses.
 */
export class UsageReportService {
  constructor(
    private readonly db: SqlGateway,
    private readonly clock: Clock,
  ) {}

  async report(op: Operation, args: UsageReportArgs, detail: ReportDetail = FULL_DETAIL): Promise<UsageReport> {
    op.principal.require(Permission.LICENSE_READ);
    const window = windowOf(args, this.clock.now());
    return this.db.read(async (sql) => {
      const licenses = await this.licensesOf(sql, op, args.filter);
      const facts = await this.factsOf(sql, licenses, window, detail);
      const reports = licenses.map((license) => this.licenseReport(license, facts, window));
      return Object.assign(new UsageReport(), {
        from: window.from,
        to: window.to,
        resolution: window.resolution,
        licenses: reports,
        totals: Object.values(UsageMetric).map((metric) => totalOf(metric, reports)),
      });
    });
  }

  /** The licenses a filter names that the caller may read, by id. */
  private async licensesOf(sql: SqlRunner, op: Operation, filter: UsageReportFilter): Promise<LicenseRow[]> {
    const given = [filter.organizationId, filter.productId, filter.licenseIds].filter((v) => v !== null && v !== undefined);
    if (given.length !== 1) throw AppError.badInput('Give one of `organizationId`, `productId` and `licenseIds`.', 'filter');
    const select = `select l.id, l.organization_id, l.product_id, l.plan_id, p.name as plan_name, l.type, l.status, l.named_users,
      l.concurrent_sessions, l.storage_bytes, l.api_calls_per_period from license l join plan p on p.id = l.plan_id`;
    let rows: LicenseRow[];
    if (filter.organizationId) {
      op.principal.require(Permission.LICENSE_READ, filter.organizationId);
      if (!(await sql.get('select id from organization where id = ?', [filter.organizationId]))) {
        throw AppError.notFound('Organization', filter.organizationId);
      }
      rows = await sql.all<LicenseRow>(`${select} where l.organization_id = ? order by l.id limit ?`, [
        filter.organizationId,
        MAX_REPORT_LICENSES + 1,
      ]);
    } else if (filter.productId) {
      const scope = op.principal.scopeOrganization(null);
      rows = await sql.all<LicenseRow>(
        `${select} where l.product_id = ? ${scope ? 'and l.organization_id = ?' : ''} order by l.id limit ?`,
        scope ? [filter.productId, scope, MAX_REPORT_LICENSES + 1] : [filter.productId, MAX_REPORT_LICENSES + 1],
      );
    } else {
      const ids = [...new Set(filter.licenseIds)];
      if (!ids.length || ids.length > MAX_REPORT_LICENSES) {
        throw AppError.badInput(`Name from 1 to ${MAX_REPORT_LICENSES} licenses.`, 'licenseIds');
      }
      rows = await sql.all<LicenseRow>(`${select} where l.id in (${placeholders(ids)}) order by l.id`, ids);
      const readable = new Set(rows.filter((r) => op.principal.mayAccessOrganization(r.organization_id)).map((r) => r.id));
      const missing = ids.find((id) => !readable.has(id));
      if (missing) throw AppError.notFound('License', missing);
    }
    if (rows.length > MAX_REPORT_LICENSES) {
      throw AppError.badInput(`The filter covers more than ${MAX_REPORT_LICENSES} licenses: name them with \`licenseIds\`.`, 'filter');
    }
    return rows;
  }

  /** Every fact the report needs, for all its licenses at once: a fixed number of statements. */
  private async factsOf(sql: SqlRunner, licenses: LicenseRow[], window: Window, detail: ReportDetail) {
    const ids = licenses.map((l) => l.id);
    const facts = new ReportFacts();
    if (!ids.length) return facts;
    const inIds = `license_id in (${placeholders(ids)})`;
    const from = window.from;
    const dayFrom = new Date(window.days[0]!);
    const metrics = Object.values(UsageMetric);
    const rules = await sql.all<RuleRow>(
      `select ${RULE_COLUMNS} from alert_rule where owner_id in (${placeholders(ids)}, ${placeholders(ids)})`,
      [...ids, ...licenses.map((l) => l.plan_id)],
    );
    facts.rules.push(...rules);
    const wantsSeries = typeof detail.series === 'function' ? detail.series : () => detail.series === true;
    const summed = window.resolution === UsageResolution.DAY ? licenses.filter((l) => !wantsSeries(l.id)) : [];
    if (summed.length) await this.readAggregates(sql, summed, window, detail.thresholds ? levelsOf(licenses, facts.rules) : null, facts);
    // What the database could not sum (a day without its bucket carries the value before it) or was asked for, bucket by bucket.
    const bucketIds = ids.filter((id) => metrics.some((m) => !facts.aggregates.has(key(id, m))));
    const bucketMetrics = metrics.filter((m) => ids.some((id) => !facts.aggregates.has(key(id, m))));
    if (bucketIds.length) await this.readBuckets(sql, bucketIds, bucketMetrics, window, facts);
    // Denials by bucket where the series is asked for (its points mark them), else their sums.
    const byBucket = ids.filter(wantsSeries);
    const summedDenials = ids.filter((id) => !wantsSeries(id));
    const denied = `subject in (${placeholders(metrics)}) and feature_key = '' and resolution = ? and bucket_start >= ? and bucket_start < ?`;
    const deniedArgs = [...metrics, window.resolution, from, window.to];
    if (byBucket.length) {
      const rows = await sql.all<{ license_id: string; subject: string; bucket_start: unknown; denials: unknown; retries: unknown }>(
        `select license_id, subject, bucket_start, denials, retries from usage_denial where license_id in (${placeholders(byBucket)}) and ${denied}`,
        [...byBucket, ...deniedArgs],
      );
      for (const d of rows) facts.addDenials(d.license_id, d.subject, epochOf(d.bucket_start), num(d.denials), num(d.retries));
    }
    if (summedDenials.length) {
      const rows = await sql.all<{ license_id: string; subject: string; denials: unknown; retries: unknown }>(
        `select license_id, subject, sum(denials) as denials, sum(retries) as retries from usage_denial
          where license_id in (${placeholders(summedDenials)}) and ${denied} group by license_id, subject`,
        [...summedDenials, ...deniedArgs],
      );
      for (const d of rows) facts.addDenials(d.license_id, d.subject, Number.NaN, num(d.denials), num(d.retries));
    }
    const clients = await sql.all<{ license_id: string; subject: string; n: unknown }>(
      `select license_id, subject, count(*) as n from usage_denial_client
        where ${inIds} and subject in (${placeholders(metrics)}) and feature_key = '' and day >= ? and day < ? and denials > retries
        group by license_id, subject`,
      [...ids, ...metrics, dayFrom, window.to],
    );
    for (const c of clients) facts.clientsRefused.set(key(c.license_id, c.subject), num(c.n));
    await this.readFeatures(sql, ids, inIds, window, facts);
    await this.readSeats(sql, licenses, inIds, window, facts);
    return facts;
  }

  /**
   * The figures of each series of a daily report that has a bucket on every day of the window, summed by the database
   * in one statement: no day carries a value from before it, so average, peak, 95th percentile and time over
   * thresholds are plain aggregates. A year of buckets read row by row costs ten times as much.
   */
  private async readAggregates(
    sql: SqlRunner,
    licenses: LicenseRow[],
    window: Window,
    levels: number[] | null,
    facts: ReportFacts,
  ): Promise<void> {
    const days = window.days.length;
    const peak = `case when s.metric = '${COUNTER}' then s.value_sum else s.value_max end`;
    // The nearest rank, as `percentile`: PostgreSQL's percentile_disc is that; SQLite's takes the value at P·(N−1), rounded down.
    const rank = Math.max(0, Math.ceil(0.95 * days) - 1);
    const p95 =
      this.db.dialect === 'postgresql'
        ? `percentile_disc(0.95) within group (order by ${peak})`
        : `percentile_disc(${peak}, ${days > 1 ? Math.min(1, (rank + 0.25) / (days - 1)) : 0})`;
    const limit = `case s.metric ${Object.values(UsageMetric)
      .map((m) => `when '${m}' then l.${LIMIT_COLUMNS[m]}`)
      .join(' ')} end`;
    const over = (levels ?? []).map((level, i) => `, sum(case when s.value_max * 100 >= ${level} * ${limit} then 1 else 0 end) as t${i}`);
    const ids = licenses.map((l) => l.id);
    const metrics = Object.values(UsageMetric);
    const rows = await sql.all<Record<string, unknown> & { license_id: string; metric: UsageMetric; buckets: unknown }>(
      `select s.license_id, s.metric, count(*) as buckets,
              sum(case when s.metric = '${COUNTER}' then s.value_sum when s.samples = 0 then s.value_last
                       else cast(s.value_sum as double precision) / s.samples end) as total,
              max(${peak}) as peak, max(s.value_max) as highest, ${p95} as p95${over.join('')}
         from usage_sample s ${levels ? 'join license l on l.id = s.license_id' : ''}
        where s.license_id in (${placeholders(ids)}) and s.metric in (${placeholders(metrics)})
          and s.resolution = ? and s.bucket_start >= ? and s.bucket_start < ?
        group by s.license_id, s.metric`,
      [...ids, ...metrics, UsageResolution.DAY, window.from, window.to],
    );
    for (const row of rows) {
      if (num(row.buckets) !== days) continue;
      facts.aggregates.set(key(row.license_id, row.metric), {
        total: num(row.total),
        peak: num(row.peak),
        highest: num(row.highest),
        p95: num(row.p95),
        over: levels ? new Map(levels.map((level, i) => [level, num(row[`t${i}`])])) : null,
      });
    }
  }

  /** The buckets of the window, and each gauge's last value before it, of these licenses and metrics. */
  private async readBuckets(sql: SqlRunner, ids: string[], metrics: UsageMetric[], window: Window, facts: ReportFacts): Promise<void> {
    const dayFrom = new Date(window.days[0]!);
    // Each statement leads with the primary key (license, metric, resolution, bucket): an `or` of resolutions, or no
    // metric, would let the database walk the (resolution, bucket) index across every license instead.
    const byKey = `license_id in (${placeholders(ids)}) and metric in (${placeholders(metrics)})`;
    const resolutions = window.resolution === UsageResolution.DAY ? [window.resolution] : [window.resolution, UsageResolution.DAY];
    const starts = (resolution: UsageResolution) => (resolution === UsageResolution.DAY ? dayFrom : window.from);
    const samples = await sql.all<SampleRow>(
      resolutions
        .map(
          () => `select license_id, metric, resolution, bucket_start, samples, value_sum, value_max, value_last from usage_sample
                  where ${byKey} and resolution = ? and bucket_start >= ? and bucket_start < ?`,
        )
        .join(' union all '),
      resolutions.flatMap((resolution) => [...ids, ...metrics, resolution, starts(resolution), window.to]),
    );
    for (const row of samples) if (!facts.aggregates.has(key(row.license_id, row.metric))) facts.addSample(row);
    // A gauge's value before the window: what buckets without a change carry.
    const gauges = metrics.filter((m) => m !== COUNTER);
    if (!gauges.length) return;
    const gaugeKey = `license_id in (${placeholders(ids)}) and metric in (${placeholders(gauges)})`;
    const before = await sql.all<SampleRow>(
      resolutions
        .map(
          () => `select s.license_id, s.metric, s.resolution, s.bucket_start, s.samples, s.value_sum, s.value_max, s.value_last
                   from usage_sample s join (
                     select license_id, metric, resolution, max(bucket_start) as bucket_start from usage_sample
                      where ${gaugeKey} and resolution = ? and bucket_start < ? group by license_id, metric, resolution
                   ) m on m.license_id = s.license_id and m.metric = s.metric and m.resolution = s.resolution and m.bucket_start = s.bucket_start`,
        )
        .join(' union all '),
      resolutions.flatMap((resolution) => [...ids, ...gauges, resolution, starts(resolution)]),
    );
    for (const row of before) facts.carry.set(key(row.license_id, row.metric, row.resolution), num(row.value_last));
  }

  /** The features each license entitles, and those its clients named, with their uses in the window and last use before its end. */
  private async readFeatures(sql: SqlRunner, ids: string[], inIds: string, window: Window, facts: ReportFacts): Promise<void> {
    const entitled = await sql.all<{ license_id: string; key: string; tier: FeatureTier }>(
      `select lf.license_id, f.key, f.tier from license_feature lf join feature f on f.id = lf.feature_id where lf.${inIds}`,
      ids,
    );
    for (const e of entitled) facts.feature(e.license_id, e.key, e.tier).entitled = true;
    const dayFrom = new Date(window.days[0]!);
    const uses = await sql.all<{
      license_id: string;
      feature_key: string;
      tier: FeatureTier | null;
      uses: unknown;
      denials: unknown;
      last_used_at: unknown;
    }>(
      `select u.license_id, u.feature_key, f.tier,
              sum(case when u.day >= ? then u.uses else 0 end) as uses, sum(case when u.day >= ? then u.denials else 0 end) as denials,
              max(u.last_used_at) as last_used_at
         from feature_use u join license l on l.id = u.license_id left join feature f on f.product_id = l.product_id and f.key = u.feature_key
        where u.${inIds} and u.day < ? group by u.license_id, u.feature_key, f.tier`,
      [dayFrom, dayFrom, ...ids, window.to],
    );
    for (const u of uses) {
      // A key the product does not have was refused as unknown: it is no feature of the license to report.
      if (!u.tier) continue;
      Object.assign(facts.feature(u.license_id, u.feature_key, u.tier), {
        uses: num(u.uses),
        denials: num(u.denials),
        lastUsedAt: toDateOrNull(u.last_used_at),
      });
    }
  }

  /** The live seats of the USER licenses at the end of the window, by how recently their users were active. */
  private async readSeats(sql: SqlRunner, licenses: LicenseRow[], inIds: string, window: Window, facts: ReportFacts): Promise<void> {
    if (!licenses.some((l) => l.type === 'USER')) return;
    const since = ACTIVITY_DAYS.map((days) => new Date(window.to.getTime() - days * DAY_MS));
    const rows = await sql.all<{ license_id: string; assigned: unknown; a30: unknown; a60: unknown; a90: unknown }>(
      `select license_id, count(*) as assigned,
              sum(case when coalesce(last_active_at, assigned_at) >= ? then 1 else 0 end) as a30,
              sum(case when coalesce(last_active_at, assigned_at) >= ? then 1 else 0 end) as a60,
              sum(case when coalesce(last_active_at, assigned_at) >= ? then 1 else 0 end) as a90
         from seat where ${inIds} and assigned_at < ? and (released_at is null or released_at >= ?) group by license_id`,
      [...since, ...licenses.map((l) => l.id), window.to, window.to],
    );
    for (const r of rows) {
      facts.seats.set(
        r.license_id,
        Object.assign(new SeatActivitySummary(), {
          assigned: num(r.assigned),
          activeWithin30Days: num(r.a30),
          activeWithin60Days: num(r.a60),
          activeWithin90Days: num(r.a90),
        }),
      );
    }
  }

  private licenseReport(license: LicenseRow, facts: ReportFacts, window: Window): LicenseUsageReport {
    const limits = {
      namedUsers: numOrNull(license.named_users),
      concurrentSessions: numOrNull(license.concurrent_sessions),
      storageBytes: numOrNull(license.storage_bytes),
      apiCallsPerPeriod: numOrNull(license.api_calls_per_period),
    };
    const metrics = Object.values(UsageMetric).map((metric) => {
      const rule = effectiveRule(facts.rules, { licenseId: license.id, planId: license.plan_id }, metric);
      return metricSummary({ licenseId: license.id, metric, limit: limitOfMetric(limits, metric), thresholds: rule.levels }, facts, window);
    });
    const features = [...(facts.features.get(license.id)?.values() ?? [])].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const seats =
      license.type === 'USER'
        ? (facts.seats.get(license.id) ??
          Object.assign(new SeatActivitySummary(), { assigned: 0, activeWithin30Days: 0, activeWithin60Days: 0, activeWithin90Days: 0 }))
        : null;
    return Object.assign(new LicenseUsageReport(), {
      licenseId: license.id,
      organizationId: license.organization_id,
      productId: license.product_id,
      planName: license.plan_name,
      type: license.type,
      status: license.status,
      metrics,
      features,
      seats,
    });
  }
}

/** The thresholds of the licenses' alert rules, each once, in order. */
function levelsOf(licenses: readonly LicenseRow[], rules: readonly RuleRow[]): number[] {
  const levels = new Set<number>();
  for (const l of licenses) {
    for (const metric of Object.values(UsageMetric)) {
      for (const level of effectiveRule(rules, { licenseId: l.id, planId: l.plan_id }, metric).levels) levels.add(level);
    }
  }
  return [...levels].sort((a, b) => a - b);
}

/** The facts of a report's licenses, read once for all of them. */
class ReportFacts {
  /** Buckets by license, metric and resolution, then by start (epoch ms). */
  readonly samples = new Map<string, Map<number, Bucket>>();
  /** The figures the database summed, by license and metric: its series were not read. */
  readonly aggregates = new Map<string, Aggregate>();
  /** A gauge's last value before the window, by license, metric and resolution. */
  readonly carry = new Map<string, number>();
  /** Denials in the window's buckets, by license and metric, then by start (epoch ms). */
  readonly denials = new Map<string, Map<number, { denials: number; retries: number }>>();
  readonly clientsRefused = new Map<string, number>();
  readonly features = new Map<string, Map<string, FeatureUsageSummary>>();
  readonly seats = new Map<string, SeatActivitySummary>();
  readonly rules: RuleRow[] = [];

  addSample(row: SampleRow): void {
    const series = key(row.license_id, row.metric, row.resolution);
    const buckets = this.samples.get(series) ?? new Map<number, Bucket>();
    this.samples.set(series, buckets);
    buckets.set(epochOf(row.bucket_start), {
      samples: num(row.samples),
      sum: num(row.value_sum),
      max: num(row.value_max),
      last: num(row.value_last),
    });
  }

  /** Denials of a bucket (its start), or of the whole window (NaN: the series was not asked for). */
  addDenials(licenseId: string, metric: string, start: number, denials: number, retries: number): void {
    const series = key(licenseId, metric);
    const buckets = this.denials.get(series) ?? new Map<number, { denials: number; retries: number }>();
    this.denials.set(series, buckets);
    buckets.set(start, { denials, retries });
  }

  feature(licenseId: string, featureKey: string, tier: FeatureTier): FeatureUsageSummary {
    const features = this.features.get(licenseId) ?? new Map<string, FeatureUsageSummary>();
    this.features.set(licenseId, features);
    const existing = features.get(featureKey);
    if (existing) return existing;
    const summary = Object.assign(new FeatureUsageSummary(), {
      key: featureKey,
      tier,
      entitled: false,
      uses: 0,
      denials: 0,
      lastUsedAt: null,
    });
    features.set(featureKey, summary);
    return summary;
  }

  /**
   * The value a metric holds all through the window when its series has no bucket in it (at the report's resolution
   * nor by day) and carries the same value into both: 0 for the counter. Null when it must be walked bucket by bucket.
   */
  constantOf(licenseId: string, metric: UsageMetric, resolution: UsageResolution): number | null {
    if (this.samples.has(key(licenseId, metric, resolution)) || this.samples.has(key(licenseId, metric, UsageResolution.DAY))) return null;
    if (metric === COUNTER) return 0;
    const carried = this.carry.get(key(licenseId, metric, resolution)) ?? 0;
    return carried === (this.carry.get(key(licenseId, metric, UsageResolution.DAY)) ?? 0) ? carried : null;
  }

  /**
   * A series of a metric over bucket starts: each bucket's average and peak, and the highest count of its period
   * (API_CALLS). A gauge's bucket without a change carries the last value before it.
   */
  series(licenseId: string, metric: UsageMetric, resolution: UsageResolution, starts: readonly number[]) {
    let carried = this.carry.get(key(licenseId, metric, resolution)) ?? 0;
    const buckets = this.samples.get(key(licenseId, metric, resolution));
    return starts.map((start) => {
      const bucket = buckets?.get(start);
      if (metric === COUNTER) return { start, average: bucket?.sum ?? 0, peak: bucket?.sum ?? 0, count: bucket?.max ?? 0 };
      if (!bucket) return { start, average: carried, peak: carried, count: carried };
      carried = bucket.last;
      return { start, average: bucket.samples ? bucket.sum / bucket.samples : bucket.last, peak: bucket.max, count: bucket.max };
    });
  }
}

/** A metric of a license in a report: its limit and the thresholds of its alert rule. */
interface MetricOf {
  licenseId: string;
  metric: UsageMetric;
  limit: number | null;
  thresholds: readonly number[];
}

function metricSummary(of: MetricOf, facts: ReportFacts, window: Window): MetricUsageSummary {
  const { licenseId, metric, limit } = of;
  const denied = facts.denials.get(key(licenseId, metric));
  let denials = 0;
  let retries = 0;
  for (const d of denied?.values() ?? []) {
    denials += d.denials;
    retries += d.retries;
  }
  const aggregate = facts.aggregates.get(key(licenseId, metric));
  const figures = aggregate ? summedFigures(aggregate, window, limit, of.thresholds) : seriesFigures(of, facts, window);
  const summary = Object.assign(new MetricUsageSummary(), {
    metric,
    limit,
    average: figures.average,
    peak: figures.peak,
    p95DailyPeak: figures.p95,
    utilization: limit ? (metric === COUNTER ? figures.highest : figures.peak) / limit : null,
    denials,
    retries,
    unmetDemand: denials - retries,
    clientsRefused: facts.clientsRefused.get(key(licenseId, metric)) ?? 0,
  });
  const notRead = (field: string) => () => {
    throw new Error(`The report was made without ${field}: ask for it.`);
  };
  Object.defineProperty(summary, 'overThresholds', { enumerable: true, get: figures.overThresholds ?? notRead('time over thresholds') });
  // The points are made when asked for: a report of many licenses is mostly read for its figures.
  let points: UsagePoint[] | undefined;
  const series = figures.series;
  Object.defineProperty(summary, 'series', {
    enumerable: true,
    get: series
      ? () => {
          points ??= series().map(({ start, average, peak }) =>
            Object.assign(new UsagePoint(), { start: new Date(start), average, peak, denials: denied?.get(start)?.denials ?? 0 }),
          );
          return points;
        }
      : notRead('series'),
  });
  return summary;
}

interface Figures {
  average: number;
  peak: number;
  highest: number;
  p95: number;
  overThresholds: (() => ThresholdTime[]) | null;
  series: (() => { start: number; average: number; peak: number }[]) | null;
}

const thresholdTimes = (limit: number | null, thresholds: readonly number[], buckets: (threshold: number) => number) =>
  limit ? thresholds.map((threshold) => Object.assign(new ThresholdTime(), { threshold, buckets: buckets(threshold) })) : [];

/** A metric's figures from what the database summed. */
function summedFigures(aggregate: Aggregate, window: Window, limit: number | null, thresholds: readonly number[]): Figures {
  const over = aggregate.over;
  return {
    average: aggregate.total / window.starts.length,
    peak: aggregate.peak,
    highest: aggregate.highest,
    p95: aggregate.p95,
    overThresholds: over ? () => thresholdTimes(limit, thresholds, (threshold) => over.get(threshold) ?? 0) : null,
    series: null,
  };
}

/** A metric's figures from its buckets, a gauge's days without a bucket carrying the value before them. */
function seriesFigures({ licenseId, metric, limit, thresholds }: MetricOf, facts: ReportFacts, window: Window): Figures {
  const constant = facts.constantOf(licenseId, metric, window.resolution);
  if (constant !== null) return constantFigures(constant, limit, thresholds, window);
  const series = facts.series(licenseId, metric, window.resolution, window.starts);
  const daily = facts.series(licenseId, metric, UsageResolution.DAY, window.days);
  let sum = 0;
  let peak = 0;
  let highest = 0;
  for (const p of series) {
    sum += p.average;
    if (p.peak > peak) peak = p.peak;
    if (p.count > highest) highest = p.count;
  }
  return {
    average: series.length ? sum / series.length : 0,
    peak,
    highest,
    p95: percentile(
      daily.map((d) => d.peak),
      95,
    ),
    overThresholds: () =>
      thresholdTimes(limit, thresholds, (threshold) => series.filter((p) => limit !== null && p.count * 100 >= threshold * limit).length),
    series: () => series,
  };
}

/** The figures of a series without a bucket in its window: the value carried into it (0 when none), all through. */
function constantFigures(value: number, limit: number | null, thresholds: readonly number[], window: Window): Figures {
  const over = (threshold: number) => (limit !== null && value * 100 >= threshold * limit ? window.starts.length : 0);
  return {
    average: value,
    peak: value,
    highest: value,
    p95: value,
    overThresholds: () => thresholdTimes(limit, thresholds, over),
    series: () => window.starts.map((start) => ({ start, average: value, peak: value })),
  };
}

/** A metric over every license of a report: the licenses' figures added up. */
function totalOf(metric: UsageMetric, reports: readonly LicenseUsageReport[]): MetricUsageSummary {
  const of = reports.map((r) => r.metrics.find((m) => m.metric === metric)!);
  const add = (pick: (m: MetricUsageSummary) => number) => of.reduce((sum, m) => sum + pick(m), 0);
  const limited = of.filter((m) => m.limit !== null);
  const limit = limited.length ? limited.reduce((sum, m) => sum + (m.limit ?? 0), 0) : null;
  const used = limited.reduce((sum, m) => sum + (m.utilization ?? 0) * (m.limit ?? 0), 0);
  return Object.assign(new MetricUsageSummary(), {
    metric,
    limit,
    average: add((m) => m.average),
    peak: add((m) => m.peak),
    p95DailyPeak: add((m) => m.p95DailyPeak),
    utilization: limit ? used / limit : null,
    overThresholds: [],
    denials: add((m) => m.denials),
    retries: add((m) => m.retries),
    unmetDemand: add((m) => m.unmetDemand),
    clientsRefused: add((m) => m.clientsRefused),
    series: [],
  });
}
