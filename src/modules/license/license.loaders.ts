import type { EntityManager } from '@mikro-orm/knex';
import DataLoader from 'dataloader';
import type { Operation } from '../../common/operation';
import { FeatureNode } from '../catalog/catalog.types';
import type { CatalogLoaders } from '../catalog/catalog.loaders';
import type { OrganizationLoaders } from '../organization/organization.loaders';
import type { LicenseService } from './license.service';

/** The features of a request's licenses, one query for all of them. */
export function licenseLoaders(em: EntityManager, licenses: LicenseService) {
  return {
    featuresOfLicense: new DataLoader<string, FeatureNode[]>(async (ids) => {
      const features = await licenses.featuresOf(em, ids);
      return ids.map((id) => (features.get(id) ?? []).map(FeatureNode.from));
    }),
  };
}

export type LicenseLoaders = ReturnType<typeof licenseLoaders>;
/** What a license's fields need: its organization, plan, product and features. */
export type LicenseContext = Operation & { loaders: LicenseLoaders & CatalogLoaders & OrganizationLoaders };
