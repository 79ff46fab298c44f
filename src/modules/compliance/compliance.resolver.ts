import { Arg, Args, Ctx, ID, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { PageArgs } from '../../common/pagination';
import type { Operation } from '../../common/operation';
import type { ComplianceStream } from './compliance-stream';
import type { ComplianceScanner } from './compliance-scanner';
import type { ComplianceReportService } from './compliance-report';
import {
  ComplianceCheckResult,
  ComplianceEventConnection,
  ComplianceEventFilter,
  ComplianceEventNode,
  ComplianceReport,
  RemediateViolationInput,
  RemediationPreview,
  RemediationResult,
  ViolationConnection,
  ViolationFilter,
  ViolationNode,
  WaiveViolationInput,
} from './compliance.types';
import type { RemediationService } from './remediation.service';
import type { ViolationService } from './violation.service';

/** What complianceEvents needs of its operation: where compliance events come from. */
type ComplianceContext = Operation & { streams: { compliance: ComplianceStream } };

@Resolver()
export class ComplianceResolver {
  constructor(
    private readonly violationService: ViolationService,
    private readonly remediation: RemediationService,
    private readonly scanner: ComplianceScanner,
    private readonly reports: ComplianceReportService,
  ) {}

  @Query(() => ViolationConnection, {
    description: 'Violations in the order detected; filter by organization, license, kinds, statuses, severity.',
  })
  violations(
    @Arg('filter', () => ViolationFilter, { nullable: true, description: 'Which violations; omitted, all the caller may see.' })
    filter: ViolationFilter | null,
    @Args(() => PageArgs) page: PageArgs,
    @Ctx() ctx: ComplianceContext,
  ): Promise<ViolationConnection> {
    return this.violationService.list(ctx, filter ?? {}, page);
  }

  @Query(() => ViolationNode, { description: 'One violation by id; NOT_FOUND when it does not exist or the caller may not see it.' })
  violation(
    @Arg('id', () => ID, { description: "The violation's id." }) id: string,
    @Ctx() ctx: ComplianceContext,
  ): Promise<ViolationNode> {
    return this.violationService.get(ctx, id);
  }

  @Query(() => ComplianceEventConnection, { description: 'The compliance log: what happened to violations, oldest first.' })
  complianceEventLog(
    @Arg('filter', () => ComplianceEventFilter, { nullable: true, description: 'Which events; omitted, all the caller may see.' })
    filter: ComplianceEventFilter | null,
    @Args(() => PageArgs) page: PageArgs,
    @Ctx() ctx: ComplianceContext,
  ): Promise<ComplianceEventConnection> {
    return this.violationService.events(ctx, filter ?? {}, page);
  }

  @Query(() => ComplianceReport, {
    description:
      "An organization's compliance, license by license: status, each limit against its use, open violations, compliant or not; now, or as of a past moment.",
  })
  complianceReport(
    @Arg('organizationId', () => ID, { description: 'The organization to report on.' }) organizationId: string,
    @Arg('asOf', () => Date, { nullable: true, description: 'The moment to report on; defaults to now.' }) asOf: Date | null,
    @Ctx() ctx: ComplianceContext,
  ): Promise<ComplianceReport> {
    return this.reports.report(ctx, organizationId, asOf);
  }

  @Query(() => RemediationPreview, {
    description:
      'What `remediateViolation` would do with the same input, changing nothing: the seats it would release, the leases it would end, the limit before and after, the license status after; with the same errors. Needs only the right to read licenses.',
  })
  previewRemediation(
    @Arg('input', () => RemediateViolationInput, { description: 'The violation and action, as `remediateViolation` would take them.' })
    input: RemediateViolationInput,
    @Ctx() ctx: Operation,
  ): Promise<RemediationPreview> {
    return this.remediation.preview(ctx, input);
  }

  @Mutation(() => ViolationNode, { description: 'OPEN → ACKNOWLEDGED.' })
  acknowledgeViolation(
    @Arg('id', () => ID, { description: 'The violation; INVALID_STATE_TRANSITION unless OPEN.' }) id: string,
    @Ctx() ctx: ComplianceContext,
  ): Promise<ViolationNode> {
    return this.violationService.acknowledge(ctx, id);
  }

  @Mutation(() => ViolationNode, { description: 'OPEN, ACKNOWLEDGED or WAIVED → RESOLVED, with the reason.' })
  resolveViolation(
    @Arg('id', () => ID, { description: 'The violation; INVALID_STATE_TRANSITION when already RESOLVED.' }) id: string,
    @Arg('reason', () => String, { description: 'Why it is resolved, kept as `resolution`.' }) reason: string,
    @Ctx() ctx: ComplianceContext,
  ): Promise<ViolationNode> {
    return this.violationService.resolve(ctx, id, reason);
  }

  @Mutation(() => ViolationNode, {
    description: 'OPEN or ACKNOWLEDGED → WAIVED, with the reason and perhaps an end: then it opens again if its breach still holds.',
  })
  waiveViolation(
    @Arg('input', () => WaiveViolationInput, { description: 'The violation, the reason and perhaps the end of the waiver.' })
    input: WaiveViolationInput,
    @Ctx() ctx: ComplianceContext,
  ): Promise<ViolationNode> {
    return this.violationService.waive(ctx, input);
  }

  @Mutation(() => RemediationResult, {
    description:
      'Acts on a violation: suspend the license, release the seats inactive longest, end leases, or raise the limit; says what it changed.',
  })
  remediateViolation(
    @Arg('input', () => RemediateViolationInput, { description: 'The violation and the action.' }) input: RemediateViolationInput,
    @Ctx() ctx: ComplianceContext,
  ): Promise<RemediationResult> {
    return this.remediation.remediate(ctx, input);
  }

  @Mutation(() => ComplianceCheckResult, {
    description:
      "Scans every active license (a platform admin's: of every organization, or the one given) against its limits and terms now, as the periodic scan does: opens, resolves and reopens violations. Idempotent.",
  })
  runComplianceCheck(
    @Arg('organizationId', () => ID, {
      nullable: true,
      description: "Only this organization's licenses; omitted, every organization the caller may see.",
    })
    organizationId: string | null,
    @Ctx() ctx: ComplianceContext,
  ): Promise<ComplianceCheckResult> {
    return this.scanner.runCheck(ctx, organizationId);
  }

  @Subscription(() => ComplianceEventNode, {
    description:
      'What happens to violations, as it happens: opened, updated, acknowledged, remediated, resolved, waived, reopened, escalated. With `after` (the id of the last event seen) it first replays every event since, then goes live: nothing missed, nothing twice.',
    subscribe: ({ args, context }) => {
      const ctx = context as ComplianceContext;
      return ctx.streams.compliance.subscribe(
        ctx.principal,
        (args.filter as ComplianceEventFilter | null) ?? {},
        (args.after as string | null) ?? null,
      );
    },
  })
  complianceEvents(
    @Root() event: ComplianceEventNode,
    @Arg('filter', () => ComplianceEventFilter, {
      nullable: true,
      description: 'Which events to receive; omitted, all the subscriber may see.',
    })
    _filter: ComplianceEventFilter | null,
    @Arg('after', () => ID, { nullable: true, description: 'The id of the last event received: every event since is replayed first.' })
    _after: string | null,
  ): ComplianceEventNode {
    return event;
  }
}
