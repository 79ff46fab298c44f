import type { Actor } from '../../auth/principal';
import { Lock, type Tx } from '../../db/transaction';
import { AuditAction } from '../audit/audit-actions';
import { Permission } from '../../auth/roles';
import type { Operation } from '../../common/operation';
import { newId } from '../../db/ids';
import { fromJson, type SqlGateway, type SqlRunner, toDateOrNull } from '../../db/sql';
import { AppError } from '../../errors';
import type { AlertLog } from '../alert/alert-log';
import { AlertKind, AlertSeverity } from '../alert/alert.types';
import type { ThresholdWatch } from '../alert/threshold-watch';
import type { AuditService } from '../audit/audit.service';
import { checkOverage } from '../catalog/catalog.service';
import type { Breach } from '../../kernel/breach';
import type { ViolationLog } from '../compliance/violation-log';
import { checkSite } from '../license/license.service';
import type { LicenseTerms, PlanPrice } from '../../kernel/license-terms';
import type { LicenseStore, TermedLicense } from '../license/license-store';
import { LicenseStatus } from '../../kernel/license.enums';
import type { LeaseLedger } from '../seat/lease-ledger';
import type { SeatLedger } from '../seat/seat-ledger';
import { LeaseReleaseReason, SeatReleaseReason } from '../seat/seat.enums';
import { periodOf, type UsageMeter } from '../usage/usage-meter';
import type { UsageObserver } from '../usage/usage-signals';
import { UsageMetric } from '../usage/usage.types';
import { ConflictStrategy, MigrationEffective, MigrationOutcome, MigrationStatus } from './migration.enums';
import { getMigration, insertMigration, MIGRATION_COLUMNS, type MigrationRow, migratedEvent, migrationNodeOf } from './migration-history';
import { type LicenseState, planMigration } from './migration-plan';
import { limitApplies, TYPE_LIMITS, type TypeNeed, unmetNeed } from '../../kernel/license-types';
import {
  type ConflictInput,
  LicenseMigrationNode,
  MigrateLicenseResult,
  type MigrationPreview,
  type MigrationTargetInput,
  PlannedAlert,
  type PlannedViolation,
} from './migration.types';
import type { Clock } from '../../common/clock';

const SCHEDULER: Actor = { type: 'SYSTEM', id: null, label: 'migration scheduler' };

const sameTerms = (a: LicenseTerms, b: LicenseTerms) => JSON.stringify(a) === JSON.stringify(b);

/** The breach a planned violation records: over a limit the migration set, with the migration as evidence. */
function overBreach(license: TermedLicense, plan: MigrationPreview, v: PlannedViolation, migrationId: string): Breach {
  const until = v.deadline ? `, allowed until ${v.deadline.toISOString()}` : '';
  return {
    organizationId: license.organizationId,
    licenseId: license.id,
    kind: v.kind,
    severity: v.severity,
    value: v.value,
    limit: v.limit,
    deadline: v.deadline,
    evidence: {
      metric: v.metric,
      value: v.value,
      limit: v.limit,
      migrationId,
      strategy: plan.strategy,
      deadline: v.deadline?.toISOString() ?? null,
    },
    detail: `Over the limit a migration set (${v.value} of ${v.limit})${until}.`,
  };
}

/** How a migration target that misses what its type needs is refused: said of the target, with the field to fix. */
function targetRefusal(unmet: { need: TypeNeed; message: string }, limits: MigrationTargetInput['limits'] & object): AppError {
  switch (unmet.need) {
    case 'namedUsers':
    case 'concurrentSessions': {
      const type = TYPE_LIMITS.find(([, key]) => key === unmet.need)![2];
      const message =
        limits[unmet.need] === null
          ? `\`${unmet.need}\` cannot be removed from a ${type} license: it is what the license counts. Give at least 1, or move to another type.`
          : `${unmet.message}.`;
      return AppError.badInput(message, `target.limits.${unmet.need}`);
    }
    case 'site':
      return AppError.badInput(`${unmet.message}: give \`target.site\`.`, 'target.site');
    case 'term':
      return AppError.badInput(`${unmet.message}: this license is perpetual.`, 'target.type');
    case 'features':
      return AppError.badInput(`${unmet.message}.`, 'target.featureKeys');
  }
}

