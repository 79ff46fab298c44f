import type { Principal } from '../../auth/principal';
import { AuditAction } from '../audit/audit-actions';
import { Permission } from '../../auth/roles';
import type { SqlGateway, SqlRunner } from '../../db/sql';
import { AppError } from '../../errors';
import type { AuditService } from '../audit/audit.service';
import { UsageMetric } from '../usage/usage.types';
import {
  AlertRules,
  ExpiryNoticeRule,
  type ExpiryNoticesInput,
  RuleSource,
  ThresholdRule,
  type ThresholdRuleInput,
} from './alert-rule.types';
import type { Clock } from '../../common/clock';

/** Thresholds in percent of a limit, where neither the license nor its plan sets any. */
export const DEFAULT_THRESHOLDS: readonly number[] = [80, 90, 100];
/** How far below a threshold a metric must fall before that threshold fires again, unless a rule says otherwise. */
export const DEFAULT_REARM_MARGIN = 5;
/**
 * For how long a threshold's open alert counts the threshold's repeats (crossed again after re-arming) instead of a
 * new alert being raised, unless a rule says otherwise: a metric swinging around a threshold raises one alert in
 * this time, not one a swing.
 */
export const DEFAULT_REPEAT_MINUTES = 15;
/** Days before a term ends that a license is reminded of it, where neither the license nor its plan says. */
export const DEFAULT_EXPIRY_DAYS: readonly number[] = [90, 30, 7, 1];
/** The subject of the expiry rule, beside the usage metrics. */
export const EXPIRY = 'EXPIRY';

export type RuleSubject = UsageMetric | typeof EXPIRY;

/** A stored rule: its owner is a license or a plan; levels are percents (metrics) or days (expiry). */
export interface RuleRow {
  owner_id: string;
  subject: string;
  levels: string;
  rearm_margin: number | string | null;
  repeat_minutes: number | string | null;
}

export interface EffectiveRule {
  levels: number[];
  rearmMargin: number;
  repeatMinutes: number;
  source: RuleSource;
}

const LIMITS = {
  thresholds: { min: 1, max: 1000, count: 10, unit: 'percent' },
  daysBefore: { min: 1, max: 3650, count: 10, unit: 'days' },
} as const;

const parseLevels = (levels: string): number[] => (levels === '' ? [] : levels.split(',').map(Number));

/** The longest repeat interval a rule may set: a day. */
const MAX_REPEAT_MINUTES = 1440;

export const RULE_COLUMNS = 'owner_id, subject, levels, rearm_margin, repeat_minutes';

/** A rule as stored: null margins and intervals take the defaults. */
interface StoredRule {
  levels: number[];
  rearmMargin: number | null;
  repeatMinutes: number | null;
}

const orNull = (value: number | string | null) => (value === null ? null : Number(value));
const storedRule = (row: RuleRow): StoredRule => ({
  levels: parseLevels(row.levels),
  rearmMargin: orNull(row.rearm_margin),
  repeatMinutes: orNull(row.repeat_minutes),
});

/**
 * The rule of a subject for a license (or a plan) from the rows of its own and its plan's rules: the license's
 * wins over the plan's, the plan's over the default.
 */
export function effectiveRule(
  rows: readonly RuleRow[],
  owner: { licenseId: string | null; planId: string },
  subject: RuleSubject,
): EffectiveRule {
  const own = owner.licenseId ? rows.find((r) => r.owner_id === owner.licenseId && r.subject === subject) : undefined;
  const row = own ?? rows.find((r) => r.owner_id === owner.planId && r.subject === subject);
  if (row) {
    const stored = storedRule(row);
    return {
      levels: stored.levels,
      rearmMargin: stored.rearmMargin ?? DEFAULT_REARM_MARGIN,
      repeatMinutes: stored.repeatMinutes ?? DEFAULT_REPEAT_MINUTES,
      source: own ? RuleSource.LICENSE : RuleSource.PLAN,
    };
  }
  const levels = subject === EXPIRY ? DEFAULT_EXPIRY_DAYS : DEFAULT_THRESHOLDS;
  return { levels: [...levels], rearmMargin: DEFAULT_REARM_MARGIN, repeatMinutes: DEFAULT_REPEAT_MINUTES, source: RuleSource.DEFAULT };
}

