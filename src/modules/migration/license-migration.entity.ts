import { Entity, Index, Property } from '@mikro-orm/core';
import { EnumColumn, Timestamp } from '../../db/columns';
import { PartialUnique } from '../../db/indexes';
import { LicenseRecord } from '../license/license-rows.entity';
import { ConflictStrategy, MigrationEffective, MigrationStatus } from './migration.enums';

/**
 * A move of a license to another plan, other limits or another type: applied, or waiting for the renewal of its
 * term, with what it moved from and to and what it released. Written by the migration history's SQL.
 */
@Entity({ tableName: 'license_migration' })
@Index({ properties: ['licenseId', 'id'] })
@Index({ properties: ['status', 'dueTermEndsAt'] })
// At most one migration waits per license.
@PartialUnique('license_migration_scheduled_unique', 'license_migration', ['license_id'], "status = 'SCHEDULED'")
export class LicenseMigration extends LicenseRecord {
  @EnumColumn(16)
  status!: MigrationStatus;

  @EnumColumn(16)
  effective!: MigrationEffective;

  @EnumColumn(24)
  strategy!: ConflictStrategy;

  /** With ALLOW_OVERAGE_UNTIL: the date the overage it kept must clear by. */
  @Timestamp({ nullable: true })
  overageUntil?: Date | null;

  /** JSON text: what was asked for (a plan, limits, a type). */
  @Property({ type: 'text' })
  target!: string;

  /** JSON text: the license's terms before. */
  @Property({ type: 'text' })
  fromTerms!: string;

  /** JSON text: the license's terms after it, where known. */
  @Property({ type: 'text', nullable: true })
  toTerms?: string | null;

  /** For AT_RENEWAL: the end of the term whose renewal applies it. */
  @Timestamp({ nullable: true })
  dueTermEndsAt?: Date | null;

  /** JSON text: its preview as applied: what was gained, lost, released and what it cost. */
  @Property({ type: 'text', nullable: true })
  outcome?: string | null;

  @Timestamp()
  requestedAt!: Date;

  @Property({ type: 'string', length: 200 })
  requestedBy!: string;

  @Timestamp({ nullable: true })
  appliedAt?: Date | null;

  @Property({ type: 'string', length: 200, nullable: true })
  appliedBy?: string | null;

  @Timestamp({ nullable: true })
  cancelledAt?: Date | null;

  @Property({ type: 'string', length: 200, nullable: true })
  cancelledBy?: string | null;

  @Property({ type: 'string', length: 500, nullable: true })
  detail?: string | null;
}
