import { Length, Min } from 'class-validator';
import { JSONObjectResolver, SafeIntResolver } from 'graphql-scalars';
import { Arg, Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { AppError } from '../../errors';
import { Connection } from '../../common/pagination';
import { LicenseRecordFilter, LicenseRecordNode } from '../license/license-record.types';
import { LicenseStatus, LicenseType } from '../../kernel/license.enums';
import { UsageMetric } from '../usage/usage.types';
import {
  ComplianceEventType,
  ComplianceStatus,
  RemediationAction,
  ViolationKind,
  ViolationSeverity,
  ViolationStatus,
} from '../../kernel/compliance.enums';

@ObjectType({ simpleResolvers: true, description: 'What an administrator did about a violation.' })
export class Remediation {
  @Field(() => RemediationAction, { description: 'What was done.' })
  action!: RemediationAction;

  @Field(() => String, { description: 'What it changed.' })
  summary!: string;

  @Field(() => Date, { description: 'When it was done.' })
  at!: Date;

  @Field(() => String, { description: 'Who did it: the label of the acting API token.' })
  by!: string;
}

@ObjectType('Violation', {
  simpleResolvers: true,
  description: 'A compliance breach of one license, followed from detection to resolution.',
})
export class ViolationNode extends LicenseRecordNode {
  @Field(() => ViolationKind, { description: 'What the license was found doing outside its terms.' })
  kind!: ViolationKind;

  @Field(() => String, { nullable: true, description: 'What it concerns within its kind: the feature of UNLICENSED_FEATURE.' })
  subject!: string | null;

  @Field(() => ViolationSeverity, { description: 'The highest reached while it was active.' })
  severity!: ViolationSeverity;

  @Field(() => ViolationStatus, { description: 'Where it is in its lifecycle.' })
  status!: ViolationStatus;

  @Field(() => SafeIntResolver, { description: 'How many times the breach happened while the violation was active.' })
  occurrences!: number;

  @Field(() => SafeIntResolver, { nullable: true, description: 'The measured value at the last occurrence (overages).' })
  value!: number | null;

  @Field(() => SafeIntResolver, { nullable: true, description: 'The highest value measured while it was active.' })
  peakValue!: number | null;

  @Field(() => SafeIntResolver, { nullable: true, description: 'The limit at the last occurrence.' })
  limit!: number | null;

  @Field(() => JSONObjectResolver, { description: 'The numbers and facts at detection.' })
  evidence!: Record<string, unknown>;

  @Field(() => String, { description: 'What was seen at the last occurrence.' })
  detail!: string;

  @Field(() => Date, { description: 'When the breach was first detected.' })
  firstSeenAt!: Date;

  @Field(() => Date, { description: 'When the breach last happened (or was last seen to hold).' })
  lastSeenAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When it was acknowledged; null when it never was.' })
  acknowledgedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Who acknowledged it.' })
  acknowledgedBy!: string | null;

  @Field(() => Date, { nullable: true, description: 'When it was resolved; null while active.' })
  resolvedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Who resolved it: an API token, or SYSTEM when its cause cleared.' })
  resolvedBy!: string | null;

  @Field(() => String, { nullable: true, description: 'Why it was resolved.' })
  resolution!: string | null;

  @Field(() => Date, { nullable: true, description: 'When it was waived; null when it never was.' })
  waivedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Who waived it.' })
  waivedBy!: string | null;

  @Field(() => String, { nullable: true, description: 'Why it was waived.' })
  waiverReason!: string | null;

  @Field(() => Date, { nullable: true, description: 'When the waiver ends; null for good.' })
  waivedUntil!: Date | null;

  @Field(() => [Remediation], { description: 'What administrators did about it, oldest first.' })
  remediations!: Remediation[];

  @Field(() => Date, {
    nullable: true,
    description: 'By when its breach must clear (an overage a migration allowed until a date): then it resolves, or escalates to CRITICAL.',
  })
  deadline!: Date | null;

  @Field(() => Date, { description: 'When it last changed.' })
  updatedAt!: Date;
}

@ObjectType({ simpleResolvers: true, description: 'A page of violations, in the order detected.' })
export class ViolationConnection extends Connection(ViolationNode) {}

@ObjectType('ComplianceEvent', {
  simpleResolvers: true,
  description: 'Something that happened to a violation, with the violation as it was then.',
})
export class ComplianceEventNode extends LicenseRecordNode {
  @Field(() => ID, { description: 'Time-ordered, in commit order: the cursor to resume `complianceEvents` from.' })
  override id!: string;

  @Field(() => ComplianceEventType, { description: 'What happened.' })
  type!: ComplianceEventType;

  @Field(() => Date, { description: 'When it happened.' })
  occurredAt!: Date;

  @Field(() => ViolationNode, { description: 'The violation as it was right after the event.' })
  violation!: ViolationNode;
}

@ObjectType({ simpleResolvers: true, description: 'A page of compliance events, oldest first.' })
export class ComplianceEventConnection extends Connection(ComplianceEventNode) {}

@InputType({ description: 'Which violations; every field given must match.' })
export class ViolationFilter extends LicenseRecordFilter {
  @Field(() => [ViolationKind], { nullable: true, description: 'Only violations of these kinds.' })
  kinds?: ViolationKind[] | null;

  @Field(() => [ViolationStatus], { nullable: true, description: 'Only violations in these statuses.' })
  statuses?: ViolationStatus[] | null;

  @Field(() => ViolationSeverity, { nullable: true, description: 'This severity or higher.' })
  minSeverity?: ViolationSeverity | null;
}

@InputType({ description: 'Which compliance events; every field given must match.' })
export class ComplianceEventFilter extends LicenseRecordFilter {
  @Field(() => ID, { nullable: true, description: 'Only events of this violation.' })
  violationId?: string | null;

  @Field(() => [ViolationKind], { nullable: true, description: 'Only events of violations of these kinds.' })
  kinds?: ViolationKind[] | null;

  @Field(() => [ComplianceEventType], { nullable: true, description: 'Only events of these types.' })
  types?: ComplianceEventType[] | null;
}

@InputType({ description: 'A waiver of a violation: accepted, with a reason, perhaps until a date.' })
export class WaiveViolationInput {
  @Field(() => ID, { description: 'The violation to waive.' })
  id!: string;

  @Field(() => String, { description: 'Why it is accepted (1 to 500 characters).' })
  @Length(1, 500)
  reason!: string;

  @Field(() => Date, { nullable: true, description: 'When the waiver ends; then the violation opens again if its breach still holds.' })
  until?: Date | null;
}

@InputType({ description: 'An action on a violation.' })
export class RemediateViolationInput {
  @Field(() => ID, { description: 'The violation to act on.' })
  violationId!: string;

  @Field(() => RemediationAction, {
    description: 'What to do; an action that does not fit the violation or its license is BAD_USER_INPUT.',
  })
  action!: RemediationAction;

  @Field(() => Int, {
    nullable: true,
    description: 'How many seats to release or leases to end; by default as many as are over the limit.',
  })
  @Min(1)
  count?: number | null;

  @Field(() => SafeIntResolver, { nullable: true, description: 'The new limit (RAISE_LIMIT): above the current one.' })
  @Min(1)
  limit?: number | null;

  @Field(() => String, { nullable: true, description: 'Why (SUSPEND_LICENSE keeps it as the suspension reason).' })
  @Length(1, 500)
  reason?: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'What a remediation changed.' })
