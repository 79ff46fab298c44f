import { Arg, Args, Ctx, Query, Resolver } from 'type-graphql';
import { PageArgs } from '../../common/pagination';
import type { Operation } from '../../common/operation';
import type { AuditService } from './audit.service';
import { AuditEventConnection, AuditEventNode, AuditFilterInput } from './audit.types';

@Resolver()
export class AuditResolver {
  constructor(private readonly audit: AuditService) {}

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
}
