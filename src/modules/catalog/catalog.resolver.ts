import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { PageArgs } from '../../common/pagination';
import type { CatalogContext } from './catalog.loaders';
import type { CatalogService } from './catalog.service';
import {
  CreatePlanInput,
  CreateProductInput,
  FeatureInput,
  FeatureNode,
  PlanConnection,
  PlanFilter,
  PlanNode,
  ProductConnection,
  ProductNode,
} from './catalog.types';

@Resolver(() => ProductNode)
export class ProductResolver {
  constructor(private readonly catalog: CatalogService) {}

  @Query(() => ProductNode)
  async product(@Arg('id', () => ID) id: string, @Ctx() ctx: CatalogContext): Promise<ProductNode> {
    return ProductNode.from(await this.catalog.getProduct(ctx, id));
  }

  @Query(() => ProductConnection)
  async products(@Args(() => PageArgs) page: PageArgs, @Ctx() ctx: CatalogContext): Promise<ProductConnection> {
    const result = await this.catalog.listProducts(ctx, page);
    return { nodes: result.nodes.map(ProductNode.from), pageInfo: result.pageInfo };
  }

  @FieldResolver(() => [FeatureNode])
  features(@Root() product: ProductNode, @Ctx() ctx: CatalogContext): Promise<FeatureNode[]> {
    return ctx.loaders.featuresOfProduct.load(product.id);
  }

  @Mutation(() => ProductNode, { description: 'A product with its features (platform admins).' })
  async createProduct(@Arg('input', () => CreateProductInput) input: CreateProductInput, @Ctx() ctx: CatalogContext): Promise<ProductNode> {
    return ProductNode.from(await this.catalog.createProduct(ctx, input));
  }

  @Mutation(() => FeatureNode, { description: 'Adds a feature to a product (platform admins).' })
  async addFeature(
    @Arg('productId', () => ID) productId: string,
    @Arg('input', () => FeatureInput) input: FeatureInput,
    @Ctx() ctx: CatalogContext,
  ): Promise<FeatureNode> {
    return FeatureNode.from(await this.catalog.addFeature(ctx, productId, input));
  }
}

@Resolver(() => PlanNode)
export class PlanResolver {
  constructor(private readonly catalog: CatalogService) {}

  @Query(() => PlanNode)
  async plan(@Arg('id', () => ID) id: string, @Ctx() ctx: CatalogContext): Promise<PlanNode> {
    return PlanNode.from(await this.catalog.getPlan(ctx, id));
  }

  @Query(() => PlanConnection)
  async plans(
    @Arg('filter', () => PlanFilter, { nullable: true }) filter: PlanFilter | null,
    @Args(() => PageArgs) page: PageArgs,
    @Ctx() ctx: CatalogContext,
  ): Promise<PlanConnection> {
    const result = await this.catalog.listPlans(ctx, filter ?? {}, page);
    return { nodes: result.nodes.map(PlanNode.from), pageInfo: result.pageInfo };
  }

  @FieldResolver(() => ProductNode)
  async product(@Root() plan: PlanNode, @Ctx() ctx: CatalogContext): Promise<ProductNode> {
    return (await ctx.loaders.product.load(plan.productId))!;
  }

  @FieldResolver(() => [FeatureNode])
  features(@Root() plan: PlanNode, @Ctx() ctx: CatalogContext): Promise<FeatureNode[]> {
    return ctx.loaders.featuresOfPlan.load(plan.id);
  }

  @Mutation(() => PlanNode, { description: 'A license template (platform admins).' })
  async createPlan(@Arg('input', () => CreatePlanInput) input: CreatePlanInput, @Ctx() ctx: CatalogContext): Promise<PlanNode> {
    return PlanNode.from(await this.catalog.createPlan(ctx, input));
  }
}
