import type { Config } from '../config';
import type { SqlGateway } from '../db/sql';
import { SecretBox, SecretDigester, secretIdOf } from '../auth/secrets';
import type { RedisProbe } from '../modules/diagnostics/checks';
import { DiagnosticsService } from '../modules/diagnostics/diagnostics.service';
import { DiagnosticsStore } from '../modules/diagnostics/diagnostics-store';
import { InstanceBeacon } from '../modules/diagnostics/instance-beacon';
import { JobRuns } from '../modules/diagnostics/job-runs';
import { LicenseExplainer } from '../modules/diagnostics/license-explanation';
import { CertificateService } from '../modules/certificate/certificate.service';
import { SigningKeys } from '../modules/certificate/signing-keys';
import { reviveTokenRevoked } from '../modules/token/token-revocation';
import { TokenService } from '../modules/token/token.service';
import type { EntityManager } from '@mikro-orm/knex';
import { AlertStream, reviveAlert } from '../modules/alert/alert-stream';
import { AlertService } from '../modules/alert/alert.service';
import { AlertLog } from '../modules/alert/alert-log';
import { AlertRuleService } from '../modules/alert/alert-rules';
import { ExpiryWatch } from '../modules/alert/expiry-watch';
import { ThresholdWatch } from '../modules/alert/threshold-watch';
import { DenialWatch } from '../modules/alert/denial-watch';
import { AuditService } from '../modules/audit/audit.service';
import { AuditChain } from '../modules/audit/audit-chain';
import { CatalogService } from '../modules/catalog/catalog.service';
import { type ClientCallLimiter, LicenseCredentials } from '../modules/license/license-credentials';
import { LicenseService } from '../modules/license/license.service';
import { ValidationService } from '../modules/license/validation.service';
import { OrganizationService } from '../modules/organization/organization.service';
import { LEASE_GRANTS, LeaseLedger } from '../modules/seat/lease-ledger';
import { SEAT_GRANTS, SeatLedger } from '../modules/seat/seat-ledger';
import { SeatService } from '../modules/seat/seat.service';
import { DailyCarry } from '../modules/usage/daily-carry';
import { RecommendationWatch } from '../modules/report/recommendation-watch';
import { PeakWatch, UsageMeter } from '../modules/usage/usage-meter';
import { reviveUsageChange, UsageSignals } from '../modules/usage/usage-signals';
import { DemandLog } from '../modules/usage/demand-log';
import { UsageReportService } from '../modules/report/usage-report';
import { RecommendationService } from '../modules/report/recommendations';
import { RecommendationSettingsService } from '../modules/report/recommendation-settings';
import { UsageStream } from '../modules/usage/usage-stream';
import { UsageService } from '../modules/usage/usage.service';
import type { Clock } from '../common/clock';
import type { EventBus } from '../common/event-bus';
import { EventChannel } from '../common/event-channel';
import { LogTail, type LogTailOptions, reviveNotice } from '../common/log-tail';
import type { Logger } from '../logger';
import { CommitOrderedIds } from '../db/commit-order';
import { NO_TURNS, RowTurns } from '../db/row-turns';
import { ComplianceReportService } from '../modules/compliance/compliance-report';
import { ComplianceScanner } from '../modules/compliance/compliance-scanner';
import { ComplianceStream } from '../modules/compliance/compliance-stream';
import { ComplianceWatch } from '../modules/compliance/compliance-watch';
import { RemediationService } from '../modules/compliance/remediation.service';
import { reviveComplianceEvent, ViolationLog } from '../modules/compliance/violation-log';
import { ViolationService } from '../modules/compliance/violation.service';
import { AutoRenewal } from '../modules/license/auto-renewal';
import { LicenseStore } from '../modules/license/license-store';
import { FeatureTransfer } from '../modules/migration/feature-transfer';
import { MigrationService } from '../modules/migration/migration.service';

/** The composition root: every service, built once per process and shared by all requests. */
export interface ServiceDeps {
  /** What carries raised alerts, usage changes and compliance events to the other instances (nothing with one). */
  bus: EventBus;
  /** How often the stored logs are read for entries no notice told of (with several instances); 0 never. */
  catchUpPollMs: number;
  logger: Logger;
  /** Put before each channel's name: deployments sharing one Redis keep their events apart. */
  channelPrefix: string;
  /** A fresh EntityManager, for work outside any request (subscriptions replaying). */
  fork: () => EntityManager;
  /** Counts the client calls of licenses that have a limit on them. */
  clientCalls?: ClientCallLimiter;
  /** What every service and job reads the time from. */
  clock: Clock;
  /** Told of checkouts and raised alerts as they happen on this instance (the server's metrics). */
  observer?: { checkedOut(outcome: string): void; alertRaised(kind: string): void };
  /** Asks Redis whether it answers, for diagnostics; null or absent when Redis is not configured. */
  redisProbe?: RedisProbe | null;
}

