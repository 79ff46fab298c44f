import type { Actor } from '../../auth/principal';
import { Lock, type Read, type Tx } from '../../db/transaction';
import { type ActionOn, AuditAction } from '../audit/audit-actions';
import type { Breach, BreachRecorder } from '../../kernel/breach';
import type { EventChannel } from '../../common/event-channel';
import type { LogNotice } from '../../common/log-tail';
import type { CommitOrderedIds } from '../../db/commit-order';
import { newId } from '../../db/ids';
import { fromJson, type SqlRunner, toDate, toDateOrNull } from '../../db/sql';
import { AppError } from '../../errors';
import type { AuditService } from '../audit/audit.service';
import {
  ACTIVE_STATUSES,
  ComplianceEventType,
  OPEN_STATUSES,
  type ViolationKind,
  type ViolationSeverity,
  ViolationStatus,
} from '../../kernel/compliance.enums';
import { ComplianceEventNode, type Remediation, ViolationNode } from './compliance.types';

export interface ViolationRow {
  id: string;
  organization_id: string;
  license_id: string;
  kind: ViolationKind;
  subject: string;
  severity: ViolationSeverity;
  status: ViolationStatus;
  occurrences: number | string;
  value: number | string | null;
  peak_value: number | string | null;
  limit_value: number | string | null;
  evidence: unknown;
  detail: string;
  first_seen_at: unknown;
  last_seen_at: unknown;
  acknowledged_at: unknown;
  acknowledged_by: string | null;
  resolved_at: unknown;
  resolved_by: string | null;
  resolution: string | null;
  waived_at: unknown;
  waived_by: string | null;
  waiver_reason: string | null;
  waived_until: unknown;
  remediations: unknown;
  deadline_at: unknown;
  updated_at: unknown;
}

export const VIOLATION_COLUMNS = `id, organization_id, license_id, kind, subject, severity, status, occurrences, value, peak_value, limit_value,
  evidence, detail, first_seen_at, last_seen_at, acknowledged_at, acknowledged_by, resolved_at, resolved_by, resolution, waived_at, waived_by,
  waiver_reason, waived_until, remediations, deadline_at, updated_at`;

const numberOrNull = (value: number | string | null) => (value === null ? null : Number(value));

export function violationNodeOf(row: ViolationRow): ViolationNode {
  return Object.assign(new ViolationNode(), {
    id: row.id,
    organizationId: row.organization_id,
    licenseId: row.license_id,
    kind: row.kind,
    subject: row.subject || null,
    severity: row.severity,
    status: row.status,
    occurrences: Number(row.occurrences),
    value: numberOrNull(row.value),
    peakValue: numberOrNull(row.peak_value),
    limit: numberOrNull(row.limit_value),
    evidence: fromJson<Record<string, unknown>>(row.evidence),
    detail: row.detail,
    firstSeenAt: toDate(row.first_seen_at),
    lastSeenAt: toDate(row.last_seen_at),
    acknowledgedAt: toDateOrNull(row.acknowledged_at),
    acknowledgedBy: row.acknowledged_by,
    resolvedAt: toDateOrNull(row.resolved_at),
    resolvedBy: row.resolved_by,
    resolution: row.resolution,
    waivedAt: toDateOrNull(row.waived_at),
    waivedBy: row.waived_by,
    waiverReason: row.waiver_reason,
    waivedUntil: toDateOrNull(row.waived_until),
    remediations: fromJson<Remediation[]>(row.remediations).map((r) => ({ ...r, at: new Date(r.at) })),
    deadline: toDateOrNull(row.deadline_at),
    updatedAt: toDate(row.updated_at),
  });
}

