import type { SqlGateway } from '../../db/sql';
import type { LicenseStore } from '../license/license-store';
import { AuditAction } from '../audit/audit-actions';
import { toDate } from '../../db/sql';
import type { AuditService } from '../audit/audit.service';
import type { Renewal } from '../license/auto-renewal';
import { LicenseStatus } from '../../kernel/license.enums';
import type { AlertLog } from './alert-log';
import { DEFAULT_EXPIRY_DAYS, EXPIRY, effectiveRule, RULE_COLUMNS, type RuleRow } from './alert-rules';
import { AlertKind, AlertSeverity } from './alert.types';
import type { Tx } from '../../db/transaction';
import type { Clock } from '../../common/clock';

const DAY_MS = 86_400_000;

/** The term of a license, as the watch reads it. */
export interface Term {
  expiresAt: Date;
  gracePeriodDays: number;
  /** It renews by itself at its end (reminders say so instead of asking for a renewal). */
  autoRenew?: boolean;
}

/** A notice a license is due: `key` names it among the notices of one term, so that it is raised once. */
export interface DueNotice {
  key: string;
  kind: AlertKind;
  severity: AlertSeverity;
  daysBefore: number | null;
  message: string;
}

const severityBefore = (days: number) => (days >= 30 ? AlertSeverity.INFO : days >= 7 ? AlertSeverity.WARNING : AlertSeverity.CRITICAL);

/**
 * The notice a term is due at `now`, if any: once it ended, that it expired (or, within a grace period, that the
 * grace period started); before, the reminder of the fewest days whose moment has come. A license issued with 5
 * days left gets the 7-day reminder alone, not the 90- and 30-day ones too.
 */
export function dueNotice(term: Term, daysBefore: readonly number[], now: Date): DueNotice | null {
  const ends = term.expiresAt.getTime();
  const graceEnds = ends + term.gracePeriodDays * DAY_MS;
  const on = term.expiresAt.toISOString();
  if (now.getTime() >= graceEnds) {
    return {
      key: 'EXPIRED',
      kind: AlertKind.LICENSE_EXPIRED,
      severity: AlertSeverity.CRITICAL,
      daysBefore: null,
      message: `The license expired: its term ended ${on}${term.gracePeriodDays ? ` and its grace period of ${term.gracePeriodDays} days is over` : ''}.`,
    };
  }
  if (now.getTime() >= ends) {
    const until = new Date(graceEnds).toISOString();
    return {
      key: 'GRACE',
      kind: AlertKind.GRACE_PERIOD_STARTED,
      severity: AlertSeverity.CRITICAL,
      daysBefore: null,
      message: `The license's term ended ${on}; it works until its grace period ends ${until}.`,
    };
  }
  const due = daysBefore.filter((days) => now.getTime() >= ends - days * DAY_MS);
  if (due.length === 0) return null;
  const days = Math.min(...due);
  return {
    key: `DAYS_${days}`,
    kind: AlertKind.EXPIRY_NOTICE,
    severity: severityBefore(days),
    daysBefore: days,
    message: `The license's term ends in ${days} day${days === 1 ? '' : 's'}, ${on}: ${term.autoRenew ? 'it renews automatically then' : 'time to renew'}.`,
  };
}

interface Candidate {
  id: string;
  organization_id: string;
  plan_id: string;
  status: LicenseStatus;
  expires_at: unknown;
  grace_period_days: number;
  auto_renew: boolean | number;
}

/**
 * Responsible for expiry and renewal alerts: each pass finds the licenses whose term ends within the longest
 * reminder (or has ended), and raises the notice each is due, once per term: a notice raised is remembered with
 * the term's end, so a restart or a second instance does not raise it again, and a renewed term gets its own.
 * A license whose grace period is over is marked EXPIRED, audited, in the same transaction as its alert.
 */
export class ExpiryWatch {
  constructor(
    private readonly db: SqlGateway,
    private readonly log: AlertLog,
    private readonly audit: AuditService,
    private readonly licenses: LicenseStore,
    private readonly clock: Clock,
  ) {}