/** Calls for one license that may wait in one instance for their turn at its row lock. */
const MAX_WAITING_PER_LICENSE = 1_000;

/** How a stored log is read for live delivery, and what is logged when it cannot be. */
const tailOptions = (deps: ServiceDeps, log: string): LogTailOptions => ({
  pollMs: deps.catchUpPollMs,
  onReadFailure: (error) => deps.logger.warn({ err: error, log }, `cannot read the ${log} log to deliver it live; retrying every second`),
  onReadRecovery: () => deps.logger.info({ log }, `reading the ${log} log again`),
});

/** The channels events cross instances on: raised alerts, usage changes, compliance events, revoked tokens. */
function channelsOf(deps: ServiceDeps) {
  return {
    raised: new EventChannel(deps.bus, `${deps.channelPrefix}alert.raised`, reviveNotice(reviveAlert)),
    usageChanges: new EventChannel(deps.bus, `${deps.channelPrefix}usage.changed`, reviveUsageChange),
    complianceEvents: new EventChannel(deps.bus, `${deps.channelPrefix}compliance.event`, reviveNotice(reviveComplianceEvent)),
    tokenRevocations: new EventChannel(deps.bus, `${deps.channelPrefix}token.revoked`, reviveTokenRevoked),
  };
}

function licensingServices(config: Pick<Config, 'secretKey' | 'secretKeyPrevious' | 'databaseLimits'>, db: SqlGateway, deps: ServiceDeps) {
  const digester = new SecretDigester(config.secretKey, config.secretKeyPrevious);
  const { clock } = deps;
  const audit = new AuditService();
  const licenseStore = new LicenseStore();
  const credentials = new LicenseCredentials(digester, deps.clientCalls, { db, store: licenseStore });
  const catalog = new CatalogService(db, audit, clock);
  const { raised, usageChanges, complianceEvents, tokenRevocations } = channelsOf(deps);
  const ids = new CommitOrderedIds();
  const { observer } = deps;
  const alertLog = new AlertLog(
    observer
      ? {
          publish: (notice) => {
            observer.alertRaised(notice.entry.kind);
            raised.publish(notice);
          },
        }
      : raised,
    ids,
  );
  const violationLog = new ViolationLog(complianceEvents, ids, audit);
  const thresholdWatch = new ThresholdWatch(alertLog);
  const signals = new UsageSignals([new PeakWatch(), thresholdWatch, new ComplianceWatch(violationLog)], usageChanges);
  const grants = { CONCURRENT_SESSIONS: LEASE_GRANTS, ACTIVE_USERS: SEAT_GRANTS };
  const demand = new DemandLog(db, grants, clock, deps.logger, new DenialWatch(alertLog));
  const alerts = new AlertService(db, audit, clock);
  // A call waits for its turn at a license no longer than it would for a connection. SQLite's writer needs none.
  const turns =
    db.dialect === 'postgresql'
      ? new RowTurns({ maxWaiting: MAX_WAITING_PER_LICENSE, maxWaitMs: config.databaseLimits.poolTimeoutMs })
      : NO_TURNS;
  const leaseLedger = new LeaseLedger(
    db,
    credentials,
    audit,
    signals,
    violationLog,
    turns,
    demand,
    clock,
    observer?.checkedOut.bind(observer),
  );
  const seatLedger = new SeatLedger(db, audit, signals, violationLog, demand, clock);
  const licenses = new LicenseService(db, licenseStore, audit, catalog, leaseLedger, digester, clock);
  const usageMeter = new UsageMeter(db, credentials, audit, seatLedger, leaseLedger, signals, violationLog, turns, demand, clock);
  const usage = new UsageService(licenses, usageMeter, clock);
  const violations = new ViolationService(db, violationLog, clock);
  const liveAlerts = new LogTail(
    raised,
    { lastId: () => alerts.lastId(), after: (after, limit) => alerts.since(after, limit) },
    tailOptions(deps, 'alert'),
  );
  const liveComplianceEvents = new LogTail(
    complianceEvents,
    { lastId: () => violations.lastEventId(), after: (after, limit) => violations.eventsSince(after, limit) },
    tailOptions(deps, 'compliance event'),
  );
  const complianceScanner = new ComplianceScanner(db, violationLog, clock);
  const expiryWatch = new ExpiryWatch(db, alertLog, audit, licenseStore, clock);
  return {
    clock,
    audit,
    tokens: new TokenService(db, digester, audit, tokenRevocations, clock),
    tokenRevocations,
    organizations: new OrganizationService(db, audit, clock),
    catalog,
    licenses,
    credentials,
    validation: new ValidationService(db, credentials, seatLedger, leaseLedger, violationLog, demand, clock),
    seats: new SeatService(clock),
    seatLedger,
    leaseLedger,
    usageMeter,
    demand,
    usage,
    usageStream: new UsageStream(usageChanges, usage, deps.fork, clock),
    alerts,
    alertLog,
    alertRules: new AlertRuleService(db, audit, clock),
    expiryWatch,
    autoRenewal: new AutoRenewal(db, licenseStore, audit, (sql, renewal, now) => expiryWatch.renewed(sql, renewal, now), clock),
    alertStream: new AlertStream(liveAlerts, alerts),
    violations,
    complianceScanner,
    remediation: new RemediationService(db, violationLog, licenses, seatLedger, leaseLedger, complianceScanner, clock),
    complianceReports: new ComplianceReportService(db, clock),
    complianceStream: new ComplianceStream(liveComplianceEvents, violations, deps.fork),
    featureTransfer: new FeatureTransfer(db, licenseStore, digester, alertLog, audit, clock),
    migrations: new MigrationService(
      db,
      licenseStore,
      seatLedger,
      leaseLedger,
      usageMeter,
      violationLog,
      thresholdWatch,
      signals,
      alertLog,
      audit,
      clock,
    ),
  };
}

