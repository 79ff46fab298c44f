import type { EntityManager } from '@mikro-orm/knex';
import { catalogLoaders } from '../modules/catalog/catalog.loaders';
import type { CatalogService } from '../modules/catalog/catalog.service';
import { licenseLoaders } from '../modules/license/license.loaders';
import type { LicenseService } from '../modules/license/license.service';
import { migrationLoaders } from '../modules/migration/migration.loaders';
import type { MigrationService } from '../modules/migration/migration.service';
import { organizationLoaders } from '../modules/organization/organization.loaders';
import type { OrganizationService } from '../modules/organization/organization.service';
import { seatLoaders } from '../modules/seat/seat.loaders';
import type { SeatService } from '../modules/seat/seat.service';

/** The services whose batch reads the loaders call. */
export interface LoaderSources {
  organizations: OrganizationService;
  catalog: CatalogService;
  licenses: LicenseService;
  seats: SeatService;
  migrations: MigrationService;
}

/**
 * Per-request batch loaders, each module's: a list of N licenses asking for their organization, plan and features
 * costs one query per relation, not one per license. A new set is made for every operation, so nothing is cached
 * across requests or principals.
 */
export function createLoaders(em: EntityManager, sources: LoaderSources) {
  return {
    ...organizationLoaders(em, sources.organizations),
    ...catalogLoaders(em, sources.catalog),
    ...licenseLoaders(em, sources.licenses),
    ...seatLoaders(em, sources.seats),
    ...migrationLoaders(sources.migrations),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
