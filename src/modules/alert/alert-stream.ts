import type { EntityManager } from '@mikro-orm/knex';
import { Repeater } from '@graphql-yoga/subscription';
import type { Principal } from '../../auth/principal';
import { Permission } from '../../auth/roles';
import { encodeCursor } from '../../common/pagination';
import { isId } from '../../db/ids';
import { AppError } from '../../errors';
import type { AlertService } from './alert.service';
import { type AlertFilter, AlertNode } from './alert.types';

const ALERT_RAISED = 'alert.raised';
const REPLAY_PAGE = 200;

/** Carries raised alerts to every subscriber: in process, or through Redis to every instance. */
export class AlertBus {
  constructor(private readonly target: EventTarget) {}

  publish(alert: AlertNode): void {
    this.target.dispatchEvent(new CustomEvent(ALERT_RAISED, { detail: alert }));
  }

  listen(listener: (alert: AlertNode) => void): () => void {
    const handler = (event: Event) => listener(revive((event as CustomEvent<AlertNode>).detail));
    this.target.addEventListener(ALERT_RAISED, handler);
    return () => this.target.removeEventListener(ALERT_RAISED, handler);
  }
}

/** An alert that crossed Redis arrives as JSON: its dates as strings. */
function revive(alert: AlertNode): AlertNode {
  return Object.assign(new AlertNode(), alert, {
    raisedAt: new Date(alert.raisedAt),
    acknowledgedAt: alert.acknowledgedAt ? new Date(alert.acknowledgedAt) : null,
  });
}

/**
 * Responsible for `alertRaised`: replays the stored alerts after a subscriber's cursor, then goes live, with no
 * gap and no duplicate between the two. It listens before it reads, holds what arrives while it replays, and
 * delivers only alerts later than the last one delivered (ids are time-ordered); each subscriber sees only what
 * its token may read.
 */
export class AlertStream {
  constructor(
    private readonly bus: AlertBus,
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

    return new Repeater<AlertNode>(async (push, stop) => {
      let last = after;
      let replaying = true;
      const held: AlertNode[] = [];
      const deliver = (alert: AlertNode) => {
        if ((last !== null && alert.id <= last) || !visible(alert)) return undefined;
        last = alert.id;
        return push(alert);
      };
      // A subscriber that stops reading must not hold up the bus or the process: past the repeater's limit of
      // pending pushes its subscription ends with an error (it can resume from its cursor), and the others go on.
      const deliverLive = (alert: AlertNode) => {
        try {
          deliver(alert)?.catch((error: unknown) => stop(error));
        } catch (error) {
          stop(error);
        }
      };
      const unlisten = this.bus.listen((alert) => {
        if (replaying) held.push(alert);
        else deliverLive(alert);
      });
      try {
        for (;;) {
          const page = await this.alerts.list(
            { principal, requestId: 'alertRaised', em: this.fork() },
            { ...filter, organizationId },
            { first: REPLAY_PAGE, after: last ? encodeCursor(last) : null },
          );
          for (const alert of page.nodes) await deliver(alert);
          if (!page.pageInfo.hasNextPage) break;
        }
        replaying = false;
        for (const alert of held.sort((a, b) => (a.id < b.id ? -1 : 1))) deliverLive(alert);
        await stop;
      } finally {
        unlisten();
      }
    });
  }
}
