import { Arg, Args, Ctx, Query, Resolver } from 'type-graphql';
import { PageArgs } from '../../common/pagination';
import type { Operation } from '../../common/operation';
import { AppError } from '../../errors';
import { Permission } from '../../auth/roles';
import type { AuditChain } from './audit-chain';
import type { AuditService } from './audit.service';
import { AuditEventConnection, AuditEventNode, AuditFilterInput, AuditVerification } from './audit.types';

@Resolver()
export class AuditResolver {
  constructor(
    private readonly audit: AuditService,
    private readonly chain: AuditChain,
  ) {}

  @Query(() => AuditEventConnection, {
    description: 'The audit log, oldest first; filter by organization, object, actor, action and time.',
  })
  async auditLog(
    @Arg('filter', () => AuditFilterInput, { nullable: true, description: 'Which events; omitted, all the caller may see.' })
    filter: AuditFilterInput | null,
    @Args(() => PageArgs) page: PageArgs,
    @Ctx() ctx: Operation,
  ): Promise<AuditEventConnection> {
    const result = await this.audit.list(ctx, filter ?? {}, page);
    return { nodes: result.nodes.map(AuditEventNode.from), pageInfo: result.pageInfo };
  }

  @Query(() => AuditVerification, {
    description:
      'Checks the audit chain (platform admin): seals what committed since the last seal, then checks every event sealed ' +
      'between `from` and `to` (or all) and the signed anchors, and reports the first event that does not fit.',
  })
  async verifyAuditLog(
    @Arg('from', () => Date, { nullable: true, description: 'Check from the first event that occurred at or after this.' })
    from: Date | null,
    @Arg('to', () => Date, { nullable: true, description: 'Check up to the last event that occurred before this.' })
    to: Date | null,
    @Ctx() ctx: Operation,
  ): Promise<AuditVerification> {
    ctx.principal.require(Permission.AUDIT_READ);
    if (!ctx.principal.isPlatformAdmin)
      throw AppError.forbidden('Only a platform admin verifies the audit chain: it spans every organization.');
    if (from && to && from >= to) throw AppError.badInput('`from` must be before `to`.', 'from');
    await this.chain.seal();
    return AuditVerification.from(await this.chain.verify({ from, to }));
  }
}
