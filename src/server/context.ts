import { randomUUID } from 'node:crypto';
import type { Operation } from '../common/operation';
import type { UsageStream } from '../modules/usage/usage-stream';
import type { AlertStream } from '../modules/alert/alert-stream';
import type { ComplianceStream } from '../modules/compliance/compliance-stream';
import type { Loaders } from './loaders';

/** The context of one GraphQL operation: its principal, its own EntityManager fork, and its batch loaders. */
export interface GraphQLContext extends Operation {
  loaders: Loaders;
  /** The caller's address, which failed authentications are counted by. */
  clientAddress?: string;
  /** Where subscriptions get their events. */
  streams: { alerts: AlertStream; usage: UsageStream; compliance: ComplianceStream };
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The caller's `x-request-id` when it is a sane one, so that logs on both sides match; a new id otherwise. */
export function requestIdFrom(given: string | string[] | undefined): string {
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}