export class RemediationResult {
  @Field(() => RemediationAction, { description: 'What was done.' })
  action!: RemediationAction;

  @Field(() => String, { description: 'A readable account of what changed.' })
  summary!: string;

  @Field(() => ViolationNode, { description: 'The violation after it (RESOLVED when the action cleared its cause).' })
  violation!: ViolationNode;

  @Field(() => LicenseStatus, { description: "The license's status after it." })
  licenseStatus!: LicenseStatus;

  @Field(() => [String], { description: 'The users whose seats were released.' })
  seatsReleased!: string[];

  @Field(() => [ID], { description: 'The leases that were ended: by END_LEASES, or by SUSPEND_LICENSE (every live one).' })
  leasesEnded!: string[];

  @Field(() => SafeIntResolver, {
    nullable: true,
    description: 'The limit the violation is over, before the action; null when it has none.',
  })
  limitBefore!: number | null;

  @Field(() => SafeIntResolver, { nullable: true, description: 'That limit after the action (the new one for RAISE_LIMIT).' })
  limitAfter!: number | null;
}

@ObjectType({ simpleResolvers: true, description: 'A live named seat a remediation would release.' })
export class RemediationSeat {
  @Field(() => ID, { description: "The seat's id." })
  id!: string;

  @Field(() => String, { description: 'The user holding it.' })
  userId!: string;

