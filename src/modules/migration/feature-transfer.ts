import type { Actor } from '../../auth/principal';
import type { Tx } from '../../db/transaction';
import { AuditAction } from '../audit/audit-actions';
import { Permission } from '../../auth/roles';
import { generateLicenseKey, hintOf, type SecretDigester } from '../../auth/secrets';
import type { Operation } from '../../common/operation';
import { newId } from '../../db/ids';
import type { SqlGateway } from '../../db/sql';
import { AppError } from '../../errors';
import type { AlertLog } from '../alert/alert-log';
import { AlertKind, AlertSeverity } from '../alert/alert.types';
import type { AuditService } from '../audit/audit.service';
import type { LicenseTerms } from '../../kernel/license-terms';
import { type LicenseStore, type TermedLicense, termsSnapshot } from '../license/license-store';
import { LicenseStatus, LicenseType } from '../../kernel/license.enums';
import { ConflictStrategy, MigrationEffective, MigrationStatus } from './migration.enums';
import { insertMigration, migratedEvent } from './migration-history';
import { termsNode } from './migration-plan';
import type { Clock } from '../../common/clock';

/**
 * Responsible for moving features between licenses of one organization and product: a FEATURE license merged into
 * another license (which gains its features; the FEATURE license is revoked as merged), or features split from a
 * license into a new FEATURE license (with its own key, shown once, and the same term). Each is one transaction,
 * kept as a migration on both licenses, audited, and raises LICENSE_MIGRATED.
 */
