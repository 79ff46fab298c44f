import type { Operation } from '../../common/operation';
import type { LicenseService } from '../license/license.service';
import { AppError } from '../../errors';
import { BUCKET_MS, type UsageMeter } from './usage-meter';
import type { MetricUsage, UsageBucket, UsageMetric, UsageResolution } from './usage.types';
import type { Clock } from '../../common/clock';

/** The most buckets one history answers with. */
export const MAX_BUCKETS = 1000;

export interface HistoryRange {
  metric: UsageMetric;
  resolution: UsageResolution;
  /** Defaults to 24 buckets before `to`. */
  from?: Date | null;
  /** Defaults to now. */
  to?: Date | null;
}

/** Responsible for reading usage for management: the caller's right to the license, then its meters. */
export class UsageService {
  constructor(
    private readonly licenses: LicenseService,
    private readonly meter: UsageMeter,
    private readonly clock: Clock,
  ) {}

  async licenseUsage(op: Operation, licenseId: string): Promise<MetricUsage[]> {
    const license = await this.licenses.get(op, licenseId);
    return this.meter.usageOf({
      id: license.id,
      apiCallPeriod: license.apiCallPeriod,
      storageBytes: license.storageBytes ?? null,
      apiCallsPerPeriod: license.apiCallsPerPeriod ?? null,
      namedUsers: license.namedUsers ?? null,
      concurrentSessions: license.concurrentSessions ?? null,
    });
  }

  /** A metric's time series: its hourly or daily buckets between `from` and `to`. */
  async history(op: Operation, licenseId: string, range: HistoryRange, now = this.clock.now()): Promise<UsageBucket[]> {
    const size = BUCKET_MS[range.resolution];
    const to = range.to ?? now;
    const from = range.from ?? new Date(to.getTime() - 24 * size);
    if (from >= to) throw AppError.badInput('`from` must be before `to`.', 'from');
    if ((to.getTime() - from.getTime()) / size > MAX_BUCKETS) {
      throw AppError.badInput(`At most ${MAX_BUCKETS} buckets at a time: narrow the range or use DAY.`, 'from');
    }
    const license = await this.licenses.get(op, licenseId);
    return this.meter.history(license.id, range.metric, range.resolution, from, to);
  }
}