  @Field(() => Date, { description: "When its user was last active (or the seat's assignment, if never)." })
  lastActiveAt!: Date;
}

@ObjectType({ simpleResolvers: true, description: 'A live lease a remediation would end.' })
export class RemediationLease {
  @Field(() => ID, { description: "The lease's id." })
  id!: string;

  @Field(() => String, { description: 'The machine holding it.' })
  fingerprint!: string;

  @Field(() => String, { nullable: true, description: 'The user named at checkout; null when none.' })
  userId!: string | null;

  @Field(() => Date, { description: 'When its client last sent a heartbeat.' })
  lastHeartbeatAt!: Date;
}

@ObjectType({
  simpleResolvers: true,
  description: 'What a remediation would change, worked out as the action works it out, changing nothing.',
})
export class RemediationPreview {
  @Field(() => RemediationAction, { description: 'The action previewed.' })
  action!: RemediationAction;

  @Field(() => ViolationNode, { description: 'The violation as it is now.' })
  violation!: ViolationNode;

  @Field(() => LicenseStatus, { description: "The license's status after the action (SUSPENDED for SUSPEND_LICENSE)." })
  licenseStatus!: LicenseStatus;

  @Field(() => [RemediationSeat], { description: 'The seats it would release: their users inactive longest first.' })
  seatsToRelease!: RemediationSeat[];

  @Field(() => [RemediationLease], {
    description: 'The leases it would end: those with the oldest heartbeats (END_LEASES), or every live one (SUSPEND_LICENSE).',
  })
  leasesToEnd!: RemediationLease[];

  @Field(() => SafeIntResolver, { nullable: true, description: 'The limit the violation is over, now; null when it has none.' })
  limitBefore!: number | null;

  @Field(() => SafeIntResolver, { nullable: true, description: 'The limit after it: the new one for RAISE_LIMIT, else the same.' })
  limitAfter!: number | null;
}

@ObjectType({ simpleResolvers: true, description: 'What one compliance scan did.' })
export class ComplianceCheckResult {
  @Field(() => Boolean, { description: 'Another scan was running (on another instance): this one did nothing.' })
  skipped!: boolean;

  @Field(() => Int, { description: 'Active licenses scanned.' })
  licensesChecked!: number;

  @Field(() => Int, { description: 'Violations opened by this scan.' })
  violationsOpened!: number;

  @Field(() => Int, { description: 'Violations resolved by this scan because their cause cleared.' })
  violationsResolved!: number;

  @Field(() => Int, { description: 'Waived violations whose waiver ended while the breach held.' })
  violationsReopened!: number;

  @Field(() => Int, { description: 'Violations still over at their deadline, now CRITICAL.' })
  violationsEscalated!: number;

  @Field(() => Date, { description: 'The moment the scan judged the licenses at.' })
  checkedAt!: Date;
}

@ObjectType({ simpleResolvers: true, description: 'A limit of a license against what it uses.' })
export class LimitUtilization {
  @Field(() => UsageMetric, { description: 'The metric the limit is on.' })
  metric!: UsageMetric;

  @Field(() => SafeIntResolver, { description: 'What the license used of it at the time of the report.' })
  value!: number;

  @Field(() => SafeIntResolver, { description: "The license's limit for it." })
  limit!: number;

  @Field(() => Float, { nullable: true, description: 'value / limit; null for a limit of 0.' })
  utilization!: number | null;

  @Field(() => SafeIntResolver, { nullable: true, description: 'The most the overage policy allows; null when nothing caps it.' })
  ceiling!: number | null;

  @Field(() => Boolean, { description: 'True when `value` exceeds `limit`.' })
  overLimit!: boolean;

  @Field(() => Boolean, { description: 'Over its limit under a waived overage violation: no non-compliance then.' })
  waived!: boolean;
}

@ObjectType({ simpleResolvers: true, description: 'One license in a compliance report.' })
export class LicenseCompliance {
  @Field(() => ID, { description: 'The license this row is about.' })
  licenseId!: string;

  @Field(() => LicenseType, { description: "The license's type: which limits apply to it." })
  type!: LicenseType;

  @Field(() => LicenseStatus, { description: 'Its status at the time of the report.' })
  status!: LicenseStatus;

