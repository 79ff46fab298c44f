import type { EntityManager } from '@mikro-orm/knex';
import type { Clock } from '../../common/clock';
import type { SqlGateway } from '../../db/sql';
import { AuditAction } from '../audit/audit-actions';
import { Permission } from '../../auth/roles';
import type { Operation } from '../../common/operation';
import { findPage, type Page, type PageArgs } from '../../common/pagination';
import { AppError } from '../../errors';
import type { AuditService } from '../audit/audit.service';
import { OveragePolicy } from '../../kernel/license.enums';
import type { CreatePlanInput, CreateProductInput, FeatureInput, PlanFilter } from './catalog.types';
import { Feature } from './feature.entity';
import { Plan } from './plan.entity';
import { Product } from './product.entity';
import type { OverageInput } from './terms.types';

const productSnapshot = (p: Product, features: Feature[]) => ({
  id: p.id,
  key: p.key,
  name: p.name,
  features: features.map((f) => ({ key: f.key, tier: f.tier })),
});

/** Checks an overage policy for coherence; shared by plans and licenses. */
export function checkOverage(overage: OverageInput | null | undefined): { policy: OveragePolicy; percent: number | null } {
  if (!overage) return { policy: OveragePolicy.NONE, percent: null };
  if (overage.policy === OveragePolicy.PERCENT && !overage.percent) {
    throw AppError.badInput('The PERCENT overage policy needs a percent.', 'overage.percent');
  }
  if (overage.policy !== OveragePolicy.PERCENT && overage.percent) {
    throw AppError.badInput(`The ${overage.policy} overage policy takes no percent.`, 'overage.percent');
  }
  return { policy: overage.policy, percent: overage.percent ?? null };
}

/**
 * Responsible for the catalog: products, their features, and plans (license templates). The catalog is the
 * vendor's: every authenticated caller reads it, platform admins change it. Talks to the audit log.
 */
