import { Arg, Args, Ctx, ID, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { PageArgs } from '../../common/pagination';
import type { Operation } from '../../common/operation';
import type { AlertStream } from './alert-stream';
import type { AlertService } from './alert.service';
import { AlertConnection, AlertFilter, AlertNode } from './alert.types';

/** What alertRaised needs of its operation: where alerts come from. */
type AlertContext = Operation & { streams: { alerts: AlertStream } };

@Resolver()
export class AlertResolver {
  constructor(private readonly alertService: AlertService) {}

  @Query(() => AlertConnection, { description: 'Alerts in the order they were raised; filter by organization, license, kind, severity.' })
  alerts(
    @Arg('filter', () => AlertFilter, { nullable: true, description: 'Which alerts; omitted, all the caller may see.' })
    filter: AlertFilter | null,
    @Args(() => PageArgs) page: PageArgs,
    @Ctx() ctx: AlertContext,
  ): Promise<AlertConnection> {
    return this.alertService.list(ctx, filter ?? {}, page);
  }

  @Subscription(() => AlertNode, {
    description:
      'Alerts as they are raised. With `after` (the id of the last alert seen) it first replays every alert since, then goes live: nothing missed, nothing twice.',
    subscribe: ({ args, context }) => {
      const ctx = context as AlertContext;
      return ctx.streams.alerts.subscribe(ctx.principal, (args.filter as AlertFilter | null) ?? {}, (args.after as string | null) ?? null);
    },
  })
  alertRaised(
    @Root() alert: AlertNode,
    @Arg('filter', () => AlertFilter, { nullable: true, description: 'Which alerts to receive; omitted, all the subscriber may see.' })
    _filter: AlertFilter | null,
    @Arg('after', () => ID, {
      nullable: true,
      description: 'The id of the last alert received: every alert raised since is replayed first.',
    })
    _after: string | null,
  ): AlertNode {
    return alert;
  }

  @Mutation(() => AlertNode, { description: 'Marks an alert as seen; INVALID_STATE_TRANSITION when it was acknowledged already.' })
  acknowledgeAlert(@Arg('id', () => ID, { description: "The alert's id." }) id: string, @Ctx() ctx: AlertContext): Promise<AlertNode> {
    return this.alertService.acknowledge(ctx, id);
  }
}
