import type { Clock } from '../../common/clock';
import type { SqlGateway } from '../../db/sql';
import { toDate } from '../../db/sql';
import { LicenseStatus } from '../../kernel/license.enums';
import { UsageMetric } from '../../kernel/metrics';
import { BUCKET_MS } from './usage-meter';
import { UsageResolution } from './usage.types';

const DAY_MS = BUCKET_MS[UsageResolution.DAY];
/** How far back a series is looked for: one whose last bucket is older stays as it is. */
export const CARRY_LOOKBACK_DAYS = 35;
/** Series carried per transaction. */
const BATCH = 500;

interface LastBucket {
  license_id: string;
  metric: UsageMetric;
  organization_id: string;
  bucket_start: unknown;
  value_last: unknown;
}

/**
 * Responsible for the daily series having a bucket every day: each pass gives every series of a live license
 * (active or suspended) whose last daily bucket is before today a bucket for each day since, up to today. A gauge's
 * carried bucket holds the value it had (`samples` 0, max and last that value: the day began with it); the counter's
 * holds nothing (API calls are counted in the day they were made). Reports then sum a year of buckets in the
 * database instead of walking them day by day to carry values through the gaps. A day's first sample adds to its
 * carried bucket, so that a day's peak counts what was held when it began. Several instances may pass at once:
 * a bucket that exists already is left as it is.
 */
export class DailyCarry {
  constructor(
    private readonly db: SqlGateway,
    private readonly clock: Clock,
  ) {}

  /** Returns how many buckets it wrote. */
  async pass(now = this.clock.now()): Promise<number> {
    const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
    const behind = await this.db.read((sql) =>
      sql.all<LastBucket>(
        `select s.license_id, s.metric, s.organization_id, s.bucket_start, s.value_last
           from (select license_id, metric, max(bucket_start) as last_start from usage_sample
                  where resolution = ? and bucket_start >= ? group by license_id, metric) m
           join usage_sample s on s.license_id = m.license_id and s.metric = m.metric and s.resolution = ? and s.bucket_start = m.last_start
           join license l on l.id = s.license_id
          where m.last_start < ? and l.status in (?, ?)`,
        [
          UsageResolution.DAY,
          new Date(today - CARRY_LOOKBACK_DAYS * DAY_MS),
          UsageResolution.DAY,
          new Date(today),
          LicenseStatus.ACTIVE,
          LicenseStatus.SUSPENDED,
        ],
      ),
    );
    let written = 0;
    for (let i = 0; i < behind.length; i += BATCH) {
      const batch = behind.slice(i, i + BATCH);
      written += await this.db.write(async (sql) => {
        let n = 0;
        for (const series of batch) {
          const carried = series.metric === UsageMetric.API_CALLS ? 0 : Number(series.value_last);
          for (let day = toDate(series.bucket_start).getTime() + DAY_MS; day <= today; day += DAY_MS) {
            n += await sql.run(
              `insert into usage_sample (license_id, metric, resolution, bucket_start, organization_id, samples, value_sum, value_max, value_last)
               values (?, ?, ?, ?, ?, 0, 0, ?, ?)
               on conflict (license_id, metric, resolution, bucket_start) do nothing`,
              [series.license_id, series.metric, UsageResolution.DAY, new Date(day), series.organization_id, carried, carried],
            );
          }
        }
        return n;
      });
    }
    return written;
  }
}
