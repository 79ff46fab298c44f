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

  @Query(() => ProductNode, { description: 'One product by id; NOT_FOUND when there is none.' })
  async product(@Arg('id', () => ID, { description: "The product's id." }) id: string, @Ctx() ctx: CatalogContext): Promise<ProductNode> {
    return ProductNode.from(await this.catalog.getProduct(ctx, id));
  }

  @Query(() => ProductConnection, { description: 'Every product, oldest first, paginated.' })
  async products(@Args(() => PageArgs) page: PageArgs, @Ctx() ctx: CatalogContext): Promise<ProductConnection> {
    const result = await this.catalog.listProducts(ctx, page);
    return { nodes: result.nodes.map(ProductNode.from), pageInfo: result.pageInfo };
  }

  @FieldResolver(() => [FeatureNode], { description: 'Its features, CORE and PREMIUM.' })
  features(@Root() product: ProductNode, @Ctx() ctx: CatalogContext): Promise<FeatureNode[]> {
    return ctx.loaders.featuresOfProduct.load(product.id);
  }

  @Mutation(() => ProductNode, { description: 'A product with its features (platform admins).' })
  async createProduct(
    @Arg('input', () => CreateProductInput, {
      description: 'The product and its features; CONFLICT when its key or a feature key is taken.',
    })
    input: CreateProductInput,
    @Ctx() ctx: CatalogContext,
  ): Promise<ProductNode> {
    return ProductNode.from(await this.catalog.createProduct(ctx, input));
  }

  @Mutation(() => FeatureNode, { description: 'Adds a feature to a product (platform admins).' })
  async addFeature(
    @Arg('productId', () => ID, { description: 'The product to add it to.' }) productId: string,
    @Arg('input', () => FeatureInput, { description: 'The feature; CONFLICT when the product has its key already.' }) input: FeatureInput,
    @Ctx() ctx: CatalogContext,
  ): Promise<FeatureNode> {
    return FeatureNode.from(await this.catalog.addFeature(ctx, productId, input));
  }
}

@Resolver(() => PlanNode)
export class PlanResolver {
  constructor(private readonly catalog: CatalogService) {}

  @Query(() => PlanNode, { description: 'One plan by id; NOT_FOUND when there is none.' })
  async plan(@Arg('id', () => ID, { description: "The plan's id." }) id: string, @Ctx() ctx: CatalogContext): Promise<PlanNode> {
    return PlanNode.from(await this.catalog.getPlan(ctx, id));
  }

  @Query(() => PlanConnection, { description: 'Plans, oldest first, filtered and paginated.' })
  async plans(
    @Arg('filter', () => PlanFilter, { nullable: true, description: 'Which plans; omitted, all.' }) filter: PlanFilter | null,
    @Args(() => PageArgs) page: PageArgs,
    @Ctx() ctx: CatalogContext,
  ): Promise<PlanConnection> {
    const result = await this.catalog.listPlans(ctx, filter ?? {}, page);
    return { nodes: result.nodes.map(PlanNode.from), pageInfo: result.pageInfo };
  }

  @FieldResolver(() => ProductNode, { description: 'The product the plan licenses.' })
  async product(@Root() plan: PlanNode, @Ctx() ctx: CatalogContext): Promise<ProductNode> {
    return (await ctx.loaders.product.load(plan.productId))!;
  }

  @FieldResolver(() => [FeatureNode], { description: 'The features the plan includes (its licenses are entitled to them).' })
  features(@Root() plan: PlanNode, @Ctx() ctx: CatalogContext): Promise<FeatureNode[]> {
    return ctx.loaders.featuresOfPlan.load(plan.id);
  }

  @Mutation(() => PlanNode, { description: 'A license template (platform admins).' })
  async createPlan(
    @Arg('input', () => CreatePlanInput, {
      description: 'The plan; CONFLICT when its key is taken, BAD_USER_INPUT for a feature key the product lacks.',
    })
    input: CreatePlanInput,
    @Ctx() ctx: CatalogContext,
  ): Promise<PlanNode> {
    return PlanNode.from(await this.catalog.createPlan(ctx, input));
  }
}
