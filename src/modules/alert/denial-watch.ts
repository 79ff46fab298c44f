import type { Tx } from '../../db/transaction';
import type { UnmetDemand, UnmetDemandObserver } from '../usage/demand-log';
import type { UsageMetric } from '../usage/usage.types';
import type { AlertLog } from './alert-log';
import { AlertKind, AlertSeverity } from './alert.types';

/** Unmet demand within an hour that raises a DENIALS alert. */
export const DENIALS_PER_HOUR = 10;
const HOUR_MS = 3_600_000;

/**
 * Responsible for DENIALS alerts: told by the demand log, in the transaction of a flush, of the licenses whose limits
 * left demand unmet, it raises an alert once the hour's unmet demand of a metric reaches DENIALS_PER_HOUR, and no more
 * for that license and metric within the hour: someone should look at a limit that turns clients away, once.
 */
export class DenialWatch implements UnmetDemandObserver {
  constructor(private readonly log: AlertLog) {}

  async unmet(tx: Tx, unmet: readonly UnmetDemand[], now: Date): Promise<void> {
    for (const u of unmet) {
      const row = await tx.get<{ unmet: number | string }>(
        `select denials - retries as unmet from usage_denial
          where license_id = ? and subject = ? and feature_key = '' and resolution = 'HOUR' and bucket_start = ?`,
        [u.licenseId, u.subject, new Date(u.hour)],
      );
      const count = Number(row?.unmet ?? 0);
      if (count < DENIALS_PER_HOUR) continue;
      await this.log.lock(tx);
      const raised = await tx.get('select id from alert where license_id = ? and kind = ? and metric = ? and raised_at >= ?', [
        u.licenseId,
        AlertKind.DENIALS,
        u.subject,
        new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS),
      ]);
      if (raised) continue;
      await this.log.raise(
        tx,
        {
          organizationId: u.organizationId,
          licenseId: u.licenseId,
          kind: AlertKind.DENIALS,
          severity: AlertSeverity.WARNING,
          metric: u.subject as UsageMetric,
          value: count,
          message: `${u.subject}: the limit turned away ${count} request(s) within the hour that no grant met.`,
        },
        now,
      );
    }
  }
}
