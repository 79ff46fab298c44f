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

registerEnums(
  { AlertKind, AlertSeverity },
  {
    AlertKind: {
      description: 'What an alert is about; it says which of its fields are set.',
      values: {
        THRESHOLD: 'A metric crossed a threshold of its limit on the way up: `metric`, `threshold`, `value` and `limit` say which.',
        EXPIRY_NOTICE: "The license's term ends in `daysBefore` days (at `expiresAt`): time to renew.",
        GRACE_PERIOD_STARTED: 'The term has ended and the grace period begun: the license still validates, until the grace period ends.',
        LICENSE_EXPIRED: 'The term and any grace period have ended: the license no longer validates.',
        LICENSE_MIGRATED: 'The license moved to another plan, other limits or another type.',
        LICENSE_RENEWED: 'The license renewed by itself at the end of its term: `expiresAt` is the end of its new term.',
        DENIALS:
          'A limit kept refusing demand that no grant met within a minute, often enough within an hour: `metric` and `value` (the refusals) say which. Once an hour per license and metric.',
        RECOMMENDATION:
          "A new recommendation whose yearly effect reaches the organization's `alertAboveCents`: `recommendationId` names it, `value` is its yearly cost change in cents.",
      },
    },
    AlertSeverity: {
      description: 'How urgent an alert is.',
      values: {
        INFO: 'For information: thresholds below 90 %, expiry 30 days or more ahead, renewals, migrations, recommendations.',
        WARNING: 'Act soon: thresholds from 90 %, expiry within 30 days, repeated denials.',
        CRITICAL: 'Act now: a limit reached (100 % or more), expiry within 7 days, grace period begun, license expired.',
      },
    },
  },
);

@ObjectType('Alert', { simpleResolvers: true, description: 'Something an integrator should know, raised once and kept.' })
export class AlertNode extends LicenseRecordNode {
  @Field(() => ID, { description: 'Time-ordered: alerts after a cursor are the ones raised since.' })
  override id!: string;

  @Field(() => AlertKind, { description: 'What it is about; says which of its other fields are set.' })
  kind!: AlertKind;

  @Field(() => AlertSeverity, { description: 'How urgent it is.' })
  severity!: AlertSeverity;

  @Field(() => UsageMetric, { nullable: true, description: 'THRESHOLD and DENIALS: the metric concerned; null for other kinds.' })
  metric!: UsageMetric | null;

  @Field(() => Int, { nullable: true, description: 'The threshold crossed, in percent of the limit.' })
  threshold!: number | null;

  @Field(() => SafeIntResolver, {
    nullable: true,
    description:
      "THRESHOLD: the metric's value when raised; DENIALS: the refusals counted; RECOMMENDATION: the yearly cost change in cents (negative: a saving).",
  })
  value!: number | null;

  @Field(() => SafeIntResolver, {
    nullable: true,
    description: "THRESHOLD: the license's limit for the metric then; null for other kinds.",
  })
  limit!: number | null;

  @Field(() => Int, { nullable: true, description: 'EXPIRY_NOTICE: how many days before the end of the term it was raised.' })
  daysBefore!: number | null;

  @Field(() => Date, { nullable: true, description: 'Expiry alerts: when the term ends (ended).' })
  expiresAt!: Date | null;

  @Field(() => ID, { nullable: true, description: 'RECOMMENDATION: the recommendation to preview, apply or dismiss.' })
  recommendationId!: string | null;

  @Field(() => String, { description: 'A readable sentence saying what happened.' })
  message!: string;

  @Field(() => Date, { description: 'When it was raised.' })
  raisedAt!: Date;

  @Field(() => Int, {
    description:
      "THRESHOLD: how many times its threshold was crossed again while this alert was open (unacknowledged, within the rule's `repeatIntervalMinutes` of `raisedAt`), counted here instead of raising new alerts.",
  })
  repeats!: number;

  @Field(() => Date, { nullable: true, description: 'When its threshold was last crossed again; null when it never was.' })
  lastRepeatedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it was acknowledged; null while open.' })
  acknowledgedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Who acknowledged it.' })
  acknowledgedBy!: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'A page of alerts, in the order they were raised.' })
export class AlertConnection extends Connection(AlertNode) {}

@InputType({ description: 'Which alerts; every field given must match.' })
export class AlertFilter extends LicenseRecordFilter {
  @Field(() => AlertKind, { nullable: true, description: 'Only alerts of this kind.' })
  kind?: AlertKind | null;

  @Field(() => AlertSeverity, { nullable: true, description: 'Only alerts of this severity.' })
  severity?: AlertSeverity | null;

  @Field(() => Boolean, { nullable: true, description: 'Only acknowledged (true) or only open (false) alerts.' })
  acknowledged?: boolean | null;
}