export class CatalogService {
  constructor(
    private readonly db: SqlGateway,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  private requireRead(op: Operation): void {
    op.principal.requireActor();
  }

  async getProduct(op: Operation, id: string): Promise<Product> {
    this.requireRead(op);
    const product = await op.em.findOne(Product, { id });
    if (!product) throw AppError.notFound('Product', id);
    return product;
  }

  listProducts(op: Operation, page: PageArgs): Promise<Page<Product>> {
    this.requireRead(op);
    return findPage(op.em, Product, {}, page, (p) => p);
  }

  async getPlan(op: Operation, id: string): Promise<Plan> {
    this.requireRead(op);
    const plan = await op.em.findOne(Plan, { id });
    if (!plan) throw AppError.notFound('Plan', id);
    return plan;
  }

  listPlans(op: Operation, filter: PlanFilter, page: PageArgs): Promise<Page<Plan>> {
    this.requireRead(op);
    const where: Record<string, unknown> = {};
    if (filter.productId) where.product = filter.productId;
    if (filter.licenseType) where.licenseType = filter.licenseType;
    return findPage(op.em, Plan, where, page, (p) => p);
  }

  productsByIds(em: EntityManager, ids: readonly string[]): Promise<Product[]> {
    return em.find(Product, { id: { $in: [...ids] } });
  }

  plansByIds(em: EntityManager, ids: readonly string[]): Promise<Plan[]> {
    return em.find(Plan, { id: { $in: [...ids] } });
  }

  featuresOfProducts(em: EntityManager, productIds: readonly string[]): Promise<Feature[]> {
    return em.find(Feature, { product: { $in: [...productIds] } }, { orderBy: { key: 'asc' } });
  }

  /** The features of each plan, in one query for all of them. */
  async featuresOfPlans(em: EntityManager, planIds: readonly string[]): Promise<Map<string, Feature[]>> {
    const plans = await em.find(Plan, { id: { $in: [...planIds] } }, { populate: ['features'] });
    return new Map(plans.map((p) => [p.id, p.features.getItems()]));
  }

  async createProduct(op: Operation, input: CreateProductInput): Promise<Product> {
    op.principal.require(Permission.CATALOG_MANAGE);
    const keys = input.features.map((f) => f.key);
    const duplicate = keys.find((k, i) => keys.indexOf(k) !== i);
    if (duplicate) throw AppError.badInput(`Feature key "${duplicate}" is given twice.`, 'features');
    return this.db.withEntities(op.em, async (em, tx) => {
      if (await em.count(Product, { key: input.key })) throw AppError.conflict(`A product with key "${input.key}" exists already.`);
      const product = em.create(Product, { key: input.key, name: input.name.trim() });
      const features = input.features.map((f) => em.create(Feature, { product, key: f.key, name: f.name.trim(), tier: f.tier }));
      await this.audit.record(tx, {
        actor: op.principal.requireActor(),
        requestId: op.requestId,
        at: this.clock.now(),
        organizationId: null,
        action: AuditAction.PRODUCT_CREATE,
        objectType: 'Product',
        objectId: product.id,
        after: productSnapshot(product, features),
      });
      return product;
    });
  }

  async addFeature(op: Operation, productId: string, input: FeatureInput): Promise<Feature> {
    op.principal.require(Permission.CATALOG_MANAGE);
    return this.db.withEntities(op.em, async (em, tx) => {
      const product = await em.findOne(Product, { id: productId });
      if (!product) throw AppError.notFound('Product', productId);
      if (await em.count(Feature, { product, key: input.key })) {
        throw AppError.conflict(`Product "${product.key}" has a feature "${input.key}" already.`);
      }
      const feature = em.create(Feature, { product, key: input.key, name: input.name.trim(), tier: input.tier });
      await this.audit.record(tx, {
        actor: op.principal.requireActor(),
        requestId: op.requestId,
        at: this.clock.now(),
        organizationId: null,
        action: AuditAction.FEATURE_CREATE,
        objectType: 'Feature',
        objectId: feature.id,
        after: { id: feature.id, productId, key: feature.key, name: feature.name, tier: feature.tier },
      });
      return feature;
    });
  }

  /** Resolves feature keys of one product, failing on any unknown key. */
  async resolveFeatures(em: EntityManager, productId: string, keys: readonly string[], field: string): Promise<Feature[]> {
    if (!keys.length) return [];
    const unique = [...new Set(keys)];
    const features = await em.find(Feature, { product: productId, key: { $in: unique } });
    const unknown = unique.filter((k) => !features.some((f) => f.key === k));
    if (unknown.length) throw AppError.badInput(`Unknown feature key(s) for this product: ${unknown.join(', ')}.`, field);
    return features;
  }

  async createPlan(op: Operation, input: CreatePlanInput): Promise<Plan> {
    op.principal.require(Permission.CATALOG_MANAGE);
    const overage = checkOverage(input.overage);
    return this.db.withEntities(op.em, async (em, tx) => {
      const product = await em.findOne(Product, { id: input.productId });
      if (!product) throw AppError.notFound('Product', input.productId);
      if (await em.count(Plan, { key: input.key })) throw AppError.conflict(`A plan with key "${input.key}" exists already.`);
      const features = await this.resolveFeatures(em, product.id, input.featureKeys, 'featureKeys');
      const limits = input.limits ?? {};
      const plan = em.create(Plan, {
        product,
        key: input.key,
        name: input.name.trim(),
        licenseType: input.licenseType,
        termDays: input.termDays ?? null,
        gracePeriodDays: input.gracePeriodDays,
        autoRenew: input.autoRenew,
        namedUsers: limits.namedUsers ?? null,
        concurrentSessions: limits.concurrentSessions ?? null,
        storageBytes: limits.storageBytes ?? null,
        apiCallsPerPeriod: limits.apiCallsPerPeriod ?? null,
        ...(limits.apiCallPeriod ? { apiCallPeriod: limits.apiCallPeriod } : {}),
        overagePolicy: overage.policy,
        overagePercent: overage.percent,
        leaseTtlSeconds: input.leaseTtlSeconds,
        clientCallsPerMinute: input.clientCallsPerMinute ?? null,
        pricePerSeatCents: input.pricePerSeatCents ?? null,
        pricePerPeriodCents: input.pricePerPeriodCents ?? null,
        currency: input.currency,
        certificateMaxDays: input.certificateMaxDays,
        borrowMaxDays: input.borrowMaxDays,
      });
      plan.features.set(features);
      await this.audit.record(tx, {
        actor: op.principal.requireActor(),
        requestId: op.requestId,
        at: this.clock.now(),
        organizationId: null,
        action: AuditAction.PLAN_CREATE,
        objectType: 'Plan',
        objectId: plan.id,
        after: { ...input, id: plan.id },
      });
      return plan;
    });
  }
}
