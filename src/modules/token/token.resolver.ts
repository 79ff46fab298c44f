import { Arg, Args, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { PageArgs } from '../../common/pagination';
import type { Operation } from '../../common/operation';
import type { TokenService } from './token.service';
import { ApiTokenConnection, ApiTokenFilter, ApiTokenNode, CreateApiTokenInput, CreatedApiToken } from './token.types';

@Resolver()
export class TokenResolver {
  constructor(private readonly tokens: TokenService) {}

  @Query(() => ApiTokenConnection, {
    description: 'API tokens the caller may see (ORG_ADMIN, AUDITOR, platform admins), oldest first; never their secrets.',
  })
  async apiTokens(
    @Arg('filter', () => ApiTokenFilter, { nullable: true, description: 'Which tokens; omitted, all the caller may see.' })
    filter: ApiTokenFilter | null,
    @Args(() => PageArgs) page: PageArgs,
    @Ctx() ctx: Operation,
  ): Promise<ApiTokenConnection> {
    const result = await this.tokens.list(ctx, filter ?? {}, page);
    return { nodes: result.nodes.map(ApiTokenNode.from), pageInfo: result.pageInfo };
  }

  @Mutation(() => CreatedApiToken, { description: 'Creates an API token; its secret is in the answer only this once.' })
  async createApiToken(
    @Arg('input', () => CreateApiTokenInput, { description: 'Its name, role and organization.' }) input: CreateApiTokenInput,
    @Ctx() ctx: Operation,
  ): Promise<CreatedApiToken> {
    const { token, secret } = await this.tokens.create(ctx, input);
    return { apiToken: ApiTokenNode.from(token), secret };
  }

  @Mutation(() => ApiTokenNode, {
    description: 'Revokes an API token at once, also on open WebSocket connections; INVALID_STATE_TRANSITION when already revoked.',
  })
  async revokeApiToken(@Arg('id', () => ID, { description: "The token's id." }) id: string, @Ctx() ctx: Operation): Promise<ApiTokenNode> {
    return ApiTokenNode.from(await this.tokens.revoke(ctx, id));
  }
}
