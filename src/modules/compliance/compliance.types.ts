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
  @Field(() => RemediationAction)
  action!: RemediationAction;

  @Field(() => String, { description: 'What it changed.' })
  summary!: string;

  @Field(() => Date)
  at!: Date;

  @Field(() => String)
  by!: string;
}

@ObjectType('Violation', {
  simpleResolvers: true,
  description: 'A compliance breach of one license, followed from detection to resolution.',
})
export class ViolationNode extends LicenseRecordNode {
  @Field(() => ViolationKind)
  kind!: ViolationKind;

  @Field(() => String, { nullable: true, description: 'What it concerns within its kind: the feature of UNLICENSED_FEATURE.' })
  subject!: string | null;

  @Field(() => ViolationSeverity, { description: 'The highest reached while it was active.' })
  severity!: ViolationSeverity;

  @Field(() => ViolationStatus)
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

  @Field(() => Date)
  firstSeenAt!: Date;

  @Field(() => Date)
  lastSeenAt!: Date;

  @Field(() => Date, { nullable: true })
  acknowledgedAt!: Date | null;

  @Field(() => String, { nullable: true })
  acknowledgedBy!: string | null;

  @Field(() => Date, { nullable: true })
  resolvedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Who resolved it: an API token, or SYSTEM when its cause cleared.' })
  resolvedBy!: string | null;

  @Field(() => String, { nullable: true, description: 'Why it was resolved.' })
  resolution!: string | null;

  @Field(() => Date, { nullable: true })
  waivedAt!: Date | null;

  @Field(() => String, { nullable: true })
  waivedBy!: string | null;

  @Field(() => String, { nullable: true })
  waiverReason!: string | null;

  @Field(() => Date, { nullable: true, description: 'When the waiver ends; null for good.' })
  waivedUntil!: Date | null;

  @Field(() => [Remediation])
  remediations!: Remediation[];

  @Field(() => Date, {
    nullable: true,
    description: 'By when its breach must clear (an overage a migration allowed until a date): then it resolves, or escalates to CRITICAL.',
  })
  deadline!: Date | null;

  @Field(() => Date)
  updatedAt!: Date;
}

@ObjectType({ simpleResolvers: true })
export class ViolationConnection extends Connection(ViolationNode) {}

@ObjectType('ComplianceEvent', {
  simpleResolvers: true,
  description: 'Something that happened to a violation, with the violation as it was then.',
})
export class ComplianceEventNode extends LicenseRecordNode {
  @Field(() => ID, { description: 'Time-ordered, in commit order: the cursor to resume `complianceEvents` from.' })
  override id!: string;

  @Field(() => ComplianceEventType)
  type!: ComplianceEventType;

  @Field(() => Date)
  occurredAt!: Date;

  @Field(() => ViolationNode)
  violation!: ViolationNode;
}

@ObjectType({ simpleResolvers: true })
export class ComplianceEventConnection extends Connection(ComplianceEventNode) {}

@InputType()
export class ViolationFilter extends LicenseRecordFilter {
  @Field(() => [ViolationKind], { nullable: true })
  kinds?: ViolationKind[] | null;

  @Field(() => [ViolationStatus], { nullable: true })
  statuses?: ViolationStatus[] | null;

  @Field(() => ViolationSeverity, { nullable: true, description: 'This severity or higher.' })
  minSeverity?: ViolationSeverity | null;
}

@InputType()
export class ComplianceEventFilter extends LicenseRecordFilter {
  @Field(() => ID, { nullable: true })
  violationId?: string | null;

  @Field(() => [ViolationKind], { nullable: true })
  kinds?: ViolationKind[] | null;

  @Field(() => [ComplianceEventType], { nullable: true })
  types?: ComplianceEventType[] | null;
}

@InputType()
export class WaiveViolationInput {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  @Length(1, 500)
  reason!: string;

  @Field(() => Date, { nullable: true, description: 'When the waiver ends; then the violation opens again if its breach still holds.' })
  until?: Date | null;
}

@InputType()
export class RemediateViolationInput {
  @Field(() => ID)
  violationId!: string;

  @Field(() => RemediationAction)
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
  @Field(() => RemediationAction)
  action!: RemediationAction;

  @Field(() => String)
  summary!: string;

  @Field(() => ViolationNode, { description: 'The violation after it (RESOLVED when the action cleared its cause).' })
  violation!: ViolationNode;

  @Field(() => LicenseStatus)
  licenseStatus!: LicenseStatus;

  @Field(() => [String], { description: 'The users whose seats were released.' })
  seatsReleased!: string[];

  @Field(() => [ID], { description: 'The leases that were ended: by END_LEASES, or by SUSPEND_LICENSE (every live one).' })
  leasesEnded!: string[];

  @Field(() => SafeIntResolver, { nullable: true })
  limitBefore!: number | null;

  @Field(() => SafeIntResolver, { nullable: true })
  limitAfter!: number | null;
}

@ObjectType({ simpleResolvers: true, description: 'A live named seat a remediation would release.' })
export class RemediationSeat {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  userId!: string;

