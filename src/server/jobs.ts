import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Services } from './services';
import { PeriodicJob } from './periodic-job';
import { hourlyRetentionStart } from '../modules/usage/usage-meter';
import { INSTANCE_BEAT_MS } from '../modules/diagnostics/instance-beacon';

const HOUR_MS = 3_600_000;
/** How often the demand facts told since the last flush are written. */
const DEMAND_FLUSH_MS = 1_000;
/** How often the audit events committed since are sealed into the chain. */
const AUDIT_SEAL_MS = 1_000;

/**
 * The periodic jobs of a server:
 * - the lease reaper ends leases whose heartbeats stopped, so that a crashed client's seat comes back by itself
 *   within its TTL plus one interval (checkouts also end their own license's dead leases first);
 * - the expiry watch renews the licenses that renew automatically and whose term ended, reminds licenses nearing the
 *   end of their term, marks them once they have ended, and then applies the migrations that waited for a renewal
 *   (automatic or not), in that order: a migration waiting for an automatic renewal is applied in the pass that renews;
 * - usage retention drops hourly usage and denial buckets past their retention, every hour;
 * - the demand log writes the denials and feature uses told since its last flush, every second (and at shutdown);
 * - the compliance scan evaluates every active license against its limits and terms (on PostgreSQL one instance at a
 *   time: the others skip their turn);
 * - the audit chain seals the events committed since its last pass, every second, and anchors its head (signed, and
 *   logged so that a copy lives outside the database) every `auditAnchorIntervalMs`;
 * - the instance heartbeat records this instance for diagnostics (its clock against the database's), every 30 s.
 * Each pass is recorded (see JobRuns): when, how it ended, on which instance.
 */
/** One pass of the expiry watch: renewals first, then notices and expiries, then the migrations renewals made due. */
export async function expiryPass(services: Services, id: string, now = services.clock.now()) {
  const { renewed } = await services.autoRenewal.renewDue(id, now);
  const { notices, expired } = await services.expiryWatch.scan(id, now);
  const { applied, rejected } = await services.migrations.applyDue(id, now);
  return { renewed, notices, expired, migrationsApplied: applied, migrationsRejected: rejected };
}

export function periodicJobs(
  config: Pick<Config, 'leaseReaperIntervalMs' | 'expiryWatchIntervalMs' | 'complianceScanIntervalMs' | 'auditAnchorIntervalMs'>,
  services: Services,
  logger: Logger,
) {
  return [
    new PeriodicJob(
      'instance-heartbeat',
      INSTANCE_BEAT_MS,
      async () => {
        await services.instance.beat();
        return {}; // every 30 seconds: not worth a log line
      },
      logger,
      services.clock,
      services.jobRuns,
    ),
    new PeriodicJob(
      'lease-reaper',
      config.leaseReaperIntervalMs,
      async (id) => ({ leasesEnded: await services.leaseLedger.reap(id) }),
      logger,
      services.clock,
      services.jobRuns,
    ),
    new PeriodicJob(
      'expiry-watch',
      config.expiryWatchIntervalMs,
      (id) => expiryPass(services, id),
      logger,
      services.clock,
      services.jobRuns,
    ),
    new PeriodicJob(
      'usage-retention',
      HOUR_MS,
      async () => {
        const now = services.clock.now();
        const bucketsDropped = await services.usageMeter.prune(now);
        return { bucketsDropped, denialBucketsDropped: await services.demand.prune(hourlyRetentionStart(now)) };
      },
      logger,
      services.clock,
      services.jobRuns,
    ),
    new PeriodicJob(
      'daily-carry',
      HOUR_MS,
      async () => ({ bucketsCarried: await services.dailyCarry.pass() }),
      logger,
      services.clock,
      services.jobRuns,
    ),
    new PeriodicJob(
      'recommendation-watch',
      HOUR_MS,
      async (id) => ({ recommendationAlerts: await services.recommendationWatch.pass(id) }),
      logger,
      services.clock,
      services.jobRuns,
    ),
    new PeriodicJob(
      'demand-facts',
      DEMAND_FLUSH_MS,
      async () => {
        await services.demand.flush();
        return {}; // facts, not changes worth a log line each second
      },
      logger,
      services.clock,
      services.jobRuns,
    ),
    new PeriodicJob(
      'compliance-scan',
      config.complianceScanIntervalMs,
      async (id) => {
        const { skipped, licensesChecked, checkedAt: _, ...changed } = await services.complianceScanner.scan(id);
        return { skipped: skipped ? 1 : 0, licensesChecked: skipped ? 0 : licensesChecked, ...changed };
      },
      logger,
      services.clock,
      services.jobRuns,
    ),
    new PeriodicJob(
      'audit-chain',
      AUDIT_SEAL_MS,
      async () => {
        await services.auditChain.seal();
        return {}; // every second under load: not worth a log line each
      },
      logger,
      services.clock,
    ),
    new PeriodicJob(
      'audit-anchor',
      config.auditAnchorIntervalMs,
      async () => {
        const anchor = await services.auditChain.anchor();
        if (anchor) logger.info({ job: 'audit-anchor', auditAnchor: anchor }, 'audit chain anchored');
        return {};
      },
      logger,
      services.clock,
    ),
  ];
}
