import { UsagePeriod } from '../../src/kernel/license.enums';
import { periodOf } from '../../src/modules/usage/usage-meter';
import type { Licensed } from './factories';
import type { TestServer } from './server';

const DAY_MS = 86_400_000;

/**
 * API calls of earlier days, written into a license's daily usage series as the meter would have counted them:
 * `monthStart` on the first day of this month (today, on the 1st) and `lastMonth` on the last day of the one before.
 */
export async function addPastCalls(t: TestServer, l: Licensed, calls: { monthStart: number; lastMonth: number }): Promise<void> {
  const monthStart = periodOf(UsagePeriod.MONTH, new Date()).start;
  await t.server.db.write(async (sql) => {
    for (const [day, n] of [
      [monthStart, calls.monthStart],
      [new Date(monthStart.getTime() - DAY_MS), calls.lastMonth],
    ] as const) {
      await sql.run(
        `insert into usage_sample (license_id, metric, resolution, bucket_start, organization_id, samples, value_sum, value_max, value_last)
         values (?, 'API_CALLS', 'DAY', ?, ?, 1, ?, ?, ?)
         on conflict (license_id, metric, resolution, bucket_start) do update set value_sum = usage_sample.value_sum + excluded.value_sum`,
        [l.licenseId, day, l.organizationId, n, n, n],
      );
    }
  });
}