export class FeatureTransfer {
  constructor(
    private readonly db: SqlGateway,
    private readonly store: LicenseStore,
    private readonly digester: SecretDigester,
    private readonly alerts: AlertLog,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  private async changing(sql: Tx, op: Operation, licenseId: string): Promise<TermedLicense> {
    op.principal.require(Permission.LICENSE_MANAGE);
    const license = await this.store.readForUpdate(sql, licenseId);
    if (!license) throw AppError.notFound('License', licenseId);
    op.principal.requireObject(Permission.LICENSE_MANAGE, license.organizationId, 'License', licenseId);
    if (license.status === LicenseStatus.REVOKED) throw AppError.invalidTransition('license', license.status, 'move features of');
    return license;
  }

  /** Keeps the move as an applied migration on the license, audits it, and tells subscribers. */
  private async moved(
    sql: Tx,
    license: TermedLicense,
    to: LicenseTerms,
    status: LicenseStatus,
    detail: string,
    actor: Actor,
    op: Operation,
    now: Date,
  ): Promise<void> {
    const id = newId(now.getTime());
    await insertMigration(sql, {
      id,
      organizationId: license.organizationId,
      licenseId: license.id,
      status: MigrationStatus.APPLIED,
      effective: MigrationEffective.NOW,
      strategy: ConflictStrategy.REJECT,
      overageUntil: null,
      target: { featureKeys: to.features, type: to.type },
      from: termsNode(license.terms, license.planName),
      to: termsNode(to, license.planName),
      dueTermEndsAt: null,
      outcome: null,
      requestedAt: now,
      requestedBy: actor.label,
      applied: { at: now, by: actor.label },
      detail,
    });
    await this.audit.record(
      sql,
      migratedEvent(license, { status, terms: to, migrationId: id, details: { detail } }, { actor, requestId: op.requestId, at: now }),
    );
    await this.alerts.raise(
      sql,
      {
        organizationId: license.organizationId,
        licenseId: license.id,
        kind: AlertKind.LICENSE_MIGRATED,
        severity: AlertSeverity.INFO,
        message: detail,
      },
      now,
    );
  }

  /** Merges a FEATURE license into another license of its organization and product; returns the other, as it is then. */
  merge(op: Operation, featureLicenseId: string, intoLicenseId: string): Promise<{ intoLicenseId: string; featuresGained: string[] }> {
    op.principal.require(Permission.LICENSE_MANAGE);
    if (featureLicenseId === intoLicenseId) throw AppError.badInput('A license cannot be merged into itself.', 'intoLicenseId');
    return this.db.write(async (sql) => {
      const now = this.clock.now();
      // Both rows locked in id order, as any two writers would.
      const [first, second] = [featureLicenseId, intoLicenseId].sort();
      const locked = new Map([
        [first!, await this.changing(sql, op, first!)],
        [second!, await this.changing(sql, op, second!)],
      ]);
      const source = locked.get(featureLicenseId)!;
      const into = locked.get(intoLicenseId)!;
      if (source.terms.type !== LicenseType.FEATURE)
        throw AppError.unsupportedLicenseType('mergeFeatureLicense', source.terms.type, [LicenseType.FEATURE]);
      if (source.organizationId !== into.organizationId || source.productId !== into.productId) {
        throw AppError.badInput('A feature license merges into a license of its own organization and product.', 'intoLicenseId');
      }
      const gained = source.terms.features.filter((f) => !into.terms.features.includes(f));
      const intoTerms = { ...structuredClone(into.terms), features: [...into.terms.features, ...gained].sort() };
      await this.store.write(sql, into, intoTerms, now);
      await this.store.update(sql, source.id, { status: LicenseStatus.REVOKED, statusReason: `Merged into license ${into.id}.` }, now);
      const actor = op.principal.requireActor();
      await this.moved(
        sql,
        into,
        intoTerms,
        into.status,
        `Merged feature license ${source.id} in: gained ${gained.join(', ') || 'nothing new'}.`,
        actor,
        op,
        now,
      );
      await this.moved(
        sql,
        source,
        source.terms,
        LicenseStatus.REVOKED,
        `Merged into license ${into.id}; this license is revoked.`,
        actor,
        op,
        now,
      );
      return { intoLicenseId: into.id, featuresGained: gained };
    });
  }

  /**
   * Splits features off a license into a new FEATURE license of the same organization, plan and term; returns it
   * with its key, shown this once.
   */
  split(op: Operation, licenseId: string, featureKeys: readonly string[]): Promise<{ licenseId: string; key: string }> {
    op.principal.require(Permission.LICENSE_MANAGE);
    const keys = [...new Set(featureKeys)].sort();
    if (!keys.length) throw AppError.badInput('Name the features to split off.', 'featureKeys');
    return this.db.write(async (sql) => {
      const now = this.clock.now();
      const source = await this.changing(sql, op, licenseId);
      const missing = keys.filter((k) => !source.terms.features.includes(k));
      if (missing.length) throw AppError.badInput(`The license does not entitle: ${missing.join(', ')}.`, 'featureKeys');
      const remaining = source.terms.features.filter((f) => !keys.includes(f));
      if (source.terms.type === LicenseType.FEATURE && !remaining.length) {
        throw AppError.badInput('A FEATURE license keeps at least one feature: split off fewer.', 'featureKeys');
      }
      const key = generateLicenseKey();
      const id = await this.store.insertFeatureLicense(sql, source, { digest: this.digester.digest(key), hint: hintOf(key) }, keys, now);
      const newTerms: LicenseTerms = {
        ...structuredClone(source.terms),
        type: LicenseType.FEATURE,
        limits: {
          namedUsers: null,
          concurrentSessions: null,
          storageBytes: null,
          apiCallsPerPeriod: null,
          apiCallPeriod: source.terms.limits.apiCallPeriod,
        },
        features: keys,
        site: { domains: [], cidrs: [] },
      };
      const sourceTerms = { ...structuredClone(source.terms), features: remaining };
      await this.store.write(sql, source, sourceTerms, now);
      const actor = op.principal.requireActor();
      await this.audit.record(sql, {
        actor,
        requestId: op.requestId,
        at: now,
        organizationId: source.organizationId,
        action: AuditAction.LICENSE_ISSUE,
        objectType: 'License',
        objectId: id,
        after: {
          ...termsSnapshot(source.status, newTerms),
          startsAt: source.startsAt,
          expiresAt: source.expiresAt,
          splitFrom: source.id,
          keyHint: hintOf(key),
        },
      });
      await this.moved(sql, source, sourceTerms, source.status, `Split ${keys.join(', ')} off into feature license ${id}.`, actor, op, now);
      return { licenseId: id, key };
    });
  }
}
