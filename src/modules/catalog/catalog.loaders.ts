import type { EntityManager } from '@mikro-orm/knex';
import DataLoader from 'dataloader';
import { byId } from '../../common/loaders';
import type { Operation } from '../../common/operation';
import type { CatalogService } from './catalog.service';
import { FeatureNode, PlanNode, ProductNode } from './catalog.types';

/** Products, plans and their features, for a request's objects: one query per relation. */
export function catalogLoaders(em: EntityManager, catalog: CatalogService) {
  return {
    product: new DataLoader<string, ProductNode | null>(async (ids) =>
      byId(ids, await catalog.productsByIds(em, ids)).map((p) => (p ? ProductNode.from(p) : null)),
    ),
    plan: new DataLoader<string, PlanNode | null>(async (ids) =>
      byId(ids, await catalog.plansByIds(em, ids)).map((p) => (p ? PlanNode.from(p) : null)),
    ),
    featuresOfProduct: new DataLoader<string, FeatureNode[]>(async (ids) => {
      const features = await catalog.featuresOfProducts(em, ids);
      return ids.map((id) => features.filter((f) => f.product.id === id).map(FeatureNode.from));
    }),
    featuresOfPlan: new DataLoader<string, FeatureNode[]>(async (ids) => {
      const features = await catalog.featuresOfPlans(em, ids);
      return ids.map((id) => (features.get(id) ?? []).map(FeatureNode.from));
    }),
  };
}

export type CatalogLoaders = ReturnType<typeof catalogLoaders>;
export type CatalogContext = Operation & { loaders: CatalogLoaders };
