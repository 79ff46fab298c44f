import type { Actor } from '../../auth/principal';
import type { LicenseStore } from './license-store';
import { AuditAction } from '../audit/audit-actions';
import type { SqlGateway } from '../../db/sql';
import { toDate, toDateOrNull } from '../../db/sql';
import type { AuditService } from '../audit/audit.service';
import { LicenseStatus } from '../../kernel/license.enums';
import { renewedTerm, type Term } from './term';
import type { Tx } from '../../db/transaction';
import type { Clock } from '../../common/clock';

const RENEWER: Actor = { type: 'SYSTEM', id: null, label: 'automatic renewal' };

/** A license renewed automatically: what a notice of it says. */
export interface Renewal {
  licenseId: string;
  organizationId: string;
  previousEnd: Date;
  term: Term;
  /** How many terms it was renewed for: one, unless the server missed some. */
  terms: number;
}

/** Tells whoever should know that a license renewed, inside the renewal's transaction (the alert log). */
export type RenewalNotice = (sql: Tx, renewal: Renewal, now: Date) => Promise<void>;

interface Row {
  id: string;
  organization_id: string;
  status: LicenseStatus;
  auto_renew: boolean | number;
  starts_at: unknown;
  expires_at: unknown;
  term_started_at: unknown;
  term_days: number | string | null;
}

/**
 * Responsible for automatic renewal: an active license that renews automatically whose term has ended gets its next
 * term, once, by the expiry watch's pass (before it looks at terms, so such a license never reaches its grace
 * period). Each renewal is its own transaction with the license row locked and its conditions read again, so a
 * second pass or instance finds the term renewed already; it is audited as `license.renew` and noticed (an alert).
 */
export class AutoRenewal {
  constructor(
    private readonly db: SqlGateway,
    private readonly store: LicenseStore,
    private readonly audit: AuditService,
    private readonly notice: RenewalNotice,
    private readonly clock: Clock,
  ) {}

  async renewDue(requestId: string, now = this.clock.now()): Promise<{ renewed: number }> {
    const due = await this.db.read((sql) =>
      sql.all<{ id: string }>(
        `select id from license where auto_renew and status = ? and expires_at is not null and expires_at <= ? order by expires_at, id`,
        [LicenseStatus.ACTIVE, now],
      ),
    );
    let renewed = 0;
    for (const { id } of due) if (await this.db.write((sql) => this.renew(sql, id, requestId, now))) renewed++;
    return { renewed };
  }

  private async renew(sql: Tx, id: string, requestId: string, now: Date): Promise<boolean> {
    await sql.lockLicense(id);
    const row = await sql.get<Row>(
      'select id, organization_id, status, auto_renew, starts_at, expires_at, term_started_at, term_days from license where id = ?',
      [id],
    );
    const expiresAt = row ? toDateOrNull(row.expires_at) : null;
    // Read again under the lock: renewed, suspended or turned off since the list was made.
    if (!row?.auto_renew || row.status !== LicenseStatus.ACTIVE || !expiresAt || expiresAt > now) return false;
    const dates = {
      startsAt: toDate(row.starts_at),
      expiresAt,
      termStartedAt: toDateOrNull(row.term_started_at),
      termDays: row.term_days === null ? null : Number(row.term_days),
    };
    const next = renewedTerm(dates, now);
    if (!next) return false;
    await this.store.update(sql, id, { expiresAt: next.endsAt, termStartedAt: next.startedAt }, now);
    await this.audit.record(sql, {
      actor: RENEWER,
      requestId,
      at: now,
      organizationId: row.organization_id,
      action: AuditAction.LICENSE_RENEW,
      objectType: 'License',
      objectId: id,
      before: { expiresAt, termStartedAt: dates.termStartedAt },
      after: { expiresAt: next.endsAt, termStartedAt: next.startedAt, automatic: true, terms: next.terms },
    });
    const { terms, ...term } = next;
    await this.notice(sql, { licenseId: id, organizationId: row.organization_id, previousEnd: expiresAt, term, terms }, now);
    return true;
  }
}