  async scan(requestId: string, now = this.clock.now()): Promise<{ notices: number; expired: number }> {
    const { rules, candidates, noted } = await this.db.read(async (sql) => {
      const rules = await sql.all<RuleRow>(`select ${RULE_COLUMNS} from alert_rule where subject = ?`, [EXPIRY]);
      const longest = Math.max(...DEFAULT_EXPIRY_DAYS, ...rules.flatMap((r) => r.levels.split(',').filter(Boolean).map(Number)));
      const live = `status in ('${LicenseStatus.ACTIVE}', '${LicenseStatus.SUSPENDED}') and expires_at is not null and expires_at <= ?`;
      const horizon = new Date(now.getTime() + longest * DAY_MS);
      return {
        rules,
        candidates: await sql.all<Candidate>(
          `select id, organization_id, plan_id, status, expires_at, grace_period_days, auto_renew from license where ${live}`,
          [horizon],
        ),
        noted: await sql.all<{ license_id: string; notice: string; term_ends_at: unknown }>(
          `select license_id, notice, term_ends_at from alert_notice where license_id in (select id from license where ${live})`,
          [horizon],
        ),
      };
    });
    const already = new Set(noted.map((n) => `${n.license_id} ${n.notice} ${toDate(n.term_ends_at).getTime()}`));
    const done = { notices: 0, expired: 0 };
    for (const license of candidates) {
      const term = {
        expiresAt: toDate(license.expires_at),
        gracePeriodDays: Number(license.grace_period_days),
        autoRenew: Boolean(license.auto_renew),
      };
      const rule = effectiveRule(rules, { licenseId: license.id, planId: license.plan_id }, EXPIRY);
      const notice = dueNotice(term, rule.levels, now);
      if (!notice || already.has(`${license.id} ${notice.key} ${term.expiresAt.getTime()}`)) continue;
      const raised = await this.db.write((sql) => this.notify(sql, license, term, notice, requestId, now));
      if (raised) done.notices++;
      if (raised && notice.key === 'EXPIRED' && license.status === LicenseStatus.ACTIVE) done.expired++;
    }
    return done;
  }

  /** Tells that a license renewed automatically (in the renewal's transaction, which locked the license first). */
  async renewed(sql: Tx, renewal: Renewal, now: Date): Promise<void> {
    const days = Math.round(renewal.term.lengthMs / DAY_MS);
    const length = `${renewal.terms === 1 ? 'one term' : `${renewal.terms} terms`} of ${days} day${days === 1 ? '' : 's'}`;
    await this.log.raise(
      sql,
      {
        organizationId: renewal.organizationId,
        licenseId: renewal.licenseId,
        kind: AlertKind.LICENSE_RENEWED,
        severity: AlertSeverity.INFO,
        expiresAt: renewal.term.endsAt,
        message: `The license renewed automatically for ${length}: its term ended ${renewal.previousEnd.toISOString()} and now ends ${renewal.term.endsAt.toISOString()}.`,
      },
      now,
    );
  }

  /** Raises a notice unless it was raised already (by another pass or instance); returns whether it did. */
  private async notify(sql: Tx, license: Candidate, term: Term, notice: DueNotice, requestId: string, now: Date): Promise<boolean> {
    // The license row first, then the alert order (see AlertLog): the order every change raising an alert locks in.
    await sql.lockLicense(license.id);
    const claimed = await sql.all<{ license_id: string }>(
      `insert into alert_notice (license_id, notice, term_ends_at, noted_at) values (?, ?, ?, ?)
       on conflict (license_id, notice, term_ends_at) do nothing returning license_id`,
      [license.id, notice.key, term.expiresAt, now],
    );
    if (claimed.length === 0) return false;
    const alert = await this.log.raise(
      sql,
      {
        organizationId: license.organization_id,
        licenseId: license.id,
        kind: notice.kind,
        severity: notice.severity,
        daysBefore: notice.daysBefore,
        expiresAt: term.expiresAt,
        message: notice.message,
      },
      now,
    );
    await sql.run('update alert_notice set alert_id = ? where license_id = ? and notice = ? and term_ends_at = ?', [
      alert.id,
      license.id,
      notice.key,
      term.expiresAt,
    ]);
    if (notice.key === 'EXPIRED' && license.status === LicenseStatus.ACTIVE) await this.expire(sql, license, requestId, now);
    return true;
  }

  private async expire(sql: Tx, license: Candidate, requestId: string, now: Date): Promise<void> {
    if (!(await this.licenses.setStatus(sql, license.id, { from: LicenseStatus.ACTIVE, to: LicenseStatus.EXPIRED }, now))) return;
    await this.audit.record(sql, {
      actor: { type: 'SYSTEM', id: null, label: 'expiry watch' },
      requestId,
      at: now,
      organizationId: license.organization_id,
      action: AuditAction.LICENSE_EXPIRE,
      objectType: 'License',
      objectId: license.id,
      before: { status: LicenseStatus.ACTIVE },
      after: { status: LicenseStatus.EXPIRED },
    });
  }
}
