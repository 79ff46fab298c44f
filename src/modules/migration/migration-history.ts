import type { Actor } from '../../auth/principal';
import { fromJson, type SqlRunner, type SqlValue, toDate, toDateOrNull } from '../../db/sql';
import type { LicenseStatus } from '../../kernel/license.enums';
import type { LicenseTerms } from '../../kernel/license-terms';
import { AuditAction, type AuditRecord } from '../audit/audit-actions';
import { type TermedLicense, termsSnapshot } from '../license/license-store';
import type { ConflictStrategy, MigrationEffective, MigrationStatus } from './migration.enums';
import { LicenseMigrationNode, type MigrationPreview, type MigrationTerms } from './migration.types';

export interface MigrationRow {
  id: string;
  organization_id: string;
  license_id: string;
  status: MigrationStatus;
  effective: MigrationEffective;
  strategy: ConflictStrategy;
  overage_until: unknown;
  target: unknown;
  from_terms: unknown;
  to_terms: unknown;
  due_term_ends_at: unknown;
  outcome: unknown;
  requested_at: unknown;
  requested_by: string;
  applied_at: unknown;
  applied_by: string | null;
  cancelled_at: unknown;
  cancelled_by: string | null;
  detail: string | null;
}

export const MIGRATION_COLUMNS = `id, organization_id, license_id, status, effective, strategy, overage_until, target, from_terms, to_terms, due_term_ends_at,
  outcome, requested_at, requested_by, applied_at, applied_by, cancelled_at, cancelled_by, detail`;

const reviveTerms = (terms: MigrationTerms): MigrationTerms => ({ ...terms, planName: terms.planName ?? null });

/** A preview read back from JSON: its dates as strings. */
function revivePreview(preview: MigrationPreview): MigrationPreview {
  const date = (value: Date | string | null) => (value === null ? null : new Date(value));
  // Previews recorded before warnings, summaries, both currencies and plan names were kept.
  const { price } = preview;
  return {
    ...preview,
    warnings: preview.warnings ?? [],
    summary: preview.summary ?? '',
    from: reviveTerms(preview.from),
    to: reviveTerms(preview.to),
    price: { ...price, currencyBefore: price.currencyBefore ?? price.currency, currencyAfter: price.currencyAfter ?? price.currency },
    overageUntil: date(preview.overageUntil),
    effectiveAt: date(preview.effectiveAt),
    seatsReleased: preview.seatsReleased.map((s) => ({ ...s, lastActiveAt: new Date(s.lastActiveAt) })),
    leasesEnded: preview.leasesEnded.map((l) => ({ ...l, lastHeartbeatAt: new Date(l.lastHeartbeatAt) })),
    violationsOpened: preview.violationsOpened.map((v) => ({ ...v, deadline: date(v.deadline) })),
  };
}

export function migrationNodeOf(row: MigrationRow): LicenseMigrationNode {
  const outcome = row.outcome === null ? null : revivePreview(fromJson<MigrationPreview>(row.outcome));
  return Object.assign(new LicenseMigrationNode(), {
    id: row.id,
    licenseId: row.license_id,
    organizationId: row.organization_id,
    status: row.status,
    effective: row.effective,
    strategy: row.strategy,
    overageUntil: toDateOrNull(row.overage_until),
    from: reviveTerms(fromJson<MigrationTerms>(row.from_terms)),
    to: row.to_terms === null ? null : reviveTerms(fromJson<MigrationTerms>(row.to_terms)),
    dueTermEndsAt: toDateOrNull(row.due_term_ends_at),
    requestedAt: toDate(row.requested_at),
    requestedBy: row.requested_by,
    appliedAt: toDateOrNull(row.applied_at),
    appliedBy: row.applied_by,
    cancelledAt: toDateOrNull(row.cancelled_at),
    cancelledBy: row.cancelled_by,
    outcome,
    detail: row.detail,
  });
}

/** A migration as it is kept on its license. */
export interface MigrationRecord {
  id: string;
  organizationId: string;
  licenseId: string;
  status: MigrationStatus;
  effective: MigrationEffective;
  strategy: ConflictStrategy;
  overageUntil: Date | null;
  target: object;
  from: MigrationTerms;
  to: MigrationTerms | null;
  dueTermEndsAt: Date | null;
  outcome: MigrationPreview | null;
  requestedAt: Date;
  requestedBy: string;
  applied: { at: Date; by: string } | null;
  detail?: string | null;
}

/** Keeps a migration on its license, inside the caller's transaction. */
export async function insertMigration(sql: SqlRunner, m: MigrationRecord): Promise<void> {
  const values: SqlValue[] = [
    m.id,
    m.organizationId,
    m.licenseId,
    m.status,
    m.effective,
    m.strategy,
    m.overageUntil,
    JSON.stringify(m.target),
    JSON.stringify(m.from),
    m.to ? JSON.stringify(m.to) : null,
    m.dueTermEndsAt,
    m.outcome ? JSON.stringify(m.outcome) : null,
    m.requestedAt,
    m.requestedBy,
    m.applied?.at ?? null,
    m.applied?.by ?? null,
    m.detail ?? null,
  ];
  await sql.run(
    `insert into license_migration (id, organization_id, license_id, status, effective, strategy, overage_until, target, from_terms, to_terms,
       due_term_ends_at, outcome, requested_at, requested_by, applied_at, applied_by, detail)
     values (${values.map(() => '?').join(', ')})`,
    values,
  );
}

export async function getMigration(sql: SqlRunner, id: string): Promise<LicenseMigrationNode | null> {
  const row = await sql.get<MigrationRow>(`select ${MIGRATION_COLUMNS} from license_migration where id = ?`, [id]);
  return row ? migrationNodeOf(row) : null;
}

/**
 * The audit record of an applied migration, however it was applied (at once, at renewal, or by moving features): the
 * license's terms before and after, and the migration that did it.
 */
export function migratedEvent(
  license: TermedLicense,
  after: { status: LicenseStatus; terms: LicenseTerms; migrationId: string; details: object },
  by: { actor: Actor; requestId: string | null; at: Date },
): AuditRecord {
  return {
    ...by,
    organizationId: license.organizationId,
    action: AuditAction.LICENSE_MIGRATE,
    objectType: 'License',
    objectId: license.id,
    before: termsSnapshot(license.status, license.terms),
    after: { ...termsSnapshot(after.status, after.terms), migrationId: after.migrationId, ...after.details },
  };
}
