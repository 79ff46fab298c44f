import { Arg, Args, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { PageArgs } from '../../common/pagination';
import type { Operation } from '../../common/operation';
import type { OrganizationService } from './organization.service';
import {
  CreateOrganizationInput,
  OrganizationConnection,
  OrganizationFilter,
  OrganizationNode,
  UpdateOrganizationInput,
} from './organization.types';

@Resolver(() => OrganizationNode)
export class OrganizationResolver {
  constructor(private readonly organizationService: OrganizationService) {}

  @Query(() => OrganizationNode, { description: 'One organization the caller may see.' })
  async organization(
    @Arg('id', () => ID, { description: "The organization's id; NOT_FOUND when it does not exist or the caller may not see it." })
    id: string,
    @Ctx() ctx: Operation,
  ): Promise<OrganizationNode> {
    return OrganizationNode.from(await this.organizationService.get(ctx, id));
  }

  @Query(() => OrganizationConnection, { description: 'Organizations the caller may see: all for platform admins, its own otherwise.' })
  async organizations(
    @Arg('filter', () => OrganizationFilter, { nullable: true, description: 'Which organizations; omitted, all the caller may see.' })
    filter: OrganizationFilter | null,
    @Args(() => PageArgs) page: PageArgs,
    @Ctx() ctx: Operation,
  ): Promise<OrganizationConnection> {
    const result = await this.organizationService.list(ctx, filter ?? {}, page);
    return { nodes: result.nodes.map(OrganizationNode.from), pageInfo: result.pageInfo };
  }

  @Mutation(() => OrganizationNode, { description: 'Creates an organization (platform admins).' })
  async createOrganization(
    @Arg('input', () => CreateOrganizationInput, { description: 'Its name.' }) input: CreateOrganizationInput,
    @Ctx() ctx: Operation,
  ): Promise<OrganizationNode> {
    return OrganizationNode.from(await this.organizationService.create(ctx, input));
  }

  @Mutation(() => OrganizationNode, { description: 'Renames an organization (platform admins).' })
  async updateOrganization(
    @Arg('id', () => ID, { description: "The organization's id." }) id: string,
    @Arg('input', () => UpdateOrganizationInput, { description: 'Its new name.' }) input: UpdateOrganizationInput,
    @Ctx() ctx: Operation,
  ): Promise<OrganizationNode> {
    return OrganizationNode.from(await this.organizationService.update(ctx, id, input));
  }
}
