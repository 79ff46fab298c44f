import { Entity, PrimaryKey, PrimaryKeyProp, Property } from '@mikro-orm/core';
import { Timestamp } from '../../db/columns';
import { LicenseKeyedRow } from '../license/license-rows.entity';

/**
 * An expiry notice raised for a license's term, remembered so that it is raised once (also across restarts and
 * instances), and again for the next term after a renewal. Written by the expiry watch's SQL.
 */
@Entity({ tableName: 'alert_notice' })
export class AlertNotice extends LicenseKeyedRow {
  [PrimaryKeyProp]?: ['licenseId', 'notice', 'termEndsAt'];

  /** Which notice of the term (days before its end, or that it expired). */
  @PrimaryKey({ type: 'string', length: 24 })
  notice!: string;

  @Timestamp({ primary: true })
  termEndsAt!: Date;

  /** The alert it raised; a plain column, not a reference. */
  @Property({ type: 'string', length: 36, nullable: true })
  alertId?: string | null;

  @Timestamp()
  notedAt!: Date;
}
