import type { EntityManager } from '@mikro-orm/knex';
import { Principal } from '../../auth/principal';
import type { Clock } from '../../common/clock';
import type { SqlGateway } from '../../db/sql';
import { LicenseStatus } from '../../kernel/license.enums';
import type { AlertLog } from '../alert/alert-log';
import { AlertKind, AlertSeverity } from '../alert/alert.types';
import { settingsOf } from './recommendation-settings';
import type { RecommendationNode } from './recommendation.types';
import type { RecommendationService } from './recommendations';

const WATCH = Principal.system('recommendation watch');

const money = (cents: number, currency: string | null) => `${(cents / 100).toFixed(2)}${currency ? ` ${currency}` : ''}`;

/**
 * Responsible for RECOMMENDATION alerts: each pass makes every organization's recommendations (those not dismissed)
 * and raises an alert for each new one whose yearly effect, saving or cost, reaches the organization's
 * `alertAboveCents`. A recommendation raises its alert once: it is claimed by its id in the alert's transaction, so
 * that neither a later pass nor another instance raises it again. New evidence makes a new recommendation (a new id),
 * which may raise its own.
 */
export class RecommendationWatch {
  constructor(
    private readonly db: SqlGateway,
    private readonly recommendations: RecommendationService,
    private readonly log: AlertLog,
    private readonly fork: () => EntityManager,
    private readonly clock: Clock,
  ) {}

  /** Returns how many alerts it raised. */
  async pass(requestId: string): Promise<number> {
    const organizations = await this.db.read((sql) =>
      sql.all<{ organization_id: string }>('select distinct organization_id from license where status = ? order by organization_id', [
        LicenseStatus.ACTIVE,
      ]),
    );
    let raised = 0;
    for (const { organization_id: organizationId } of organizations) {
      const op = { principal: WATCH, requestId, em: this.fork() };
      const [recommendations, settings] = await Promise.all([
        this.recommendations.list(op, organizationId, null),
        this.db.read((sql) => settingsOf(sql, organizationId)),
      ]);
      for (const r of recommendations) {
        if (r.yearlyCostChangeCents === null || Math.abs(r.yearlyCostChangeCents) < settings.alertAboveCents) continue;
        if (await this.raise(r)) raised++;
      }
    }
    return raised;
  }

  /** Raises a recommendation's alert unless it was raised already (by another pass or instance); returns whether it did. */
  private raise(r: RecommendationNode): Promise<boolean> {
    return this.db.write(async (tx) => {
      const now = this.clock.now();
      // Claimed first: a second instance claiming the same id waits for this transaction, then finds it taken.
      const claimed = await tx.all(
        'insert into recommendation_alert (id, organization_id, license_id, raised_at) values (?, ?, ?, ?) on conflict (id) do nothing returning id',
        [r.id, r.organizationId, r.licenseId, now],
      );
      if (!claimed.length) return false;
      const effect = r.yearlyCostChangeCents ?? 0;
      const alert = await this.log.raise(
        tx,
        {
          organizationId: r.organizationId,
          licenseId: r.licenseId,
          kind: AlertKind.RECOMMENDATION,
          severity: AlertSeverity.INFO,
          value: effect,
          recommendationId: r.id,
          message: `${r.kind}: ${r.summary} ${effect < 0 ? 'Saves' : 'Costs'} ${money(Math.abs(effect), r.currency)} a year.`.slice(0, 500),
        },
        now,
      );
      await tx.run('update recommendation_alert set alert_id = ? where id = ?', [alert.id, r.id]);
      return true;
    });
  }
}