/** What an applied plan released and ended, as its audit record counts it. */
const releasedBy = (plan: MigrationPreview) => ({ seatsReleased: plan.seatsReleased.length, leasesEnded: plan.leasesEnded.length });

/**
 * Responsible for license migrations: moving a license to another plan, other limits or another type. The preview
 * and the migration run the same plan (`planMigration`) against the license as it is, the migration inside the
 * transaction that applies it with the license row locked, so what the preview lists is what applying does; all of
 * it commits together or not at all. A migration at renewal waits on the license and is applied once its term is
 * renewed, by the scheduler job, exactly once.
 */
export class MigrationService {
  constructor(
    private readonly db: SqlGateway,
    private readonly store: LicenseStore,
    private readonly seats: SeatLedger,
    private readonly leases: LeaseLedger,
    private readonly meter: UsageMeter,
    private readonly violations: ViolationLog,
    private readonly thresholds: ThresholdWatch,
    private readonly usage: UsageObserver,
    private readonly alerts: AlertLog,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  private async state(sql: SqlRunner, license: TermedLicense, now: Date): Promise<LicenseState> {
    const meterOf = { id: license.id, apiCallPeriod: license.terms.limits.apiCallPeriod };
    return {
      license,
      seats: await this.seats.liveSeats(sql, license.id),
      leases: await this.leases.liveLeases(sql, license.id, now),
      storage: await this.meter.current(sql, meterOf, UsageMetric.STORAGE_BYTES, now),
      apiCalls: await this.meter.current(sql, meterOf, UsageMetric.API_CALLS, now),
      violations: (await this.violations.active(sql, license.id)).map((v) => ({
        id: v.id,
        kind: v.kind,
        subject: v.subject ?? '',
        status: v.status,
        severity: v.severity,
        deadline: v.deadline,
      })),
    };
  }

  /** The terms a target means for a license, and the prices it would pay. */
  private async target(
    sql: SqlRunner,
    license: TermedLicense,
    target: MigrationTargetInput,
  ): Promise<{ to: LicenseTerms; toPrice: PlanPrice; toPlanName: string }> {
    let base: LicenseTerms = structuredClone(license.terms);
    let toPrice = license.price;
    let toPlanName = license.planName;
    if (target.planId) {
      const plan = await this.store.plan(sql, target.planId);
      if (!plan) throw AppError.notFound('Plan', target.planId);
      if (plan.productId !== license.productId)
        throw AppError.badInput("The plan is of another product than the license's.", 'target.planId');
      base = { ...plan.terms, site: license.terms.site };
      toPrice = plan.price;
      toPlanName = plan.name;
    }
    const to = base;
    if (target.type) to.type = target.type;
    const limits = target.limits ?? {};
    for (const key of ['namedUsers', 'concurrentSessions', 'storageBytes', 'apiCallsPerPeriod'] as const) {
      if (limits[key] !== undefined) to.limits[key] = limits[key] ?? null;
    }
    if (limits.apiCallPeriod) to.limits.apiCallPeriod = limits.apiCallPeriod;
    if (target.overage) to.overage = checkOverage(target.overage);
    if (target.featureKeys) {
      const keys = [...new Set(target.featureKeys)].sort();
      const unknown = await this.store.unknownFeatures(sql, license.productId, keys);
      if (unknown.length) throw AppError.badInput(`Unknown feature key(s) for this product: ${unknown.join(', ')}.`, 'target.featureKeys');
      to.features = keys;
    }
    if (target.site) to.site = checkSite(target.site);
    // The limits of a metric the type does not count: refused when asked for, dropped when inherited (the preview warns).
    for (const [metric, key, type] of TYPE_LIMITS) {
      if (limitApplies(metric, to.type)) continue;
      if (limits[key] !== undefined && limits[key] !== null) {
        throw AppError.badInput(
          `\`${key}\` applies to ${type} licenses only: a ${to.type} license does not count ${metric}.`,
          `target.limits.${key}`,
        );
      }
      to.limits[key] = null;
    }
    const unmet = unmetNeed({
      type: to.type,
      hasTerm: license.expiresAt !== null,
      ...to.limits,
      site: to.site,
      features: to.features.length,
    });
    if (unmet) throw targetRefusal(unmet, limits);
    if (sameTerms(to, license.terms)) throw AppError.badInput('The target is the license as it is: nothing would change.', 'target');
    return { to, toPrice, toPlanName };
  }

  private static conflict(input: ConflictInput, now: Date): { strategy: ConflictStrategy; until: Date | null } {
    if (input.strategy === ConflictStrategy.ALLOW_OVERAGE_UNTIL) {
      if (!input.until) throw AppError.badInput('ALLOW_OVERAGE_UNTIL needs `until`: by when the overage must clear.', 'onConflict.until');
      if (input.until <= now) throw AppError.badInput('`until` must be in the future.', 'onConflict.until');
      return { strategy: input.strategy, until: input.until };
    }
    if (input.until) throw AppError.badInput(`${input.strategy} takes no \`until\`.`, 'onConflict.until');
    return { strategy: input.strategy, until: null };
  }

  /** The plan, with the alerts it would raise: thresholds the new values cross against the new limits, and LICENSE_MIGRATED. */
  private async plan(
    sql: SqlRunner,
    license: TermedLicense,
    target: MigrationTargetInput,
    effective: MigrationEffective,
    conflict: { strategy: ConflictStrategy; until: Date | null },
    now: Date,
  ): Promise<{ preview: MigrationPreview; to: LicenseTerms; state: LicenseState }> {
    const { to, toPrice, toPlanName } = await this.target(sql, license, target);
    const state = await this.state(sql, license, now);
    if (to.limits.apiCallPeriod !== license.terms.limits.apiCallPeriod) {
      // The calls of the new period so far, from the usage series: what the meter counts from once the period changes.
      state.apiCalls = await this.meter.callsIn(sql, license.id, periodOf(to.limits.apiCallPeriod, now));
    }
    const request = { to, toPrice, toPlanName, effective, strategy: conflict.strategy, overageUntil: conflict.until };
    const preview = planMigration(state, request, now);
    if (preview.outcome !== MigrationOutcome.REJECTED) {
      for (const change of preview.limits) {
        if (change.after === null) continue;
        const due = await this.thresholds.due(sql, this.observed(license, to, change.metric, change.usedAfter, change.after, now), now);
        for (const threshold of due.raise) {
          preview.alerts.push(
            Object.assign(new PlannedAlert(), {
              kind: AlertKind.THRESHOLD,
              metric: change.metric,
              threshold,
              value: change.usedAfter,
              limit: change.after,
            }),
          );
        }
      }
      preview.alerts.push(
        Object.assign(new PlannedAlert(), { kind: AlertKind.LICENSE_MIGRATED, metric: null, threshold: null, value: null, limit: null }),
      );
    }
    return { preview, to, state };
  }

  private observed(license: TermedLicense, to: LicenseTerms, metric: UsageMetric, value: number, limit: number | null, now: Date) {
    return {
      licenseId: license.id,
      organizationId: license.organizationId,
      planId: to.planId,
      metric,
      value,
      limit,
      period: metric === UsageMetric.API_CALLS ? periodOf(to.limits.apiCallPeriod, now) : null,
    };
  }

  /** The license, when the caller may see it; locked when read inside a write transaction. */
  private async readable(sql: SqlRunner | Tx, op: Operation, licenseId: string): Promise<TermedLicense> {
    const license = await ('forUpdate' in sql ? this.store.readForUpdate(sql, licenseId) : this.store.read(sql, licenseId));
    if (!license || !op.principal.mayAccessOrganization(license.organizationId)) throw AppError.notFound('License', licenseId);
    return license;
  }

  preview(
    op: Operation,
    licenseId: string,
    target: MigrationTargetInput,
    effective: MigrationEffective,
    onConflict: ConflictInput,
    now = this.clock.now(),
  ): Promise<MigrationPreview> {
    op.principal.require(Permission.LICENSE_READ);
    const conflict = MigrationService.conflict(onConflict, now);
    return this.db.read(async (sql) => {
      const license = await this.readable(sql, op, licenseId);
      await this.checkEffective(sql, license, effective);
      return (await this.plan(sql, license, target, effective, conflict, now)).preview;
    });
  }

  /** Whether the license can migrate when asked: the preview refuses what the migration would, alike. */
  private async checkEffective(sql: SqlRunner, license: TermedLicense, effective: MigrationEffective): Promise<void> {
    if (license.status === LicenseStatus.REVOKED) throw AppError.invalidTransition('license', license.status, 'migrate');
    if (effective !== MigrationEffective.AT_RENEWAL) return;
    if (!license.expiresAt) throw AppError.badInput('A perpetual license has no renewal to wait for: migrate it NOW.', 'effective');
    const waiting = await sql.get<{ id: string }>("select id from license_migration where license_id = ? and status = 'SCHEDULED'", [
      license.id,
    ]);
    if (waiting)
      throw AppError.conflict('A migration waits for this license’s renewal already: cancel it first.', { migrationId: waiting.id });
  }

  /** Applies a migration as its preview says; `origin` names what proposed it (a recommendation), for the audit log. */
  migrate(
    op: Operation,
    licenseId: string,
    target: MigrationTargetInput,
    effective: MigrationEffective,
    onConflict: ConflictInput,
    now = this.clock.now(),
    origin: { recommendationId?: string } = {},
  ): Promise<MigrateLicenseResult> {
    op.principal.require(Permission.LICENSE_MANAGE);
    const conflict = MigrationService.conflict(onConflict, now);
    return this.db.write(async (sql) => {
      // Locked like a checkout's: no seat or lease is taken between the plan and its application.
      const license = await this.readable(sql, op, licenseId);
      op.principal.requireObject(Permission.LICENSE_MANAGE, license.organizationId, 'License', licenseId);
      await this.checkEffective(sql, license, effective);
      const { preview, to, state } = await this.plan(sql, license, target, effective, conflict, now);
      const actor = op.principal.requireActor();
      const result = (migration: LicenseMigrationNode | null) =>
        Object.assign(new MigrateLicenseResult(), { outcome: preview.outcome, preview, migration });
      // Refused: nothing is written, not even the refusal.
      if (preview.outcome === MigrationOutcome.REJECTED) return result(null);
      const row = {
        id: newId(now.getTime()),
        status: preview.outcome === MigrationOutcome.SCHEDULED ? MigrationStatus.SCHEDULED : MigrationStatus.APPLIED,
      };
      if (row.status === MigrationStatus.APPLIED) await this.execute(sql, state, preview, to, actor, op.requestId, now, row.id);
      const applied = row.status === MigrationStatus.APPLIED;
      await insertMigration(sql, {
        id: row.id,
        organizationId: license.organizationId,
        licenseId: license.id,
        status: row.status,
        effective,
        strategy: conflict.strategy,
        overageUntil: conflict.until,
        target,
        from: preview.from,
        to: applied ? preview.to : null,
        dueTermEndsAt: applied ? null : license.expiresAt,
        outcome: applied ? preview : null,
        requestedAt: now,
        requestedBy: actor.label,
        applied: applied ? { at: now, by: actor.label } : null,
      });
      const by = { actor, requestId: op.requestId, at: now };
      await this.audit.record(
        sql,
        applied
          ? migratedEvent(
              license,
              { status: license.status, terms: to, migrationId: row.id, details: { ...releasedBy(preview), ...origin } },
              by,
            )
          : {
              ...by,
              organizationId: license.organizationId,
              action: AuditAction.LICENSE_MIGRATION_SCHEDULE,
              objectType: 'LicenseMigration',
              objectId: row.id,
              after: { licenseId: license.id, dueTermEndsAt: license.expiresAt, strategy: conflict.strategy, to: preview.to, ...origin },
            },
      );
      return result(await getMigration(sql, row.id));
    });
  }

  /** Applies a plan, in the transaction it was made in: exactly what it lists. */
  private async execute(
    sql: Tx,
    state: LicenseState,
    plan: MigrationPreview,
    to: LicenseTerms,
    actor: Actor,
    requestId: string,
    now: Date,
    migrationId: string,
  ): Promise<void> {
    const { license } = state;
    await this.store.write(sql, license, to, now);
    if (to.limits.apiCallPeriod !== license.terms.limits.apiCallPeriod) {
      await this.meter.restartCounter(sql, license, to.limits.apiCallPeriod, state.apiCalls, now);
    }
    await this.moveSeatsAndLeases(sql, state, plan, actor, requestId, now);
    for (const v of plan.violationsOpened)
      await this.violations.record(sql, overBreach(license, plan, v, migrationId), actor, requestId, now);
    // Utilization and compliance against the new limits, at once: threshold alerts, overages cleared, subscribers told.
    for (const change of plan.limits) {
      await this.usage.observe(sql, { ...this.observed(license, to, change.metric, change.usedAfter, change.after, now), requestId }, now);
    }
    await this.alerts.raise(
      sql,
      {
        organizationId: license.organizationId,
        licenseId: license.id,
        kind: AlertKind.LICENSE_MIGRATED,
        severity: AlertSeverity.INFO,
        message: `The license migrated. ${plan.summary}`,
      },
      now,
    );
  }

  /** Releases and ends the seats and leases a plan lists, and gives the users of leases it lists their seats. */
  private async moveSeatsAndLeases(
    sql: Tx,
    state: LicenseState,
    plan: MigrationPreview,
    actor: Actor,
    requestId: string,
    now: Date,
  ): Promise<void> {
    const seatIds = plan.seatsReleased.map((s) => s.seatId);
    await this.seats.releaseSeats(sql, seatIds, SeatReleaseReason.LICENSE_MIGRATED, actor, requestId, now);
    const leaseIds = plan.leasesEnded.map((l) => l.leaseId);
    await this.leases.endIn(sql, leaseIds, LeaseReleaseReason.LICENSE_MIGRATED, actor, requestId, now);
    // A user's last activity is its latest lease's last heartbeat.
    const activeAt = (userId: string) =>
      state.leases
        .filter((l) => l.userId === userId)
        .reduce<Date | null>((at, l) => (at && at > l.lastHeartbeatAt ? at : l.lastHeartbeatAt), null);
    const assigned = plan.seatsAssigned.map((userId) => ({ userId, lastActiveAt: activeAt(userId) }));
    await this.seats.assignSeats(sql, state.license, assigned, actor, requestId, now);
  }

  /**
   * The migrations of licenses the caller has read already (a page of licenses asking for theirs), oldest first: one
   * statement for all of them.
   */
  async ofLicenses(licenseIds: readonly string[]): Promise<Map<string, LicenseMigrationNode[]>> {
    const byLicense = new Map<string, LicenseMigrationNode[]>(licenseIds.map((id) => [id, []]));
    if (!licenseIds.length) return byLicense;
    const rows = await this.db.read((sql) =>
      sql.all<MigrationRow>(
        `select ${MIGRATION_COLUMNS} from license_migration where license_id in (${licenseIds.map(() => '?').join(', ')}) order by id`,
        [...licenseIds],
      ),
    );
    for (const row of rows) byLicense.get(row.license_id)?.push(migrationNodeOf(row));
    return byLicense;
  }

  /** The migration waiting for a renewal among a license's migrations (at most one). */
  static waiting(migrations: readonly LicenseMigrationNode[]): LicenseMigrationNode | null {
    return migrations.find((m) => m.status === MigrationStatus.SCHEDULED) ?? null;
  }

  cancel(op: Operation, id: string): Promise<LicenseMigrationNode> {
    op.principal.require(Permission.LICENSE_MANAGE);
    return this.db.write(async (sql) => {
      const now = this.clock.now();
      const current = await getMigration(sql, id);
      if (!current) throw AppError.notFound('LicenseMigration', id);
      op.principal.requireObject(Permission.LICENSE_MANAGE, current.organizationId, 'LicenseMigration', id);
      const actor = op.principal.requireActor();
      const changed = await sql.run(
        "update license_migration set status = 'CANCELLED', cancelled_at = ?, cancelled_by = ? where id = ? and status = 'SCHEDULED'",
        [now, actor.label, id],
      );
      if (!changed) throw AppError.invalidTransition('migration', current.status, 'cancel');
      await this.audit.record(sql, {
        actor,
        requestId: op.requestId,
        at: now,
        organizationId: current.organizationId,
        action: AuditAction.LICENSE_MIGRATION_CANCEL,
        objectType: 'LicenseMigration',
        objectId: id,
        before: { status: current.status },
        after: { status: MigrationStatus.CANCELLED },
      });
      return (await getMigration(sql, id))!;
    });
  }

  /**
   * Applies the scheduled migrations whose license's term was renewed (it ends after the term they waited for):
   * each in its own transaction, claimed by its status, so exactly once, also across restarts and instances.
   */
  async applyDue(requestId: string, now = this.clock.now()): Promise<{ applied: number; rejected: number }> {
    const due = await this.db.read((sql) =>
      sql.all<{ id: string; license_id: string }>(
        `select m.id, m.license_id from license_migration m join license l on l.id = m.license_id
          where m.status = 'SCHEDULED' and l.expires_at > m.due_term_ends_at order by m.id`,
      ),
    );
    const done = { applied: 0, rejected: 0 };
    for (const { id, license_id } of due) {
      const outcome = await this.db.write(async (sql) => {
        const license = await this.store.readForUpdate(sql, license_id);
        // Locked (PostgreSQL) until this commits: a cancellation waits, then finds it applied.
        const row = await sql.get<MigrationRow>(
          `select ${MIGRATION_COLUMNS} from license_migration where id = ? and status = 'SCHEDULED' ${sql.forUpdate(Lock.MIGRATION, id)}`,
          [id],
        );
        if (!license || !row) return null;
        const target = fromJson<MigrationTargetInput>(row.target);
        const conflict = { strategy: row.strategy, until: toDateOrNull(row.overage_until) };
        let planned: Awaited<ReturnType<MigrationService['plan']>>;
        try {
          planned = await this.plan(sql, license, target, MigrationEffective.NOW, conflict, now);
        } catch (error) {
          // The target no longer fits the license (nothing to change, a plan removed): it is refused, with why.
          const detail = error instanceof AppError ? error.message : 'The migration could not be planned.';
          await this.finish(sql, row, MigrationStatus.REJECTED, null, detail, now, requestId);
          return MigrationStatus.REJECTED;
        }
        const { preview, to, state } = planned;
        // At renewal nothing is prorated: the new terms start with the new term.
        preview.effective = MigrationEffective.AT_RENEWAL;
        if (preview.price.prorationCents !== null) Object.assign(preview.price, { prorationCents: 0, remainingFraction: 0 });
        if (preview.outcome === MigrationOutcome.REJECTED) {
          await this.finish(
            sql,
            row,
            MigrationStatus.REJECTED,
            preview,
            'Something was over the new limits at renewal, and the migration was to REJECT then.',
            now,
            requestId,
          );
          return MigrationStatus.REJECTED;
        }
        await this.execute(sql, state, preview, to, SCHEDULER, requestId, now, row.id);
        await this.finish(sql, row, MigrationStatus.APPLIED, preview, null, now, requestId);
        await this.audit.record(
          sql,
          migratedEvent(
            license,
            { status: license.status, terms: to, migrationId: row.id, details: releasedBy(preview) },
            { actor: SCHEDULER, requestId, at: now },
          ),
        );
        return MigrationStatus.APPLIED;
      });
      if (outcome === MigrationStatus.APPLIED) done.applied++;
      if (outcome === MigrationStatus.REJECTED) done.rejected++;
    }
    return done;
  }

  private async finish(
    sql: Tx,
    row: MigrationRow,
    status: MigrationStatus,
    preview: MigrationPreview | null,
    detail: string | null,
    now: Date,
    requestId: string,
  ): Promise<void> {
    const changed = await sql.run(
      `update license_migration set status = ?, to_terms = ?, outcome = ?, applied_at = ?, applied_by = ?, detail = ? where id = ? and status = 'SCHEDULED'`,
      [status, preview ? JSON.stringify(preview.to) : null, preview ? JSON.stringify(preview) : null, now, SCHEDULER.label, detail, row.id],
    );
    // Claimed above under its lock: anything else is a bug, and nothing of this application may commit.
    if (changed !== 1) throw new Error(`migration ${row.id} was no longer SCHEDULED when applied`);
    if (status === MigrationStatus.REJECTED) {
      await this.audit.record(sql, {
        actor: SCHEDULER,
        requestId,
        at: now,
        organizationId: row.organization_id,
        action: AuditAction.LICENSE_MIGRATION_REJECT,
        objectType: 'LicenseMigration',
        objectId: row.id,
        before: { status: MigrationStatus.SCHEDULED },
        after: { status, detail },
      });
    }
  }
}
