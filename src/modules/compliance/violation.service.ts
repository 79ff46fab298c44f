import { Permission } from '../../auth/roles';
import type { Operation } from '../../common/operation';
import type { Page, PageArgs } from '../../common/pagination';
import { type Condition, pageOf, placeholders, Where } from '../../common/sql-page';
import { Selection, when } from '../../common/selection';
import { type SqlGateway, toDate } from '../../db/sql';
import { AppError } from '../../errors';
import { ComplianceEventType, SEVERITY_RANK, ViolationSeverity, ViolationStatus } from '../../kernel/compliance.enums';
import type { ComplianceEventFilter, ComplianceEventNode, ViolationFilter, ViolationNode, WaiveViolationInput } from './compliance.types';
import { reviveComplianceEvent, VIOLATION_COLUMNS, type ViolationLog, violationNodeOf } from './violation-log';
import type { Tx } from '../../db/transaction';
import type { Clock } from '../../common/clock';

const REASON_MAX = 500;

type EventRow = { id: string; type: ComplianceEventType; occurred_at: unknown; violation: unknown };
const EVENT_COLUMNS = 'id, organization_id, license_id, type, occurred_at, violation';

/**
 * The compliance events a filter selects (within an organization, when the caller's rights are bound to one),
 * defined once: the log and the replay of `complianceEvents` query the stored ones with it, and the subscription
 * tests live ones.
 */
export function eventSelection(filter: ComplianceEventFilter, organizationId: string | null): Selection<ComplianceEventNode, Condition> {
  return new Selection<ComplianceEventNode, Condition>([
    when(organizationId, (id) => ({ query: { sql: 'organization_id = ?', params: [id] }, test: (e) => e.organizationId === id })),
    when(filter.licenseId, (id) => ({ query: { sql: 'license_id = ?', params: [id] }, test: (e) => e.licenseId === id })),
    when(filter.violationId, (id) => ({ query: { sql: 'violation_id = ?', params: [id] }, test: (e) => e.violation.id === id })),
    when(filter.types, (types) => ({
      query: { sql: `type in (${placeholders(types)})`, params: [...types] },
      test: (e) => types.includes(e.type),
    })),
    when(filter.kinds, (kinds) => ({
      query: { sql: `violation_id in (select id from violation where kind in (${placeholders(kinds)}))`, params: [...kinds] },
      test: (e) => kinds.includes(e.violation.kind),
    })),
  ]);
}

function reasonOf(reason: string | null | undefined, field: string, required: boolean): string | undefined {
  const trimmed = reason?.trim();
  if (!trimmed) {
    if (required) throw AppError.badInput(`Give a reason: \`${field}\` is empty.`, field);
    return undefined;
  }
  if (trimmed.length > REASON_MAX) throw AppError.badInput(`A reason is at most ${REASON_MAX} characters.`, field);
  return trimmed;
}

/**
 * Responsible for violations as administrators see them: listing and reading (scoped to the caller's organization),
 * and their lifecycle, `OPEN → ACKNOWLEDGED → RESOLVED`, or `WAIVED` with a reason and perhaps an end date. Each
 * step is checked against the violation's status when it is taken, so that two administrators acting at once
 * cannot both move it.
 */
export class ViolationService {
  constructor(
    private readonly db: SqlGateway,
    private readonly log: ViolationLog,
    private readonly clock: Clock,
  ) {}

  /** Violations not resolved nor waived, counted by kind and status in one grouped statement (the server's metrics). */
  async activeCounts(): Promise<{ kind: string; status: string; count: number }[]> {
    const rows = await this.db.read((sql) =>
      sql.all<{ kind: string; status: string; count: unknown }>(
        'select kind, status, count(*) as count from violation where status in (?, ?) group by kind, status',
        [ViolationStatus.OPEN, ViolationStatus.ACKNOWLEDGED],
      ),
    );
    return rows.map((row) => ({ kind: row.kind, status: row.status, count: Number(row.count) }));
  }

  list(op: Operation, filter: ViolationFilter, page: PageArgs): Promise<Page<ViolationNode>> {
    op.principal.require(Permission.LICENSE_READ);
    const organizationId = op.principal.scopeOrganization(filter.organizationId);
    const where = new Where();
    if (organizationId) where.add('organization_id = ?', organizationId);
    if (filter.licenseId) where.add('license_id = ?', filter.licenseId);
    where.in('kind', filter.kinds).in('status', filter.statuses);
    if (filter.minSeverity) {
      const min = SEVERITY_RANK[filter.minSeverity];
      where.in(
        'severity',
        Object.values(ViolationSeverity).filter((s) => SEVERITY_RANK[s] >= min),
      );
    }
    return this.db.read((sql) => pageOf(sql, `select ${VIOLATION_COLUMNS} from violation`, where, page, violationNodeOf));
  }

