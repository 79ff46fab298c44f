import { ManyToOne, PrimaryKey } from '@mikro-orm/core';
import { EnumColumn } from '../../db/columns';
import { AS_MIGRATED } from '../../db/mapping';
import type { UsageMetric } from '../../kernel/metrics';

/*
 * Bases of the entities that the modules above this one keep about a license, in tables their own SQL writes. The
 * license and its organization are plain keys (`mapToPk`), named by string so that no module imports another's
 * entity for them. MikroORM maps a base's properties into each table of the entities that extend it (first, in the
 * order declared), and no table of its own.
 */

/** Something recorded about one license of one organization, with a time-ordered id (a UUIDv7) its SQL gives it. */
export abstract class LicenseRecord {
  /** A UUIDv7: ordering by id orders by the time the row was written. */
  @PrimaryKey({ type: 'string', length: 36 })
  id!: string;

  @ManyToOne('Organization', { ...AS_MIGRATED, mapToPk: true, fieldName: 'organization_id' })
  organizationId!: string;

  @ManyToOne('License', { ...AS_MIGRATED, mapToPk: true, fieldName: 'license_id' })
  licenseId!: string;
}

/** A row whose primary key starts with the license it is about. */
export abstract class LicenseKeyedRow {
  @ManyToOne('License', { ...AS_MIGRATED, primary: true, mapToPk: true, fieldName: 'license_id' })
  licenseId!: string;
}

/** A row about one metric of one license, keyed by both (then by whatever else the row has). */
export abstract class LicenseMetricRow extends LicenseKeyedRow {
  @EnumColumn(24, { primary: true })
  metric!: UsageMetric;
}
