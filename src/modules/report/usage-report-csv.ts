import { stringify } from 'csv-stringify/sync';
import type { MetricUsageSummary, UsageReport } from './usage-report.types';

const COLUMNS = [
  'section',
  'license_id',
  'organization_id',
  'plan',
  'type',
  'metric',
  'feature',
  'tier',
  'entitled',
  'limit',
  'average',
  'peak',
  'p95_daily_peak',
  'utilization',
  'over_thresholds',
  'denials',
  'retries',
  'unmet_demand',
  'clients_refused',
  'uses',
  'last_used_at',
  'assigned',
  'active_30d',
  'active_60d',
  'active_90d',
] as const;

type Row = Partial<Record<(typeof COLUMNS)[number], string | number | boolean | null>>;

function metricColumns(m: MetricUsageSummary): Row {
  return {
    metric: m.metric,
    limit: m.limit,
    average: m.average,
    peak: m.peak,
    p95_daily_peak: m.p95DailyPeak,
    utilization: m.utilization,
    over_thresholds: m.overThresholds.map((t) => `${t.threshold}:${t.buckets}`).join(';'),
    denials: m.denials,
    retries: m.retries,
    unmet_demand: m.unmetDemand,
    clients_refused: m.clientsRefused,
  };
}

/**
 * A usage report as CSV (RFC 4180, a header row, empty cells where a column does not apply): per license a METRIC row
 * for each metric, a FEATURE row for each feature and a SEATS row (USER licenses), then a TOTAL row for each metric.
 */
export function usageReportCsv(report: UsageReport): string {
  const rows: Row[] = [];
  for (const license of report.licenses) {
    const of = { license_id: license.licenseId, organization_id: license.organizationId, plan: license.planName, type: license.type };
    for (const m of license.metrics) rows.push({ section: 'METRIC', ...of, ...metricColumns(m) });
    for (const f of license.features) {
      rows.push({
        section: 'FEATURE',
        ...of,
        feature: f.key,
        tier: f.tier,
        entitled: f.entitled,
        uses: f.uses,
        denials: f.denials,
        last_used_at: f.lastUsedAt?.toISOString() ?? null,
      });
    }
    if (license.seats) {
      const s = license.seats;
      rows.push({
        section: 'SEATS',
        ...of,
        assigned: s.assigned,
        active_30d: s.activeWithin30Days,
        active_60d: s.activeWithin60Days,
        active_90d: s.activeWithin90Days,
      });
    }
  }
  for (const m of report.totals) rows.push({ section: 'TOTAL', ...metricColumns(m), over_thresholds: null });
  return stringify(
    rows.map((row) => COLUMNS.map((column) => row[column] ?? null)),
    { header: true, columns: [...COLUMNS], cast: { boolean: (value) => (value ? 'true' : 'false') } },
  );
}
