import type { Config } from '../config';
import type { SqlGateway } from '../db/sql';
import { SecretDigester } from '../auth/secrets';
import { TokenService } from '../auth/token.service';
import type { EntityManager } from '@mikro-orm/knex';
import { AlertBus, AlertStream } from '../modules/alert/alert-stream';
import { AlertService } from '../modules/alert/alert.service';
import { ThresholdWatch } from '../modules/alert/threshold-watch';
import { AuditService } from '../modules/audit/audit.service';
import { CatalogService } from '../modules/catalog/catalog.service';
import { LicenseCredentials } from '../modules/license/license-credentials';
import { LicenseService } from '../modules/license/license.service';
import { ValidationService } from '../modules/license/validation.service';
import { OrganizationService } from '../modules/organization/organization.service';
import { LeaseLedger } from '../modules/seat/lease-ledger';
import { SeatLedger } from '../modules/seat/seat-ledger';
import { SeatService } from '../modules/seat/seat.service';
import { UsageMeter } from '../modules/usage/usage-meter';
import { UsageService } from '../modules/usage/usage.service';

/** The composition root: every service, built once per process and shared by all requests. */
export interface ServiceDeps {
  /** Where raised alerts travel: an in-process EventTarget, or Redis's between instances. */
  events: EventTarget;
  /** A fresh EntityManager, for work outside any request (subscriptions replaying). */
  fork: () => EntityManager;
}

export function createServices(config: Pick<Config, 'secretKey'>, db: SqlGateway, deps: ServiceDeps) {
  const digester = new SecretDigester(config.secretKey);
  const audit = new AuditService();
  const credentials = new LicenseCredentials(digester);
  const catalog = new CatalogService(audit);
  const bus = new AlertBus(deps.events);
  const thresholds = new ThresholdWatch(bus);
  const alerts = new AlertService(audit);
  const leaseLedger = new LeaseLedger(db, credentials, audit, thresholds);
  const seatLedger = new SeatLedger(db, audit, thresholds);
  const licenses = new LicenseService(audit, catalog, leaseLedger, digester, db.dialect === 'postgresql');
  const usageMeter = new UsageMeter(db, credentials, audit, seatLedger, leaseLedger, thresholds);
  return {
    audit,
    tokens: new TokenService(db, digester, audit),
    organizations: new OrganizationService(audit),
    catalog,
    licenses,
    validation: new ValidationService(db, credentials, seatLedger, leaseLedger),
    seats: new SeatService(),
    seatLedger,
    leaseLedger,
    usageMeter,
    usage: new UsageService(licenses, usageMeter),
    alerts,
    alertStream: new AlertStream(bus, alerts, deps.fork),
  };
}

export type Services = ReturnType<typeof createServices>;