/** A violation that crossed Redis, or was read back from an event's JSON: its dates as strings. */
export function reviveViolation(v: ViolationNode): ViolationNode {
  const date = (value: Date | string | null) => (value === null ? null : new Date(value));
  return Object.assign(new ViolationNode(), v, {
    firstSeenAt: new Date(v.firstSeenAt),
    lastSeenAt: new Date(v.lastSeenAt),
    acknowledgedAt: date(v.acknowledgedAt),
    resolvedAt: date(v.resolvedAt),
    waivedAt: date(v.waivedAt),
    waivedUntil: date(v.waivedUntil),
    deadline: date(v.deadline),
    updatedAt: new Date(v.updatedAt),
    remediations: v.remediations.map((r) => ({ ...r, at: new Date(r.at) })),
  });
}

export function reviveComplianceEvent(event: ComplianceEventNode): ComplianceEventNode {
  return Object.assign(new ComplianceEventNode(), event, {
    occurredAt: new Date(event.occurredAt),
    violation: reviveViolation(event.violation),
  });
}

const list = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');
const ACTIVE = list(ACTIVE_STATUSES);
const OPEN = list(OPEN_STATUSES);
const rank = (column: string) => `case ${column} when 'LOW' then 1 when 'MEDIUM' then 2 when 'HIGH' then 3 else 4 end`;

/** A change to a violation's lifecycle columns. */
export interface ViolationChange {
  status: ViolationStatus;
  acknowledgedAt?: Date;
  acknowledgedBy?: string;
  resolvedAt?: Date;
  resolvedBy?: string;
  resolution?: string;
  waivedAt?: Date;
  waivedBy?: string;
  waiverReason?: string;
  waivedUntil?: Date | null;
  severity?: ViolationSeverity;
  deadline?: Date | null;
}

/** The audit action of each event a violation goes through; occurrences (UPDATED) are in the compliance log only. */
const AUDITED: Partial<Record<ComplianceEventType, ActionOn<'Violation'>>> = {
  [ComplianceEventType.OPENED]: AuditAction.VIOLATION_OPEN,
  [ComplianceEventType.ACKNOWLEDGED]: AuditAction.VIOLATION_ACKNOWLEDGE,
  [ComplianceEventType.RESOLVED]: AuditAction.VIOLATION_RESOLVE,
  [ComplianceEventType.WAIVED]: AuditAction.VIOLATION_WAIVE,
  [ComplianceEventType.REOPENED]: AuditAction.VIOLATION_REOPEN,
  [ComplianceEventType.REMEDIATED]: AuditAction.VIOLATION_REMEDIATE,
  [ComplianceEventType.ESCALATED]: AuditAction.VIOLATION_ESCALATE,
};

/** What the audit log keeps of a violation. */
const snapshot = (v: ViolationNode) => ({
  kind: v.kind,
  subject: v.subject,
  severity: v.severity,
  status: v.status,
  occurrences: v.occurrences,
  value: v.value,
  limit: v.limit,
  resolution: v.resolution,
  waiverReason: v.waiverReason,
  waivedUntil: v.waivedUntil,
  remediations: v.remediations.length,
});

/**
 * Responsible for violations as stored: a breach opens one, or counts another occurrence on the one active for the
 * same license, kind and subject (a unique index makes that hold between concurrent writers); each lifecycle step
 * is a conditional update. Every change is appended to the compliance log with a commit-ordered id and published
 * once its transaction commits, like alerts; all but occurrences are audited, in the same transaction.
 */
export class ViolationLog implements BreachRecorder {
  constructor(
    private readonly events: Pick<EventChannel<LogNotice<ComplianceEventNode>>, 'publish'>,
    private readonly ids: CommitOrderedIds,
    private readonly audit: AuditService,
  ) {}

  /**
   * Takes the compliance log's order lock (PostgreSQL): every transaction that changes a violation takes it before
   * it touches the violation's row, so that none waits for a row while holding the lock another one waits for.
   */
  lock(sql: Tx): Promise<void> {
    return this.ids.lock(sql);
  }