  @Field(() => Date, { description: "When its user was last active (or the seat's assignment, if never)." })
  lastActiveAt!: Date;
}

@ObjectType({ simpleResolvers: true, description: 'A live lease a remediation would end.' })
export class RemediationLease {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  fingerprint!: string;

  @Field(() => String, { nullable: true })
  userId!: string | null;

  @Field(() => Date)
  lastHeartbeatAt!: Date;
}

@ObjectType({
  simpleResolvers: true,
  description: 'What a remediation would change, worked out as the action works it out, changing nothing.',
})
export class RemediationPreview {
  @Field(() => RemediationAction)
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

  @Field(() => SafeIntResolver, { nullable: true })
  limitBefore!: number | null;

  @Field(() => SafeIntResolver, { nullable: true, description: 'The limit after it: the new one for RAISE_LIMIT, else the same.' })
  limitAfter!: number | null;
}

@ObjectType({ simpleResolvers: true, description: 'What one compliance scan did.' })
export class ComplianceCheckResult {
  @Field(() => Boolean, { description: 'Another scan was running (on another instance): this one did nothing.' })
  skipped!: boolean;

  @Field(() => Int)
  licensesChecked!: number;

  @Field(() => Int)
  violationsOpened!: number;

  @Field(() => Int)
  violationsResolved!: number;

  @Field(() => Int, { description: 'Waived violations whose waiver ended while the breach held.' })
  violationsReopened!: number;

  @Field(() => Int, { description: 'Violations still over at their deadline, now CRITICAL.' })
  violationsEscalated!: number;

  @Field(() => Date)
  checkedAt!: Date;
}

@ObjectType({ simpleResolvers: true, description: 'A limit of a license against what it uses.' })
export class LimitUtilization {
  @Field(() => UsageMetric)
  metric!: UsageMetric;

  @Field(() => SafeIntResolver)
  value!: number;

  @Field(() => SafeIntResolver)
  limit!: number;

  @Field(() => Float, { nullable: true, description: 'value / limit; null for a limit of 0.' })
  utilization!: number | null;

  @Field(() => SafeIntResolver, { nullable: true, description: 'The most the overage policy allows; null when nothing caps it.' })
  ceiling!: number | null;

  @Field(() => Boolean)
  overLimit!: boolean;

  @Field(() => Boolean, { description: 'Over its limit under a waived overage violation: no non-compliance then.' })
  waived!: boolean;
}

@ObjectType({ simpleResolvers: true, description: 'One license in a compliance report.' })
export class LicenseCompliance {
  @Field(() => ID)
  licenseId!: string;

  @Field(() => LicenseType)
  type!: LicenseType;

  @Field(() => LicenseStatus)
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

  @Field(() => ComplianceStatus)
  complianceStatus!: ComplianceStatus;
}

@ObjectType({ simpleResolvers: true })
export class SeverityCount {
  @Field(() => ViolationSeverity)
  severity!: ViolationSeverity;

  @Field(() => Int)
  count!: number;
}

@ObjectType({ simpleResolvers: true })
export class KindCount {
  @Field(() => ViolationKind)
  kind!: ViolationKind;

  @Field(() => Int)
  count!: number;
}

@ObjectType({ simpleResolvers: true })
export class ComplianceSummary {
  @Field(() => Int)
  licenses!: number;

  @Field(() => Int)
  compliant!: number;

  @Field(() => Int, { description: 'Of the compliant licenses, those compliant only because their active violations are waived.' })
  compliantWithWaivers!: number;

  @Field(() => Int, { description: '`licenses` is `compliant` + `nonCompliant`.' })
  nonCompliant!: number;

  @Field(() => Int)
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
  @Field(() => ID)
  organizationId!: string;

  @Field(() => Date)
  asOf!: Date;

  /** Every license issued by then, in the order issued; a page of them is answered. */
  all!: LicenseCompliance[];

  @Field(() => [LicenseCompliance], {
    description: `The licenses issued by then, in the order issued: ${REPORT_PAGE_SIZE} at a time unless \`first\` says otherwise (at most ${MAX_REPORT_PAGE_SIZE}), after the license \`after\` names. \`summary.licenses\` counts them all.`,
  })
  licenses(
    @Arg('first', () => Int, { defaultValue: REPORT_PAGE_SIZE }) first: number,
    @Arg('after', () => ID, { nullable: true }) after?: string | null,
  ): LicenseCompliance[] {
    if (!Number.isInteger(first) || first < 1 || first > MAX_REPORT_PAGE_SIZE) {
      throw AppError.badInput(`\`first\` must be between 1 and ${MAX_REPORT_PAGE_SIZE}.`, 'first');
    }
    const start = after ? this.all.findIndex((l) => l.licenseId === after) + 1 : 0;
    if (after && start === 0) throw AppError.badInput('`after` must be the id of a license of this report.', 'after');
    return this.all.slice(start, start + first);
  }

  @Field(() => ComplianceSummary)
  summary!: ComplianceSummary;
}
