import type { Operation } from '../common/operation';
import type { Loaders } from './loaders';

/** The context of one GraphQL operation: its principal, its own EntityManager fork, and its batch loaders. */
export interface GraphQLContext extends Operation {
  loaders: Loaders;
}