  async record(sql: Tx, breach: Breach, actor: Actor, requestId: string | null, now: Date): Promise<ViolationNode> {
    await this.lock(sql);
    const id = newId(now.getTime());
    const value = breach.value ?? null;
    const row = await sql.get<ViolationRow>(
      `insert into violation (id, organization_id, license_id, kind, subject, severity, status, occurrences, value, peak_value, limit_value,
         evidence, detail, first_seen_at, last_seen_at, remediations, deadline_at, updated_at)
       values (?, ?, ?, ?, ?, ?, 'OPEN', 1, ?, ?, ?, ?, ?, ?, ?, '[]', ?, ?)
       on conflict (license_id, kind, subject) where status in (${ACTIVE}) do update set
         occurrences = violation.occurrences + 1,
         severity = case when ${rank('excluded.severity')} > ${rank('violation.severity')} then excluded.severity else violation.severity end,
         value = excluded.value,
         peak_value = case when violation.peak_value is null or excluded.peak_value > violation.peak_value then excluded.peak_value
                      else violation.peak_value end,
         limit_value = excluded.limit_value,
         detail = excluded.detail,
         last_seen_at = excluded.last_seen_at,
         deadline_at = coalesce(excluded.deadline_at, violation.deadline_at),
         updated_at = excluded.updated_at
       returning ${VIOLATION_COLUMNS}`,
      [
        id,
        breach.organizationId,
        breach.licenseId,
        breach.kind,
        breach.subject ?? '',
        breach.severity,
        value,
        value,
        breach.limit ?? null,
        JSON.stringify(breach.evidence),
        breach.detail.slice(0, 500),
        now,
        now,
        breach.deadline ?? null,
        now,
      ],
    );
    const violation = violationNodeOf(row!);
    const type = violation.id === id ? ComplianceEventType.OPENED : ComplianceEventType.UPDATED;
    await this.append(sql, type, violation, actor, requestId, now);
    return violation;
  }

  /** The active violations of a license (open, acknowledged or waived). */
  async active(sql: SqlRunner, licenseId: string): Promise<ViolationNode[]> {
    const rows = await sql.all<ViolationRow>(
      `select ${VIOLATION_COLUMNS} from violation where license_id = ? and status in (${ACTIVE}) order by id`,
      [licenseId],
    );
    return rows.map(violationNodeOf);
  }

  get(sql: SqlRunner, id: string): Promise<ViolationNode | undefined> {
    return this.load(sql, id, '');
  }

  /** The violation, locked until the transaction ends where the database has row locks. */
  getForUpdate(tx: Tx, id: string): Promise<ViolationNode | undefined> {
    return this.load(tx, id, tx.forUpdate(Lock.VIOLATION, id));
  }

  private async load(sql: SqlRunner, id: string, lock: string): Promise<ViolationNode | undefined> {
    const row = await sql.get<ViolationRow>(`select ${VIOLATION_COLUMNS} from violation where id = ? ${lock}`, [id]);
    return row ? violationNodeOf(row) : undefined;
  }

  /**
   * Moves a violation to another status if it is still in one of `from`; returns it as it is then, or undefined
   * when it had moved on (a concurrent change won).
   */
  async transition(
    sql: Tx,
    id: string,
    from: readonly ViolationStatus[],
    change: ViolationChange,
    event: ComplianceEventType,
    actor: Actor,
    requestId: string | null,
    now: Date,
  ): Promise<ViolationNode | undefined> {
    const columns: [string, unknown][] = [
      ['status', change.status],
      ['acknowledged_at', change.acknowledgedAt],
      ['acknowledged_by', change.acknowledgedBy],
      ['resolved_at', change.resolvedAt],
      ['resolved_by', change.resolvedBy],
      ['resolution', change.resolution?.slice(0, 500)],
      ['waived_at', change.waivedAt],
      ['waived_by', change.waivedBy],
      ['waiver_reason', change.waiverReason],
      ['waived_until', change.waivedUntil],
      ['severity', change.severity],
      ['deadline_at', change.deadline],
    ];
    const set = columns.filter(([, value]) => value !== undefined);
    await this.lock(sql);
    const row = await sql.get<ViolationRow>(
      `update violation set ${set.map(([name]) => `${name} = ?`).join(', ')}, updated_at = ?
        where id = ? and status in (${list(from)}) returning ${VIOLATION_COLUMNS}`,
      [...set.map(([, value]) => value as string | Date | null), now, id],
    );
    if (!row) return undefined;
    const violation = violationNodeOf(row);
    await this.append(sql, event, violation, actor, requestId, now);
    return violation;
  }

