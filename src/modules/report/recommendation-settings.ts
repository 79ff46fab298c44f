import { Permission } from '../../auth/roles';
import type { Clock } from '../../common/clock';
import type { Operation } from '../../common/operation';
import type { SqlGateway, SqlRunner } from '../../db/sql';
import { AppError } from '../../errors';
import { AuditAction } from '../audit/audit-actions';
import type { AuditService } from '../audit/audit.service';
import { RecommendationSettingsNode, type RecommendationSettingsInput } from './recommendation.types';

/** The windows and thresholds recommendations are made with. */
export interface RecommendationSettings {
  /** The days of use right-sizing (and the other kinds) look at. */
  windowDays: number;
  /** A named seat whose user was not active this long is inactive (a seat younger than this is not). */
  inactiveDays: number;
  /** A premium feature unused this long is unused. */
  unusedFeatureDays: number;
  /** Above the 95th percentile of daily peaks, in percent of it (at least one unit). */
  bufferPercent: number;
  /** More than this share of the window's days, in percent, with demand left unmet argues for a higher limit. */
  unmetDaySharePercent: number;
  /** A license whose term ends this soon is right-sized for its renewal. */
  renewalDays: number;
  /** A new recommendation whose yearly effect reaches this (in minor units, saving or cost) raises an alert. */
  alertAboveCents: number;
}

export const DEFAULT_RECOMMENDATION_SETTINGS: Readonly<RecommendationSettings> = {
  windowDays: 90,
  inactiveDays: 30,
  unusedFeatureDays: 60,
  bufferPercent: 10,
  unmetDaySharePercent: 10,
  renewalDays: 60,
  alertAboveCents: 10_000,
};

/** What each setting may be. */
const BOUNDS: Record<keyof RecommendationSettings, [number, number]> = {
  windowDays: [30, 365],
  inactiveDays: [7, 365],
  unusedFeatureDays: [7, 365],
  bufferPercent: [0, 100],
  unmetDaySharePercent: [1, 100],
  renewalDays: [1, 365],
  alertAboveCents: [0, 2_000_000_000],
};

const COLUMNS = 'window_days, inactive_days, unused_feature_days, buffer_percent, unmet_day_share_percent, renewal_days, alert_above_cents';

/** An organization's settings: its own, or the defaults. */
export async function settingsOf(sql: SqlRunner, organizationId: string): Promise<RecommendationSettings & { isDefault: boolean }> {
  const row = await sql.get<Record<string, number | string>>(`select ${COLUMNS} from recommendation_settings where organization_id = ?`, [
    organizationId,
  ]);
  if (!row) return { ...DEFAULT_RECOMMENDATION_SETTINGS, isDefault: true };
  return {
    windowDays: Number(row.window_days),
    inactiveDays: Number(row.inactive_days),
    unusedFeatureDays: Number(row.unused_feature_days),
    bufferPercent: Number(row.buffer_percent),
    unmetDaySharePercent: Number(row.unmet_day_share_percent),
    renewalDays: Number(row.renewal_days),
    alertAboveCents: Number(row.alert_above_cents),
    isDefault: false,
  };
}

/** Responsible for an organization's recommendation settings: read by who reads its licenses, set by who manages them. */
export class RecommendationSettingsService {
  constructor(
    private readonly db: SqlGateway,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async get(op: Operation, organizationId: string): Promise<RecommendationSettingsNode> {
    op.principal.require(Permission.LICENSE_READ, organizationId);
    return this.db.read(async (sql) => {
      await this.organization(sql, organizationId);
      return nodeOf(organizationId, await settingsOf(sql, organizationId));
    });
  }

  async set(op: Operation, organizationId: string, input: RecommendationSettingsInput): Promise<RecommendationSettingsNode> {
    op.principal.require(Permission.LICENSE_MANAGE, organizationId);
    for (const [field, [min, max]] of Object.entries(BOUNDS) as [keyof RecommendationSettings, [number, number]][]) {
      const value = input[field];
      if (value !== null && value !== undefined && (!Number.isInteger(value) || value < min || value > max)) {
        throw AppError.badInput(`\`${field}\` is a whole number from ${min} to ${max}.`, field);
      }
    }
    const actor = op.principal.requireActor();
    return this.db.write(async (tx) => {
      const now = this.clock.now();
      await this.organization(tx, organizationId);
      const { isDefault, ...before } = await settingsOf(tx, organizationId);
      const after: RecommendationSettings = { ...before };
      for (const field of Object.keys(BOUNDS) as (keyof RecommendationSettings)[]) after[field] = input[field] ?? before[field];
      await tx.run(
        `insert into recommendation_settings (organization_id, ${COLUMNS}, updated_at, updated_by) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         on conflict (organization_id) do update set window_days = excluded.window_days, inactive_days = excluded.inactive_days,
           unused_feature_days = excluded.unused_feature_days, buffer_percent = excluded.buffer_percent,
           unmet_day_share_percent = excluded.unmet_day_share_percent, renewal_days = excluded.renewal_days,
           alert_above_cents = excluded.alert_above_cents,
           updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
        [
          organizationId,
          after.windowDays,
          after.inactiveDays,
          after.unusedFeatureDays,
          after.bufferPercent,
          after.unmetDaySharePercent,
          after.renewalDays,
          after.alertAboveCents,
          now,
          actor.label,
        ],
      );
      await this.audit.record(tx, {
        actor,
        requestId: op.requestId,
        at: now,
        organizationId,
        action: AuditAction.RECOMMENDATION_SETTINGS_SET,
        objectType: 'Organization',
        objectId: organizationId,
        before: isDefault ? { ...before, isDefault } : before,
        after,
      });
      return nodeOf(organizationId, { ...after, isDefault: false });
    });
  }

  private async organization(sql: SqlRunner, organizationId: string): Promise<void> {
    if (!(await sql.get('select id from organization where id = ?', [organizationId])))
      throw AppError.notFound('Organization', organizationId);
  }
}

const nodeOf = (organizationId: string, settings: RecommendationSettings & { isDefault: boolean }) =>
  Object.assign(new RecommendationSettingsNode(), { organizationId, ...settings });
