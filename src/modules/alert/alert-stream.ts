import type { EntityManager } from '@mikro-orm/knex';
import type { Principal } from '../../auth/principal';
import { Permission } from '../../auth/roles';
import { LiveQueue, MAX_PENDING_EVENTS } from '../../common/live-queue';
import type { EventChannel } from '../../common/event-channel';
import { encodeCursor } from '../../common/pagination';
import { isId } from '../../db/ids';
import { AppError } from '../../errors';
import type { AlertService } from './alert.service';
import { type AlertFilter, AlertNode } from './alert.types';

const REPLAY_PAGE = 200;

/** An alert that crossed Redis arrives as JSON: its dates as strings. */
export function reviveAlert(alert: AlertNode): AlertNode {
  const date = (value: Date | string | null) => (value === null ? null : new Date(value));
  return Object.assign(new AlertNode(), alert, {
    raisedAt: new Date(alert.raisedAt),
    acknowledgedAt: date(alert.acknowledgedAt),
    expiresAt: date(alert.expiresAt),
  });
}

/**
 * Responsible for `alertRaised`: replays the stored alerts after a subscriber's cursor, then goes live, with no
 * gap and no duplicate between the two. It listens before it reads, holds what arrives while it replays, and
 * delivers only alerts later than the last one delivered (ids follow commit order, see AlertLog); each subscriber
 * sees only what its token may read. A subscriber that stops reading must not hold up the channel, the other
 * subscribers or the process: past MAX_PENDING_EVENTS waiting for it, it is cut off with SUBSCRIBER_TOO_SLOW.
 * What was already waiting still reaches it, in order, then the error naming the last of them, to resume from.
 */
export class AlertStream {
  constructor(
    private readonly raised: EventChannel<AlertNode>,
    private readonly alerts: AlertService,
    private readonly fork: () => EntityManager,
  ) {}

  subscribe(principal: Principal, filter: AlertFilter, after: string | null): AsyncIterable<AlertNode> {
    principal.require(Permission.LICENSE_READ);
    const organizationId = principal.scopeOrganization(filter.organizationId);
    if (after !== null && !isId(after)) throw AppError.badInput('`after` must be the id of an alert.', 'after');
    const visible = (a: AlertNode) =>
      (filter.acknowledged == null || Boolean(a.acknowledgedAt) === filter.acknowledged) &&
      (!organizationId || a.organizationId === organizationId) &&
      (!filter.licenseId || a.licenseId === filter.licenseId) &&
      (!filter.kind || a.kind === filter.kind) &&
      (!filter.severity || a.severity === filter.severity);

    const queue = new LiveQueue<AlertNode>();
    let last = after; // the id of the last alert queued for the subscriber
    let replaying = true;
    const held: AlertNode[] = [];
    const cutOff = () => queue.fail(AppError.subscriberTooSlow(MAX_PENDING_EVENTS, last));
    const later = (alert: AlertNode) => last === null || alert.id > last;
    const enqueue = (alert: AlertNode) => {
      last = alert.id;
      queue.push(alert);
    };
    const deliverLive = (alert: AlertNode) => {
      if (!later(alert)) return;
      if (queue.waiting >= MAX_PENDING_EVENTS) cutOff();
      else enqueue(alert);
    };
    queue.onClose(
      this.raised.listen((alert) => {
        if (!visible(alert)) return;
        if (!replaying) deliverLive(alert);
        else if (held.length < MAX_PENDING_EVENTS) held.push(alert);
        else cutOff();
      }),
    );
    const replay = async () => {
      for (;;) {
        const page = await this.alerts.list(
          { principal, requestId: 'alertRaised', em: this.fork() },
          { ...filter, organizationId },
          { first: REPLAY_PAGE, after: last ? encodeCursor(last) : null },
        );
        if (queue.isClosed) return;
        for (const alert of page.nodes) if (later(alert)) enqueue(alert);
        // The next page is read once the subscriber has taken this one: a stalled one holds one page at most.
        await queue.drained();
        if (!page.pageInfo.hasNextPage || queue.isClosed) break;
      }
      replaying = false;
      for (const alert of held.splice(0).sort((a, b) => (a.id < b.id ? -1 : 1))) deliverLive(alert);
    };
    replay().catch((error: unknown) => queue.fail(error));
    return queue;
  }
}
