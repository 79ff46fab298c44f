import type { EntityManager } from '@mikro-orm/knex';
import DataLoader from 'dataloader';
import type { CatalogService } from '../modules/catalog/catalog.service';
import { FeatureNode, PlanNode, ProductNode } from '../modules/catalog/catalog.types';
import type { LicenseService } from '../modules/license/license.service';
import type { OrganizationService } from '../modules/organization/organization.service';
import { OrganizationNode } from '../modules/organization/organization.types';
import type { MigrationService } from '../modules/migration/migration.service';
import type { LicenseMigrationNode } from '../modules/migration/migration.types';
import type { SeatService } from '../modules/seat/seat.service';

/** The services whose batch reads the loaders call. */
export interface LoaderSources {
  organizations: OrganizationService;
  catalog: CatalogService;
  licenses: LicenseService;
  seats: SeatService;
  migrations: MigrationService;
}

function byId<T extends { id: string }>(ids: readonly string[], rows: T[]): (T | null)[] {
  const map = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => map.get(id) ?? null);
}

/**
 * Per-request batch loaders: a list of N licenses asking for their organization, plan and features costs one
 * query per relation, not one per license. A new set is made for every operation, so nothing is cached across
 * requests or principals.
 */
export function createLoaders(em: EntityManager, sources: LoaderSources) {
  return {
    organization: new DataLoader<string, OrganizationNode | null>(async (ids) =>
      byId(ids, await sources.organizations.byIds(em, ids)).map((o) => (o ? OrganizationNode.from(o) : null)),
    ),
    product: new DataLoader<string, ProductNode | null>(async (ids) =>
      byId(ids, await sources.catalog.productsByIds(em, ids)).map((p) => (p ? ProductNode.from(p) : null)),
    ),
    plan: new DataLoader<string, PlanNode | null>(async (ids) =>
      byId(ids, await sources.catalog.plansByIds(em, ids)).map((p) => (p ? PlanNode.from(p) : null)),
    ),
    featuresOfProduct: new DataLoader<string, FeatureNode[]>(async (ids) => {
      const features = await sources.catalog.featuresOfProducts(em, ids);
      return ids.map((id) => features.filter((f) => f.product.id === id).map(FeatureNode.from));
    }),
    featuresOfPlan: new DataLoader<string, FeatureNode[]>(async (ids) => {
      const features = await sources.catalog.featuresOfPlans(em, ids);
      return ids.map((id) => (features.get(id) ?? []).map(FeatureNode.from));
    }),
    featuresOfLicense: new DataLoader<string, FeatureNode[]>(async (ids) => {
      const features = await sources.licenses.featuresOf(em, ids);
      return ids.map((id) => (features.get(id) ?? []).map(FeatureNode.from));
    }),
    // The license in hand was read with the caller's rights: its migrations are the caller's to see.
    migrationsOfLicense: new DataLoader<string, LicenseMigrationNode[]>(async (ids) => {
      const migrations = await sources.migrations.ofLicenses(ids);
      return ids.map((id) => migrations.get(id) ?? []);
    }),
    seatsInUse: new DataLoader<string, number>(async (ids) => {
      const counts = await sources.seats.seatsInUse(em, ids);
      return ids.map((id) => counts.get(id) ?? 0);
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
