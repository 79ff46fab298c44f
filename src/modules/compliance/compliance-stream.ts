import type { EntityManager } from '@mikro-orm/knex';
import type { Principal } from '../../auth/principal';
import { Permission } from '../../auth/roles';
import type { LiveLog } from '../../common/log-tail';
import { encodeCursor } from '../../common/pagination';
import { replayThenLive } from '../../common/replay-stream';
import { isId } from '../../db/ids';
import { AppError } from '../../errors';
import type { ComplianceEventFilter, ComplianceEventNode } from './compliance.types';
import { eventSelection, type ViolationService } from './violation.service';

const REPLAY_PAGE = 200;

/**
 * Responsible for `complianceEvents`: what happened to violations (opened, updated, acknowledged, remediated,
 * resolved, waived, reopened), stored first, then published; replayed from a subscriber's cursor, then live (see
 * replayThenLive), scoped to the subscriber's organization and filter.
 */
export class ComplianceStream {
  constructor(
    private readonly events: LiveLog<ComplianceEventNode>,
    private readonly violations: ViolationService,
    private readonly fork: () => EntityManager,
  ) {}

  subscribe(principal: Principal, filter: ComplianceEventFilter, after: string | null): AsyncIterable<ComplianceEventNode> {
    principal.require(Permission.LICENSE_READ);
    const organizationId = principal.scopeOrganization(filter.organizationId);
    if (after !== null && !isId(after)) throw AppError.badInput('`after` must be the id of a compliance event.', 'after');
    const { matches } = eventSelection(filter, organizationId);
    return replayThenLive(this.events, matches, after, async (cursor) => {
      const page = await this.violations.events(
        { principal, requestId: 'complianceEvents', em: this.fork() },
        { ...filter, organizationId },
        { first: REPLAY_PAGE, after: cursor ? encodeCursor(cursor) : null },
      );
      return { nodes: page.nodes, hasNextPage: page.pageInfo.hasNextPage };
    });
  }
}
