import { Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { AS_MIGRATED } from '../../db/mapping';
import { ComplianceEventType } from '../../kernel/compliance.enums';

/**
 * Something that happened to a violation, appended in commit order: the cursor `complianceEvents` subscribers resume
 * from, and the history a report as of a past date reads. Written by the violation log's SQL.
 */
@Entity({ tableName: 'compliance_event' })
@Index({ properties: ['organizationId', 'id'] })
@Index({ properties: ['licenseId', 'id'] })
@Index({ properties: ['violationId', 'id'] })
export class ComplianceEvent {
  /** A commit-ordered UUIDv7. */
  @PrimaryKey({ type: 'string', length: 36 })
  id!: string;

  @ManyToOne('Organization', { ...AS_MIGRATED, mapToPk: true, fieldName: 'organization_id' })
  organizationId!: string;

  @ManyToOne('License', { ...AS_MIGRATED, mapToPk: true, fieldName: 'license_id' })
  licenseId!: string;

  @ManyToOne('Violation', { ...AS_MIGRATED, mapToPk: true, fieldName: 'violation_id' })
  violationId!: string;

  @Property({ type: 'string', length: 16 })
  type!: ComplianceEventType;

  @Property({ type: 'datetime', length: 3 })
  occurredAt!: Date;

  /** JSON text: the violation as it stood after the event. */
  @Property({ type: 'text' })
  violation!: string;
}