/** Whole numbers in range, no repeats, not too many: checked before anything is written. */
function checkLevels(field: keyof typeof LIMITS, levels: readonly number[]): number[] {
  const { min, max, count, unit } = LIMITS[field];
  if (levels.length > count) throw AppError.badInput(`At most ${count} values in \`${field}\`.`, field);
  for (const level of levels) {
    if (!Number.isInteger(level) || level < min || level > max) {
      throw AppError.badInput(`Each value in \`${field}\` is a whole number of ${unit} from ${min} to ${max}; got ${level}.`, field);
    }
  }
  if (new Set(levels).size !== levels.length) throw AppError.badInput(`\`${field}\` repeats a value.`, field);
  return [...levels];
}

interface Owner {
  licenseId: string | null;
  planId: string;
  organizationId: string | null;
}

interface OwnerRef {
  licenseId?: string | null;
  planId?: string | null;
}

interface RuleCall {
  principal: Principal;
  requestId: string;
}

/**
 * Responsible for alert rules: which thresholds of which metric raise alerts, and how many days before its end a
 * license is reminded, per license or per plan (the default of its licenses). A license's rules are set by who
 * manages its licenses, a plan's by who manages the catalog. Rules are plain rows that the threshold watch reads
 * with the armed state in one statement, so it runs plain SQL as well.
 */
