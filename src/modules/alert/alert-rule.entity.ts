import { Entity, ManyToOne, PrimaryKey, PrimaryKeyProp, Property } from '@mikro-orm/core';
import { EnumColumn, Timestamp } from '../../db/columns';
import { AS_MIGRATED } from '../../db/mapping';
import type { RuleSubject } from './alert-rules';

/**
 * A license's or a plan's alert rule for one subject: a usage metric (levels are thresholds in percent of its limit,
 * with a re-arm margin) or EXPIRY (levels are days before the term ends). Written by the alert rules' SQL.
 */
@Entity({ tableName: 'alert_rule' })
export class AlertRule {
  [PrimaryKeyProp]?: ['ownerId', 'subject'];

  /** The license's or the plan's id: each owner has at most one rule a subject. */
  @PrimaryKey({ type: 'string', length: 36 })
  ownerId!: string;

  @EnumColumn(24, { primary: true })
  subject!: RuleSubject;

  /** Set when the rule is a license's own. */
  @ManyToOne('License', { ...AS_MIGRATED, mapToPk: true, fieldName: 'license_id', nullable: true })
  licenseId?: string | null;

  /** Set when the rule is a plan's, the default of its licenses. */
  @ManyToOne('Plan', { ...AS_MIGRATED, mapToPk: true, fieldName: 'plan_id', nullable: true })
  planId?: string | null;

  /** Comma-separated levels (`80,90,100`); empty when the subject raises nothing. */
  @Property({ type: 'string', length: 200 })
  levels!: string;

  /** Points below a threshold the metric must fall before it fires again; null for EXPIRY. */
  @Property({ type: 'integer', nullable: true })
  rearmMargin?: number | null;

  /** How long a threshold's open alert counts its repeats instead of a new alert being raised; null: the default. */
  @Property({ type: 'integer', nullable: true })
  repeatMinutes?: number | null;

  @Timestamp()
  updatedAt!: Date;

  @Property({ type: 'string', length: 200 })
  updatedBy!: string;
}
