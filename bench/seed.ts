/** A GraphQL client for the set-up calls, and the data both benchmarks start from. */

interface GraphQLResponse<T> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** Posts one operation; any GraphQL error or non-200 status fails the set-up. */
export async function graphql<T>(url: string, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  }).catch((error: Error) => {
    // undici says only "fetch failed": what failed is its cause.
    throw new Error(`${error.message}: ${String((error.cause as Error | undefined)?.message ?? error.cause)}`);
  });
  const body = (await response.json()) as GraphQLResponse<T>;
  if (!response.ok || body.errors?.length || !body.data) {
    throw new Error(`set-up call failed (HTTP ${response.status}): ${JSON.stringify(body.errors ?? body)}`);
  }
  return body.data;
}

/** What the PostgreSQL validation floor is seeded with: the key it opens, the machine holding a lease, a feature. */
export const FLOOR_KEY = 'AINX-FLOOR';
export const FLOOR_FINGERPRINT = 'bench-workstation-0001';
export const FLOOR_FEATURE = 'copilot';

export const CHECKOUT = `mutation Checkout($key: String!, $fingerprint: String!, $user: String) {
  checkoutSeat(key: $key, fingerprint: $fingerprint, user: $user) { outcome seatsInUse lease { id } }
}`;

export const CHECKIN = `mutation Checkin($key: String!, $leaseId: ID!) {
  checkinSeat(key: $key, leaseId: $leaseId) { outcome }
}`;

export interface SeededLicense {
  key: string;
  licenseId: string;
}

/** What a seeded license is made of: its organization's name, its product and its plan (of that product). */
interface Seed {
  organization: string;
  product: Record<string, unknown>;
  plan: Record<string, unknown>;
}

/** The seed chain: an organization, a product, a plan of it, and one license issued from the plan. */
async function seedLicense(url: string, token: string, seed: Seed): Promise<SeededLicense> {
  const { createOrganization } = await graphql<{ createOrganization: { id: string } }>(
    url,
    'mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { id } }',
    { input: { name: seed.organization } },
    token,
  );
  const { createProduct } = await graphql<{ createProduct: { id: string } }>(
    url,
    'mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }',
    { input: seed.product },
    token,
  );
  const { createPlan } = await graphql<{ createPlan: { id: string } }>(
    url,
    'mutation($input: CreatePlanInput!) { createPlan(input: $input) { id } }',
    { input: { productId: createProduct.id, termDays: 365, ...seed.plan } },
    token,
  );
  const { issueLicense } = await graphql<{ issueLicense: { key: string; license: { id: string } } }>(
    url,
    'mutation($input: IssueLicenseInput!) { issueLicense(input: $input) { key license { id } } }',
    { input: { organizationId: createOrganization.id, planId: createPlan.id } },
    token,
  );
  return { key: issueLicense.key, licenseId: issueLicense.license.id };
}

/**
 * A product with a CORE and a PREMIUM feature, a CONCURRENT plan including both, and one license issued from it:
 * what a customer's client application holds. `feature` is the premium feature it entitles.
 */
export async function seedConcurrentLicense(
  url: string,
  token: string,
  concurrentSessions: number,
): Promise<SeededLicense & { feature: string }> {
  const license = await seedLicense(url, token, {
    organization: 'Bench Industries',
    product: {
      key: 'studio',
      name: 'Studio',
      features: [
        { key: 'export', name: 'Export', tier: 'CORE' },
        { key: 'copilot', name: 'Copilot', tier: 'PREMIUM' },
      ],
    },
    plan: {
      key: 'floating',
      name: 'Floating',
      licenseType: 'CONCURRENT',
      limits: { concurrentSessions },
      // Long enough that no lease expires during a run: expiry is not what is measured.
      leaseTtlSeconds: 600,
      featureKeys: ['export', 'copilot'],
    },
  });
  return { ...license, feature: 'copilot' };
}

/**
 * A SUBSCRIPTION license with a storage limit: usage reported against it raises threshold alerts, each crossing a new
 * one (its rule counts no repeats on an open alert), so that every round of a benchmark delivers an alert.
 */
export async function seedStorageLicense(url: string, token: string, storageBytes: number): Promise<SeededLicense> {
  const license = await seedLicense(url, token, {
    organization: 'Bench Storage',
    product: { key: 'vault', name: 'Vault' },
    plan: { key: 'storage', name: 'Storage', licenseType: 'SUBSCRIPTION', limits: { storageBytes } },
  });
  await graphql(
    url,
    'mutation($input: ThresholdRuleInput!) { setThresholdRule(input: $input) { licenseId } }',
    { input: { licenseId: license.licenseId, metric: 'STORAGE_BYTES', thresholds: [80, 90, 100], repeatIntervalMinutes: 0 } },
    token,
  );
  return license;
}