  /** The select of the ids of a license's open (or acknowledged) violations of a kind. */
  openOf(licenseId: string, kind: ViolationKind): Read {
    return {
      sql: `select id from violation where license_id = ? and kind = ? and status in (${OPEN})`,
      params: [licenseId, kind],
      // Violations, which no queued write (a lease, its audit event, a sample) changes: they travel together.
      besideQueued: true,
    };
  }

  /** Resolves those of the violations `ids` (read with `openOf`) still open or acknowledged, whose cause cleared; returns them. */
  async resolveCleared(
    sql: Tx,
    ids: readonly string[],
    resolution: string,
    actor: Actor,
    requestId: string | null,
    now: Date,
  ): Promise<ViolationNode[]> {
    const resolved: ViolationNode[] = [];
    for (const id of ids) {
      const violation = await this.transition(
        sql,
        id,
        OPEN_STATUSES,
        { status: ViolationStatus.RESOLVED, resolvedAt: now, resolvedBy: 'SYSTEM', resolution },
        ComplianceEventType.RESOLVED,
        actor,
        requestId,
        now,
      );
      if (violation) resolved.push(violation);
    }
    return resolved;
  }

  /** Adds what an administrator did to the violation's remediations. */
  async remediated(
    sql: Tx,
    id: string,
    remediation: Remediation,
    actor: Actor,
    requestId: string | null,
    now: Date,
  ): Promise<ViolationNode> {
    // Under the lock, which every change of a violation takes first: its status cannot move before this commits.
    await this.lock(sql);
    const current = await this.get(sql, id);
    if (!current) throw AppError.notFound('Violation', id);
    if (current.status === ViolationStatus.RESOLVED) throw AppError.invalidTransition('violation', current.status, 'remediate');
    const remediations = [...current.remediations, remediation];
    const row = await sql.get<ViolationRow>(
      `update violation set remediations = ?, updated_at = ? where id = ? returning ${VIOLATION_COLUMNS}`,
      [JSON.stringify(remediations), now, id],
    );
    const violation = violationNodeOf(row!);
    await this.append(sql, ComplianceEventType.REMEDIATED, violation, actor, requestId, now, { remediation });
    return violation;
  }

  private async append(
    sql: Tx,
    type: ComplianceEventType,
    violation: ViolationNode,
    actor: Actor,
    requestId: string | null,
    now: Date,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    const { id, previousId } = await this.ids.next(sql, 'compliance_event', now);
    const event = Object.assign(new ComplianceEventNode(), {
      id,
      organizationId: violation.organizationId,
      licenseId: violation.licenseId,
      type,
      occurredAt: now,
      violation,
    });
    await sql.run(
      'insert into compliance_event (id, organization_id, license_id, violation_id, type, occurred_at, violation) values (?, ?, ?, ?, ?, ?, ?)',
      [event.id, event.organizationId, event.licenseId, violation.id, type, now, JSON.stringify(violation)],
    );
    const action = AUDITED[type];
    if (action) {
      await this.audit.record(sql, {
        actor,
        requestId,
        at: now,
        organizationId: violation.organizationId,
        action,
        objectType: 'Violation',
        objectId: violation.id,
        after: { ...snapshot(violation), ...extra },
      });
    }
    sql.afterCommit(() => this.events.publish({ entry: event, previousId }));
  }
}
