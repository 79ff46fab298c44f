import { SafeIntResolver } from 'graphql-scalars';
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { registerEnums } from '../../kernel/register-enums';
import { Connection } from '../../common/pagination';
import { LicenseRecordFilter, LicenseRecordNode } from '../license/license-record.types';
import { UsageMetric } from '../usage/usage.types';

export enum AlertKind {
  /** A metric crossed a threshold of its limit on the way up. */
  THRESHOLD = 'THRESHOLD',
  /** The license's term ends in `daysBefore` days: time to renew. */
  EXPIRY_NOTICE = 'EXPIRY_NOTICE',
  /** The term has ended and the grace period begun: the license still works, until the grace period ends. */
  GRACE_PERIOD_STARTED = 'GRACE_PERIOD_STARTED',
  /** The term and any grace period have ended: the license no longer validates. */
  LICENSE_EXPIRED = 'LICENSE_EXPIRED',
  /** The license moved to another plan, other limits or another type. */
  LICENSE_MIGRATED = 'LICENSE_MIGRATED',
  /** The license renewed automatically at the end of its term: `expiresAt` is the end of its new term. */
  LICENSE_RENEWED = 'LICENSE_RENEWED',
  /**
   * A limit refused demand that no grant met within a minute, at least DENIALS_PER_HOUR times within an hour: `value`
   * counts them. Once an hour per license and metric.
   */
  DENIALS = 'DENIALS',
  /**
   * A new recommendation whose yearly effect (saving or cost) reaches the organization's `alertAboveCents`:
   * `recommendationId` names it, `value` is its yearly cost change in cents. Once per recommendation.
   */
  RECOMMENDATION = 'RECOMMENDATION',
}

export enum AlertSeverity {
  INFO = 'INFO',
  WARNING = 'WARNING',
  CRITICAL = 'CRITICAL',
}

registerEnums({ AlertKind, AlertSeverity });

@ObjectType('Alert', { simpleResolvers: true, description: 'Something an integrator should know, raised once and kept.' })
export class AlertNode extends LicenseRecordNode {
  @Field(() => ID, { description: 'Time-ordered: alerts after a cursor are the ones raised since.' })
  override id!: string;

  @Field(() => AlertKind)
  kind!: AlertKind;

  @Field(() => AlertSeverity)
  severity!: AlertSeverity;

  @Field(() => UsageMetric, { nullable: true })
  metric!: UsageMetric | null;

  @Field(() => Int, { nullable: true, description: 'The threshold crossed, in percent of the limit.' })
  threshold!: number | null;

  @Field(() => SafeIntResolver, { nullable: true })
  value!: number | null;

  @Field(() => SafeIntResolver, { nullable: true })
  limit!: number | null;

  @Field(() => Int, { nullable: true, description: 'EXPIRY_NOTICE: how many days before the end of the term it was raised.' })
  daysBefore!: number | null;

  @Field(() => Date, { nullable: true, description: 'Expiry alerts: when the term ends (ended).' })
  expiresAt!: Date | null;

  @Field(() => ID, { nullable: true, description: 'RECOMMENDATION: the recommendation to preview, apply or dismiss.' })
  recommendationId!: string | null;

  @Field(() => String)
  message!: string;

  @Field(() => Date)
  raisedAt!: Date;

  @Field(() => Int, {
    description:
      "THRESHOLD: how many times its threshold was crossed again while this alert was open (unacknowledged, within the rule's `repeatIntervalMinutes` of `raisedAt`), counted here instead of raising new alerts.",
  })
  repeats!: number;

  @Field(() => Date, { nullable: true, description: 'When its threshold was last crossed again; null when it never was.' })
  lastRepeatedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  acknowledgedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Who acknowledged it.' })
  acknowledgedBy!: string | null;
}

@ObjectType({ simpleResolvers: true })
export class AlertConnection extends Connection(AlertNode) {}

@InputType()
export class AlertFilter extends LicenseRecordFilter {
  @Field(() => AlertKind, { nullable: true })
  kind?: AlertKind | null;

  @Field(() => AlertSeverity, { nullable: true })
  severity?: AlertSeverity | null;

  @Field(() => Boolean, { nullable: true })
  acknowledged?: boolean | null;
}
