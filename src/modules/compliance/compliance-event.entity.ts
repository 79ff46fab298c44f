import { Entity, Index, ManyToOne, Property } from '@mikro-orm/core';
import { EnumColumn, Timestamp } from '../../db/columns';
import { AS_MIGRATED } from '../../db/mapping';
import { LicenseRecord } from '../license/license-rows.entity';
import { ComplianceEventType } from '../../kernel/compliance.enums';

/**
 * Something that happened to a violation, appended in commit order (its id is commit-ordered): the cursor
 * `complianceEvents` subscribers resume from, and the history a report as of a past date reads. Written by the
 * violation log's SQL.
 */
@Entity({ tableName: 'compliance_event' })
@Index({ properties: ['organizationId', 'id'] })
@Index({ properties: ['licenseId', 'id'] })
@Index({ properties: ['violationId', 'id'] })
export class ComplianceEvent extends LicenseRecord {
  @ManyToOne('Violation', { ...AS_MIGRATED, mapToPk: true, fieldName: 'violation_id' })
  violationId!: string;

  @EnumColumn(16)
  type!: ComplianceEventType;

  @Timestamp()
  occurredAt!: Date;

  /** JSON text: the violation as it stood after the event. */
  @Property({ type: 'text' })
  violation!: string;
}
