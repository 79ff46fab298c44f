import type { Principal } from '../../auth/principal';
import { Permission } from '../../auth/roles';
import { replayThenLive } from '../../common/replay-stream';
import type { LiveLog } from '../../common/log-tail';
import { encodeCursor } from '../../common/pagination';
import { isId } from '../../db/ids';
import { AppError } from '../../errors';
import { type AlertService, alertSelection } from './alert.service';
import { type AlertFilter, AlertNode } from './alert.types';

const REPLAY_PAGE = 200;

/** An alert that crossed Redis arrives as JSON: its dates as strings. */
export function reviveAlert(alert: AlertNode): AlertNode {
  const date = (value: Date | string | null) => (value === null ? null : new Date(value));
  return Object.assign(new AlertNode(), alert, {
    raisedAt: new Date(alert.raisedAt),
    acknowledgedAt: date(alert.acknowledgedAt),
    expiresAt: date(alert.expiresAt),
    // An instance of an earlier version publishes alerts without repeats.
    repeats: alert.repeats ?? 0,
    lastRepeatedAt: date(alert.lastRepeatedAt ?? null),
  });
}

/**
 * Responsible for `alertRaised`: the stored alerts after a subscriber's cursor, then live ones (see replayThenLive),
 * each subscriber seeing only what its token may read and its filter asks for.
 */
export class AlertStream {
  constructor(
    private readonly raised: LiveLog<AlertNode>,
    private readonly alerts: AlertService,
  ) {}

  subscribe(principal: Principal, filter: AlertFilter, after: string | null): AsyncIterable<AlertNode> {
    principal.require(Permission.LICENSE_READ);
    const organizationId = principal.scopeOrganization(filter.organizationId);
    if (after !== null && !isId(after)) throw AppError.badInput('`after` must be the id of an alert.', 'after');
    const { matches } = alertSelection(filter, organizationId);
    return replayThenLive(this.raised, matches, after, async (cursor) => {
      const page = await this.alerts.list(
        { principal },
        { ...filter, organizationId },
        { first: REPLAY_PAGE, after: cursor ? encodeCursor(cursor) : null },
      );
      return { nodes: page.nodes, hasNextPage: page.pageInfo.hasNextPage };
    });
  }
}