  @Field(() => [LimitUtilization], { description: 'Each limit the license sets.' })
  utilization!: LimitUtilization[];

  @Field(() => [ViolationNode], { description: 'Violations open or acknowledged at the time of the report.' })
  openViolations!: ViolationNode[];

  @Field(() => [ViolationNode], { description: 'Violations waived at the time of the report: listed apart, they make no non-compliance.' })
  waivedViolations!: ViolationNode[];

  @Field(() => Boolean, {
    description:
      'Without an open violation, and within every limit but those a waived overage covers: COMPLIANT or COMPLIANT_WITH_WAIVERS.',
  })
  compliant!: boolean;

  @Field(() => ComplianceStatus, { description: 'Compliant, compliant with waivers, or not.' })
  complianceStatus!: ComplianceStatus;
}

@ObjectType({ simpleResolvers: true, description: 'How many open violations have one severity.' })
export class SeverityCount {
  @Field(() => ViolationSeverity, { description: 'A severity.' })
  severity!: ViolationSeverity;

  @Field(() => Int, { description: 'Open violations of it.' })
  count!: number;
}

@ObjectType({ simpleResolvers: true, description: 'How many open violations are of one kind.' })
export class KindCount {
  @Field(() => ViolationKind, { description: 'A kind of violation.' })
  kind!: ViolationKind;

  @Field(() => Int, { description: 'Open violations of it.' })
  count!: number;
}

@ObjectType({ simpleResolvers: true, description: 'The totals of a compliance report, over all its licenses.' })
export class ComplianceSummary {
  @Field(() => Int, { description: 'Licenses in the report: those issued by its time.' })
  licenses!: number;

  @Field(() => Int, { description: 'Compliant licenses, with or without waivers.' })
  compliant!: number;

  @Field(() => Int, { description: 'Of the compliant licenses, those compliant only because their active violations are waived.' })
  compliantWithWaivers!: number;

  @Field(() => Int, { description: '`licenses` is `compliant` + `nonCompliant`.' })
  nonCompliant!: number;

  @Field(() => Int, { description: 'Violations open or acknowledged at the time of the report.' })
  openViolations!: number;

  @Field(() => Int, { description: 'Waived violations, not counted in `openViolations`, `bySeverity` or `byKind`.' })
  waivedViolations!: number;

  @Field(() => [SeverityCount], { description: 'Open violations by severity, highest first; severities without any left out.' })
  bySeverity!: SeverityCount[];

  @Field(() => [KindCount], { description: 'Open violations by kind; kinds without any left out.' })
  byKind!: KindCount[];
}

/** Licenses in one page of a compliance report, by default and at most. */
export const REPORT_PAGE_SIZE = 200;
export const MAX_REPORT_PAGE_SIZE = 1_000;

@ObjectType({ description: "An organization's compliance at one moment, license by license." })
export class ComplianceReport {
  @Field(() => ID, { description: 'The organization reported on.' })
  organizationId!: string;

  @Field(() => Date, { description: 'The moment the report describes.' })
  asOf!: Date;

  /** Every license issued by then, in the order issued; a page of them is answered. */
  all!: LicenseCompliance[];

  @Field(() => [LicenseCompliance], {
    description: `The licenses issued by then, in the order issued: ${REPORT_PAGE_SIZE} at a time unless \`first\` says otherwise (at most ${MAX_REPORT_PAGE_SIZE}), after the license \`after\` names. \`summary.licenses\` counts them all.`,
  })
  licenses(
    @Arg('first', () => Int, { defaultValue: REPORT_PAGE_SIZE, description: 'How many licenses to answer (1 to 1000).' }) first: number,
    @Arg('after', () => ID, { nullable: true, description: 'The id of the last license of the previous page.' }) after?: string | null,
  ): LicenseCompliance[] {
    if (!Number.isInteger(first) || first < 1 || first > MAX_REPORT_PAGE_SIZE) {
      throw AppError.badInput(`\`first\` must be between 1 and ${MAX_REPORT_PAGE_SIZE}.`, 'first');
    }
    const start = after ? this.all.findIndex((l) => l.licenseId === after) + 1 : 0;
    if (after && start === 0) throw AppError.badInput('`after` must be the id of a license of this report.', 'after');
    return this.all.slice(start, start + first);
  }

  @Field(() => ComplianceSummary, { description: 'The totals over every license of the report, not only this page.' })
  summary!: ComplianceSummary;
}
