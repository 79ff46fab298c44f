import { Arg, Args, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { PageArgs } from '../../common/pagination';
import type { GraphQLContext } from '../../server/context';
import type { AlertService } from './alert.service';
import { AlertConnection, AlertFilter, AlertNode } from './alert.types';

@Resolver()
export class AlertResolver {
  constructor(private readonly alertService: AlertService) {}

  @Query(() => AlertConnection, { description: 'Alerts in the order they were raised; filter by organization, license, kind, severity.' })
  alerts(
    @Arg('filter', () => AlertFilter, { nullable: true }) filter: AlertFilter | null,
    @Args(() => PageArgs) page: PageArgs,
    @Ctx() ctx: GraphQLContext,
  ): Promise<AlertConnection> {
    return this.alertService.list(ctx, filter ?? {}, page);
  }

  @Mutation(() => AlertNode)
  acknowledgeAlert(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<AlertNode> {
    return this.alertService.acknowledge(ctx, id);
  }
}
