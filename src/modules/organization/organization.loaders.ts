import type { EntityManager } from '@mikro-orm/knex';
import DataLoader from 'dataloader';
import { byId } from '../../common/loaders';
import type { Operation } from '../../common/operation';
import type { OrganizationService } from './organization.service';
import { OrganizationNode } from './organization.types';

/** The organizations of a request's objects, one query for all of them. */
export function organizationLoaders(em: EntityManager, organizations: OrganizationService) {
  return {
    organization: new DataLoader<string, OrganizationNode | null>(async (ids) =>
      byId(ids, await organizations.byIds(em, ids)).map((o) => (o ? OrganizationNode.from(o) : null)),
    ),
  };
}

export type OrganizationLoaders = ReturnType<typeof organizationLoaders>;
export type OrganizationContext = Operation & { loaders: OrganizationLoaders };
