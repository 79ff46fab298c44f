import type { EntityManager } from '@mikro-orm/knex';
import type { Principal } from '../auth/principal';

/**
 * What a service needs to know about the call it serves: who asks, under which request id, and the
 * EntityManager forked for this one operation (HTTP request or WebSocket message alike).
 */
export interface Operation {
  principal: Principal;
  requestId: string;
  em: EntityManager;
}