/** Every service of a server: the licensing ones, and the reports and recommendations drawn from them. */
export function createServices(
  config: Pick<Config, 'secretKey' | 'secretKeyPrevious' | 'databaseLimits' | 'rateLimits'>,
  db: SqlGateway,
  deps: ServiceDeps,
) {
  const services = licensingServices(config, db, deps);
  const usageReports = new UsageReportService(db, deps.clock);
  const recommendations = new RecommendationService(db, usageReports, services.migrations, services.audit, deps.clock);
  const recommendationSettings = new RecommendationSettingsService(db, services.audit, deps.clock);
  const recommendationWatch = new RecommendationWatch(db, recommendations, services.alertLog, deps.fork, deps.clock);
  const signingKeys = new SigningKeys(
    db,
    new SecretBox(config.secretKey, 'signing-keys', config.secretKeyPrevious),
    services.audit,
    deps.clock,
  );
  const dailyCarry = new DailyCarry(db, deps.clock);
  const certificates = new CertificateService(db, services.credentials, services.leaseLedger, signingKeys, services.audit, deps.clock);
  const auditChain = new AuditChain(db, signingKeys, deps.clock);
  return {
    ...services,
    dailyCarry,
    usageReports,
    recommendations,
    recommendationSettings,
    recommendationWatch,
    signingKeys,
    certificates,
    auditChain,
    ...diagnosticsServices(config, db, deps, { ...services, signingKeys, auditChain }),
  };
}

/** What diagnostics read the server's state through: this instance's record, its jobs' runs, and the checks. */
function diagnosticsServices(
  config: Pick<Config, 'secretKey' | 'secretKeyPrevious' | 'rateLimits'>,
  db: SqlGateway,
  deps: ServiceDeps,
  services: ReturnType<typeof licensingServices> & { signingKeys: SigningKeys; auditChain: AuditChain },
) {
  const store = new DiagnosticsStore(db);
  const secretIds = {
    current: secretIdOf(config.secretKey),
    previous: config.secretKeyPrevious ? secretIdOf(config.secretKeyPrevious) : null,
  };
  const instance = new InstanceBeacon(store, deps.clock, secretIds.current);
  const jobRuns = new JobRuns(store, instance.id, deps.clock, (error) => deps.logger.warn({ err: error }, 'cannot record a job run'));
  const { licenses, tokens, signingKeys, seatLedger, leaseLedger, usageMeter, audit } = services;
  const explainer = new LicenseExplainer(db, licenses, seatLedger, leaseLedger, usageMeter, audit, deps.clock);
  const diagnostics = new DiagnosticsService(
    {
      store,
      clock: deps.clock,
      redis: deps.redisProbe ?? null,
      rateLimits: config.rateLimits,
      secretIds,
      stored: {
        licenseKeys: () => licenses.keysBySecret(),
        apiTokens: () => tokens.tokensBySecret(),
        signingKeys: () => signingKeys.sealedBySecret(),
      },
      signingKeys: () => signingKeys.inventory(),
      auditChain: () => services.auditChain.status(),
      instanceId: instance.id,
    },
    explainer,
  );
  return { instance, jobRuns, diagnostics };
}

export type Services = ReturnType<typeof createServices>;
