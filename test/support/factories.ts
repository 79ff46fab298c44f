import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/knex';
import type { Operation } from '../../src/common/operation';
import { CreatePlanInput as PlanInput, CreateProductInput as ProductInput } from '../../src/modules/catalog/catalog.types';
import { LimitsInput, OverageInput } from '../../src/modules/catalog/terms.types';
import { IssueLicenseInput as LicenseInput, SiteInput } from '../../src/modules/license/license.types';
import {
  CreateApiTokenDocument,
  CreateOrganizationDocument,
  type CreatePlanInput,
  CreatePlanDocument,
  CreateProductDocument,
  type IssueLicenseInput,
  IssueLicenseDocument,
  SetThresholdRuleDocument,
  type LicenseType,
  type Role,
} from '../generated/graphql';
import type { GraphQLApi, TestServer } from './server';

let sequence = 0;
/** A name no other test in the run uses. */
export const unique = (prefix: string) => `${prefix}-${process.pid}-${++sequence}`;

export async function organization(t: GraphQLApi, name = unique('org')) {
  return (await t.ok(CreateOrganizationDocument, { input: { name } })).createOrganization;
}

/** What `product` creates: one core and two premium features. */
const productInput = () => ({
  key: unique('product'),
  name: 'AINexLayer Platform',
  features: [
    { key: 'core.inference', name: 'Inference', tier: 'CORE' as const },
    { key: 'premium.analytics', name: 'Analytics', tier: 'PREMIUM' as const },
    { key: 'premium.sso', name: 'Single sign-on', tier: 'PREMIUM' as const },
  ],
});

/** A product with one core and two premium features. */
export async function product(t: GraphQLApi) {
  return (await t.ok(CreateProductDocument, { input: productInput() })).createProduct;
}

const DEFAULT_LIMITS: Record<LicenseType, CreatePlanInput['limits']> = {
  SUBSCRIPTION: { storageBytes: 10 * 1024 ** 3, apiCallsPerPeriod: 1_000_000 },
  USER: { namedUsers: 5 },
  CONCURRENT: { concurrentSessions: 3 },
  SITE: {},
  FEATURE: {},
};

const planInput = (productId: string, licenseType: LicenseType, overrides: Partial<CreatePlanInput>): CreatePlanInput => ({
  productId,
  key: unique(`plan-${licenseType.toLowerCase()}`),
  name: `${licenseType} plan`,
  licenseType,
  termDays: 365,
  gracePeriodDays: 7,
  limits: DEFAULT_LIMITS[licenseType],
  featureKeys: ['premium.analytics'],
  ...overrides,
});

export async function plan(t: GraphQLApi, productId: string, licenseType: LicenseType, overrides: Partial<CreatePlanInput> = {}) {
  return (await t.ok(CreatePlanDocument, { input: planInput(productId, licenseType, overrides) })).createPlan;
}

export interface Licensed {
  organizationId: string;
  productId: string;
  planId: string;
  licenseId: string;
  key: string;
}

/**
 * The seed chain: an organization, a product, a plan of the type, and a license issued from it. On a server of this
 * process it is made through the services, as the platform admin, in one transaction; on another, over HTTP.
 */
export async function licensed(
  t: GraphQLApi,
  type: LicenseType,
  license: Partial<IssueLicenseInput> = {},
  planOverrides: Partial<CreatePlanInput> = {},
): Promise<Licensed> {
  const site = type === 'SITE' ? { site: { domains: ['example.com'], cidrs: ['10.20.0.0/16'] } } : {};
  if ('server' in t) return licensedInProcess(t as TestServer, type, { ...site, ...license }, planOverrides);
  const org = license.organizationId ? { id: license.organizationId } : await organization(t);
  const prod = await product(t);
  const p = await plan(t, prod.id, type, planOverrides);
  const issued = (await t.ok(IssueLicenseDocument, { input: { organizationId: org.id, planId: p.id, ...site, ...license } })).issueLicense;
  return { organizationId: org.id, productId: prod.id, planId: p.id, licenseId: issued.license.id, key: issued.key };
}

/** The platform admin's principal on each server, found once. */
const admins = new WeakMap<TestServer, Promise<Operation['principal']>>();

