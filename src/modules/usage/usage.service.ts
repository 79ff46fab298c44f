import type { Operation } from '../../common/operation';
import type { LicenseService } from '../license/license.service';
import type { UsageMeter } from './usage-meter';
import type { MetricUsage } from './usage.types';

/** Responsible for reading usage for management: the caller's right to the license, then its meters. */
export class UsageService {
  constructor(
    private readonly licenses: LicenseService,
    private readonly meter: UsageMeter,
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
}