  async get(op: Operation, id: string): Promise<ViolationNode> {
    op.principal.require(Permission.LICENSE_READ);
    const violation = await this.db.read((sql) => this.log.get(sql, id));
    if (!violation || !op.principal.mayAccessOrganization(violation.organizationId)) throw AppError.notFound('Violation', id);
    return violation;
  }

  /** The compliance log: what happened to violations, oldest first. */
  events(op: Operation, filter: ComplianceEventFilter, page: PageArgs): Promise<Page<ComplianceEventNode>> {
    op.principal.require(Permission.LICENSE_READ);
    const where = new Where();
    for (const { sql, params } of eventSelection(filter, op.principal.scopeOrganization(filter.organizationId)).queries) {
      where.add(sql, ...params);
    }
    return this.db.read((sql) =>
      pageOf<EventRow, ComplianceEventNode>(sql, `select ${EVENT_COLUMNS} from compliance_event`, where, page, eventOf),
    );
  }

  /** Every organization's compliance events after the one with id `after`, oldest first: what the live stream hands on. */
  eventsSince(after: string | null, limit: number): Promise<ComplianceEventNode[]> {
    return this.db.read(async (sql) => {
      const rows = await sql.all<EventRow>(
        `select ${EVENT_COLUMNS} from compliance_event ${after ? 'where id > ?' : ''} order by id limit ?`,
        after ? [after, limit] : [limit],
      );
      return rows.map(eventOf);
    });
  }

  /** The id of the newest compliance event, of any organization; null when there is none. */
  async lastEventId(): Promise<string | null> {
    const row = await this.db.read((sql) => sql.get<{ id: string }>('select id from compliance_event order by id desc limit 1'));
    return row?.id ?? null;
  }

  /** Loads a violation for a change, locked, and checks the caller may change it. */
  private async changing(sql: Tx, op: Operation, id: string): Promise<ViolationNode> {
    op.principal.require(Permission.LICENSE_MANAGE);
    const violation = await this.log.getForUpdate(sql, id);
    if (!violation) throw AppError.notFound('Violation', id);
    op.principal.requireObject(Permission.LICENSE_MANAGE, violation.organizationId, 'Violation', id);
    return violation;
  }

  private async step(
    op: Operation,
    id: string,
    verb: string,
    from: readonly ViolationStatus[],
    change: (now: Date, by: string) => Parameters<ViolationLog['transition']>[3],
    event: ComplianceEventType,
  ): Promise<ViolationNode> {
    return this.db.write(async (sql) => {
      const now = this.clock.now();
      await this.log.lock(sql);
      const current = await this.changing(sql, op, id);
      if (!from.includes(current.status)) throw AppError.invalidTransition('violation', current.status, verb);
      const actor = op.principal.requireActor();
      const changed = await this.log.transition(sql, id, from, change(now, actor.label), event, actor, op.requestId, now);
      // Locked above on PostgreSQL; on SQLite the write transaction excludes: the status cannot have moved.
      if (!changed) throw AppError.invalidTransition('violation', current.status, verb);
      return changed;
    });
  }

  acknowledge(op: Operation, id: string): Promise<ViolationNode> {
    return this.step(
      op,
      id,
      'acknowledge',
      [ViolationStatus.OPEN],
      (now, by) => ({ status: ViolationStatus.ACKNOWLEDGED, acknowledgedAt: now, acknowledgedBy: by }),
      ComplianceEventType.ACKNOWLEDGED,
    );
  }

  resolve(op: Operation, id: string, reason: string): Promise<ViolationNode> {
    const why = reasonOf(reason, 'reason', true)!;
    return this.step(
      op,
      id,
      'resolve',
      [ViolationStatus.OPEN, ViolationStatus.ACKNOWLEDGED, ViolationStatus.WAIVED],
      (now, by) => ({ status: ViolationStatus.RESOLVED, resolvedAt: now, resolvedBy: by, resolution: why }),
      ComplianceEventType.RESOLVED,
    );
  }

  waive(op: Operation, input: WaiveViolationInput): Promise<ViolationNode> {
    const why = reasonOf(input.reason, 'reason', true)!;
    if (input.until && input.until.getTime() <= this.clock.now().getTime())
      throw AppError.badInput('A waiver must end in the future.', 'until');
    return this.step(
      op,
      input.id,
      'waive',
      [ViolationStatus.OPEN, ViolationStatus.ACKNOWLEDGED],
      (now, by) => ({ status: ViolationStatus.WAIVED, waivedAt: now, waivedBy: by, waiverReason: why, waivedUntil: input.until ?? null }),
      ComplianceEventType.WAIVED,
    );
  }
}

function eventOf(row: EventRow): ComplianceEventNode {
  const violation = (typeof row.violation === 'string' ? JSON.parse(row.violation) : row.violation) as ViolationNode;
  return reviveComplianceEvent({
    id: row.id,
    organizationId: violation.organizationId,
    licenseId: violation.licenseId,
    type: row.type,
    occurredAt: toDate(row.occurred_at),
    violation,
  });
}