export class AlertRuleService {
  constructor(
    private readonly db: SqlGateway,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async rules(call: RuleCall, ref: OwnerRef): Promise<AlertRules> {
    return this.db.read(async (sql) => this.rulesOf(sql, await this.ownerOf(sql, call.principal, ref, 'read')));
  }

  setThresholds(call: RuleCall, input: ThresholdRuleInput): Promise<AlertRules> {
    const levels = input.thresholds == null ? null : checkLevels('thresholds', input.thresholds).sort((a, b) => a - b);
    const margin = input.rearmMargin ?? DEFAULT_REARM_MARGIN;
    if (!Number.isInteger(margin) || margin < 0 || margin > 50) {
      throw AppError.badInput('`rearmMargin` is a whole number of points from 0 to 50.', 'rearmMargin');
    }
    const repeat = input.repeatIntervalMinutes ?? null;
    if (repeat !== null && (!Number.isInteger(repeat) || repeat < 0 || repeat > MAX_REPEAT_MINUTES)) {
      throw AppError.badInput(
        `\`repeatIntervalMinutes\` is a whole number of minutes from 0 to ${MAX_REPEAT_MINUTES}.`,
        'repeatIntervalMinutes',
      );
    }
    for (const field of ['rearmMargin', 'repeatIntervalMinutes'] as const) {
      if (levels === null && input[field] != null) {
        throw AppError.badInput(`\`${field}\` belongs to thresholds: give \`thresholds\` too, or neither to inherit.`, field);
      }
    }
    return this.set(call, input, input.metric, levels === null ? null : { levels, rearmMargin: margin, repeatMinutes: repeat });
  }

  setExpiryNotices(call: RuleCall, input: ExpiryNoticesInput): Promise<AlertRules> {
    const levels = input.daysBefore == null ? null : checkLevels('daysBefore', input.daysBefore).sort((a, b) => b - a);
    return this.set(call, input, EXPIRY, levels === null ? null : { levels, rearmMargin: null, repeatMinutes: null });
  }

  private set(call: RuleCall, ref: OwnerRef, subject: RuleSubject, rule: StoredRule | null): Promise<AlertRules> {
    return this.db.write(async (sql) => {
      const now = this.clock.now();
      const owner = await this.ownerOf(sql, call.principal, ref, 'write');
      const ownerId = owner.licenseId ?? owner.planId;
      const before = await sql.get<RuleRow>(`select ${RULE_COLUMNS} from alert_rule where owner_id = ? and subject = ?`, [
        ownerId,
        subject,
      ]);
      const actor = call.principal.requireActor();
      if (rule) {
        await sql.run(
          `insert into alert_rule (owner_id, subject, license_id, plan_id, levels, rearm_margin, repeat_minutes, updated_at, updated_by)
           values (?, ?, ?, ?, ?, ?, ?, ?, ?)
           on conflict (owner_id, subject) do update set levels = excluded.levels, rearm_margin = excluded.rearm_margin,
             repeat_minutes = excluded.repeat_minutes, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
          [
            ownerId,
            subject,
            owner.licenseId,
            owner.licenseId ? null : owner.planId,
            rule.levels.join(','),
            rule.rearmMargin,
            rule.repeatMinutes,
            now,
            actor.label,
          ],
        );
      } else {
        await sql.run('delete from alert_rule where owner_id = ? and subject = ?', [ownerId, subject]);
      }
      const snapshot = (r: StoredRule | null) =>
        r && {
          subject,
          levels: r.levels,
          ...(r.rearmMargin === null ? {} : { rearmMargin: r.rearmMargin }),
          ...(r.repeatMinutes === null ? {} : { repeatIntervalMinutes: r.repeatMinutes }),
        };
      await this.audit.record(sql, {
        actor,
        requestId: call.requestId,
        at: now,
        organizationId: owner.organizationId,
        action: rule ? AuditAction.ALERT_RULE_SET : AuditAction.ALERT_RULE_CLEAR,
        objectType: owner.licenseId ? 'License' : 'Plan',
        objectId: ownerId,
        before: snapshot(before ? storedRule(before) : null) ?? { subject, inherited: true },
        after: snapshot(rule) ?? { subject, inherited: true },
      });
      return this.rulesOf(sql, owner);
    });
  }

  /** Every rule as it applies to the owner: one per metric, and the expiry reminders. */
  private async rulesOf(sql: SqlRunner, owner: Owner): Promise<AlertRules> {
    const rows = await sql.all<RuleRow>(`select ${RULE_COLUMNS} from alert_rule where owner_id in (?, ?)`, [
      owner.licenseId ?? owner.planId,
      owner.planId,
    ]);
    const thresholds = Object.values(UsageMetric).map((metric) => {
      const rule = effectiveRule(rows, owner, metric);
      return Object.assign(new ThresholdRule(), {
        metric,
        thresholds: rule.levels,
        rearmMargin: rule.rearmMargin,
        repeatIntervalMinutes: rule.repeatMinutes,
        source: rule.source,
      });
    });
    const expiry = effectiveRule(rows, owner, EXPIRY);
    return Object.assign(new AlertRules(), {
      licenseId: owner.licenseId,
      planId: owner.planId,
      thresholds,
      expiry: Object.assign(new ExpiryNoticeRule(), { daysBefore: expiry.levels, source: expiry.source }),
    });
  }

  /**
   * The license or plan a call names, once the caller may read it or change its rules: a license's rules are
   * its organization's, a plan's belong to the catalog.
   */
  private async ownerOf(sql: SqlRunner, principal: Principal, ref: OwnerRef, access: 'read' | 'write'): Promise<Owner> {
    if (Boolean(ref.licenseId) === Boolean(ref.planId)) {
      throw AppError.badInput('Name either a license (`licenseId`) or a plan (`planId`).', 'licenseId');
    }
    if (ref.licenseId) {
      const license = await sql.get<{ organization_id: string; plan_id: string }>(
        'select organization_id, plan_id from license where id = ?',
        [ref.licenseId],
      );
      const permission = access === 'read' ? Permission.LICENSE_READ : Permission.LICENSE_MANAGE;
      if (!license) {
        principal.require(permission);
        throw AppError.notFound('License', ref.licenseId);
      }
      principal.requireObject(permission, license.organization_id, 'License', ref.licenseId);
      return { licenseId: ref.licenseId, planId: license.plan_id, organizationId: license.organization_id };
    }
    const planId = ref.planId as string;
    if (access === 'read') principal.requireActor();
    else principal.require(Permission.CATALOG_MANAGE);
    if (!(await sql.get('select id from plan where id = ?', [planId]))) throw AppError.notFound('Plan', planId);
    return { licenseId: null, planId, organizationId: null };
  }
}
