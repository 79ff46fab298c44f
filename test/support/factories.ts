import {
  CreateApiTokenDocument,
  CreateOrganizationDocument,
  type CreatePlanInput,
  CreatePlanDocument,
  CreateProductDocument,
  type IssueLicenseInput,
  IssueLicenseDocument,
  type LicenseType,
  type Role,
} from '../generated/graphql';
import type { GraphQLApi } from './server';

let sequence = 0;
/** A name no other test in the run uses. */
export const unique = (prefix: string) => `${prefix}-${process.pid}-${++sequence}`;

export async function organization(t: GraphQLApi, name = unique('org')) {
  return (await t.ok(CreateOrganizationDocument, { input: { name } })).createOrganization;
}

/** A product with one core and two premium features. */
export async function product(t: GraphQLApi) {
  return (
    await t.ok(CreateProductDocument, {
      input: {
        key: unique('product'),
        name: 'AINexLayer Platform',
        features: [
          { key: 'core.inference', name: 'Inference', tier: 'CORE' },
          { key: 'premium.analytics', name: 'Analytics', tier: 'PREMIUM' },
          { key: 'premium.sso', name: 'Single sign-on', tier: 'PREMIUM' },
        ],
      },
    })
  ).createProduct;
}

const DEFAULT_LIMITS: Record<LicenseType, CreatePlanInput['limits']> = {
  SUBSCRIPTION: { storageBytes: 10 * 1024 ** 3, apiCallsPerPeriod: 1_000_000 },
  USER: { namedUsers: 5 },
  CONCURRENT: { concurrentSessions: 3 },
  SITE: {},
  FEATURE: {},
};

export async function plan(t: GraphQLApi, productId: string, licenseType: LicenseType, overrides: Partial<CreatePlanInput> = {}) {
  return (
    await t.ok(CreatePlanDocument, {
      input: {
        productId,
        key: unique(`plan-${licenseType.toLowerCase()}`),
        name: `${licenseType} plan`,
        licenseType,
        termDays: 365,
        gracePeriodDays: 7,
        limits: DEFAULT_LIMITS[licenseType],
        featureKeys: ['premium.analytics'],
        ...overrides,
      },
    })
  ).createPlan;
}

export interface Licensed {
  organizationId: string;
  productId: string;
  planId: string;
  licenseId: string;
  key: string;
}

/** The seed chain: an organization, a product, a plan of the type, and a license issued from it. */
export async function licensed(
  t: GraphQLApi,
  type: LicenseType,
  license: Partial<IssueLicenseInput> = {},
  planOverrides: Partial<CreatePlanInput> = {},
): Promise<Licensed> {
  const org = license.organizationId ? { id: license.organizationId } : await organization(t);
  const prod = await product(t);
  const p = await plan(t, prod.id, type, planOverrides);
  const site = type === 'SITE' ? { site: { domains: ['example.com'], cidrs: ['10.20.0.0/16'] } } : {};
  const issued = (await t.ok(IssueLicenseDocument, { input: { organizationId: org.id, planId: p.id, ...site, ...license } })).issueLicense;
  return { organizationId: org.id, productId: prod.id, planId: p.id, licenseId: issued.license.id, key: issued.key };
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