/** An operation of the platform admin, as a request of its token would make it. */
export async function adminOperation(t: TestServer): Promise<Operation> {
  let principal = admins.get(t);
  if (!principal) {
    principal = t.server.services.tokens.authenticate(`Bearer ${t.admin}`);
    admins.set(t, principal);
  }
  return { principal: await principal, requestId: `fixture-${randomUUID()}`, em: t.server.orm.em.fork() as EntityManager };
}

/** An input of the API as its resolver gets it: an instance of its class (defaults set), dates parsed. */
function inputOf<T extends object>(kind: new () => T, values: object): T {
  return Object.assign(new kind(), values);
}

async function licensedInProcess(
  t: TestServer,
  type: LicenseType,
  license: Partial<IssueLicenseInput>,
  planOverrides: Partial<CreatePlanInput>,
): Promise<Licensed> {
  const { organizations, catalog, licenses } = t.server.services;
  const operation = await adminOperation(t);
  return operation.em.transactional(async (em) => {
    const op = { ...operation, em };
    const organizationId = license.organizationId ?? (await organizations.create(op, { name: unique('org') })).id;
    const product = await catalog.createProduct(op, inputOf(ProductInput, productInput()));
    const { limits, overage, ...planRest } = planInput(product.id, type, planOverrides);
    const plan = await catalog.createPlan(
      op,
      inputOf(PlanInput, {
        ...planRest,
        limits: limits && inputOf(LimitsInput, limits),
        overage: overage && inputOf(OverageInput, overage),
      }),
    );
    const date = (value: unknown) => (typeof value === 'string' ? new Date(value) : value);
    const issued = await licenses.issue(
      op,
      inputOf(LicenseInput, {
        ...license,
        organizationId,
        planId: plan.id,
        startsAt: date(license.startsAt),
        expiresAt: date(license.expiresAt),
        limits: license.limits && inputOf(LimitsInput, license.limits),
        overage: license.overage && inputOf(OverageInput, license.overage),
        site: license.site && inputOf(SiteInput, license.site),
      }),
    );
    return { organizationId, productId: product.id, planId: plan.id, licenseId: issued.license.id, key: issued.key };
  });
}

/** `count` more licenses of a seed's organization and plan, as the plan makes them, in one transaction (in process). */
export async function moreLicenses(t: TestServer, seed: Licensed, count: number): Promise<{ licenseId: string; key: string }[]> {
  const operation = await adminOperation(t);
  return operation.em.transactional(async (em) => {
    const issued: { licenseId: string; key: string }[] = [];
    for (let i = 0; i < count; i++) {
      const input = inputOf(LicenseInput, { organizationId: seed.organizationId, planId: seed.planId });
      const { license, key } = await t.server.services.licenses.issue({ ...operation, em }, input);
      issued.push({ licenseId: license.id, key });
    }
    return issued;
  });
}

export interface IssuedToken {
  id: string;
  secret: string;
}

/** A token of a role, bound to an organization unless it is a platform admin's; created by `by` (the admin). */
export async function issueToken(t: GraphQLApi, role: Role, organizationId: string | null, by: string = t.admin): Promise<IssuedToken> {
  const { createApiToken } = await t.ok(
    CreateApiTokenDocument,
    { input: { name: unique(`token-${role.toLowerCase()}`), role, organizationId } },
    by,
  );
  return { id: createApiToken.apiToken.id, secret: createApiToken.secret };
}

/**
 * A SUBSCRIPTION license of 1,000 storage bytes whose storage raises an alert at each crossing of 80, 90 and 100 %
 * (its rule counts no repeats on an open alert): what the tests of alert delivery drive up and down.
 */
export async function alertingLicense(t: GraphQLApi, license: Partial<IssueLicenseInput> = {}): Promise<Licensed> {
  const issued = await licensed(t, 'SUBSCRIPTION', { limits: { storageBytes: 1000 }, ...license });
  await t.ok(SetThresholdRuleDocument, {
    input: { licenseId: issued.licenseId, metric: 'STORAGE_BYTES', thresholds: [80, 90, 100], repeatIntervalMinutes: 0 },
  });
  return issued;
}
