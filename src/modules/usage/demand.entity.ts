import { Entity, Index, PrimaryKeyProp, Property } from '@mikro-orm/core';
import { EnumColumn, Timestamp } from '../../db/columns';
import type { DemandSubject } from '../../kernel/demand';
import { LicenseKeyedRow } from '../license/license-rows.entity';
import { UsageResolution } from './usage.types';

/** Denials of a license by what refused them: a metric's limit, or a feature (its key; empty otherwise). */
abstract class DenialRow extends LicenseKeyedRow {
  @EnumColumn(24, { primary: true })
  subject!: DemandSubject;

  @Property({ type: 'string', length: 100, primary: true })
  featureKey!: string;

  @Property({ type: 'string', length: 36 })
  organizationId!: string;

  @Property({ type: 'integer' })
  denials!: number;

  /** Of the denials, those that a grant to the same client met within a minute. */
  @Property({ type: 'integer' })
  retries!: number;
}

/**
 * One hourly or daily bucket of a license's denials by what refused them (a metric's limit, or a feature, whose key
 * is then set; empty otherwise), with how many of them were retries that a grant to the same client met within a
 * minute. Written by the demand log's SQL.
 */
@Entity({ tableName: 'usage_denial' })
@Index({ properties: ['resolution', 'bucketStart'] })
export class UsageDenial extends DenialRow {
  [PrimaryKeyProp]?: ['licenseId', 'subject', 'featureKey', 'resolution', 'bucketStart'];

  @EnumColumn(8, { primary: true })
  resolution!: UsageResolution;

  @Timestamp({ primary: true })
  bucketStart!: Date;
}

/** The denials of one client (a fingerprint or a user) in a UTC day: how many distinct clients went without. */
@Entity({ tableName: 'usage_denial_client' })
export class UsageDenialClient extends DenialRow {
  [PrimaryKeyProp]?: ['licenseId', 'subject', 'featureKey', 'day', 'client'];

  @Timestamp({ primary: true })
  day!: Date;

  @Property({ type: 'string', length: 200, primary: true })
  client!: string;

  @Timestamp()
  lastDeniedAt!: Date;
}

/** How often a license's feature was named in a UTC day (validations and feature checks), refused how often, and when last. */
@Entity({ tableName: 'feature_use' })
export class FeatureUseDay extends LicenseKeyedRow {
  [PrimaryKeyProp]?: ['licenseId', 'featureKey', 'day'];

  @Property({ type: 'string', length: 100, primary: true })
  featureKey!: string;

  @Timestamp({ primary: true })
  day!: Date;

  @Property({ type: 'string', length: 36 })
  organizationId!: string;

  @Property({ type: 'integer' })
  uses!: number;

  @Property({ type: 'integer' })
  denials!: number;

  /** Null when every use that day was refused. */
  @Timestamp({ nullable: true })
  lastUsedAt?: Date | null;
}
