import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  AddFeatureDocument,
  AssignSeatDocument,
  CheckoutSeatDocument,
  CreateOrganizationDocument,
  CreatePlanDocument,
  type CreatePlanInput,
  CreateProductDocument,
  IssueLicenseDocument,
  type IssueLicenseInput,
  LeasesDocument,
  LicenseDocument,
  type LicenseType,
  type LicenseFilter,
  LicensesDocument,
  type LicensesQuery,
  OrganizationDocument,
  OrganizationsDocument,
  PlanDocument,
  PlansDocument,
  ProductDocument,
  RenewLicenseDocument,
  ResumeLicenseDocument,
  RevokeLicenseDocument,
  SeatsDocument,
  SuspendLicenseDocument,
  UpdateOrganizationDocument,
  ValidateLicenseDocument,
} from './generated/graphql';
import { licensed, organization, plan, product, unique } from './support/factories';
import { describeEachDatabase, type TestServer } from './support/server';

const DAY_MS = 86_400_000;
const KEY_FORMAT = /^AINX(-[0-9A-HJKMNP-TV-Z]{8}){4}$/;
/** Well formed, but never issued. */
const UNKNOWN_KEY = 'AINX-00000000-00000000-00000000-00000000';
const UNKNOWN_ID = '01900000-0000-7000-8000-000000000000';
const daysFromNow = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString();
/** One instant, taken once: two calls of daysFromNow may fall in different milliseconds. */
const TEN_DAYS_ON = daysFromNow(10);

async function licensesOf(t: TestServer, organizationId: string) {
  return (await t.ok(LicensesDocument, { filter: { organizationId }, first: 200 })).licenses.nodes;
}

/** The premium features a license lists; whether it also lists the core features of its product is left open. */
const premiumKeys = (features: readonly { key: string; tier: string }[]) =>
  features
    .filter((f) => f.tier === 'PREMIUM')
    .map((f) => f.key)
    .sort();

async function licenseOf(t: TestServer, id: string) {
  return (await t.ok(LicenseDocument, { id })).license;
}

/** An organization with a product and a plan of the type, ready to issue from. */
async function catalogFor(t: TestServer, type: LicenseType, planOverrides: Partial<CreatePlanInput> = {}) {
  const org = await organization(t);
  const prod = await product(t);
  const p = await plan(t, prod.id, type, planOverrides);
  return { organizationId: org.id, planId: p.id };
}

describeEachDatabase('licenses', (server) => {
  describe('organizations', () => {
    it('creates an organization, renames it and reads it back', async () => {
      const t = server();
      const name = unique('Acme');
      const created = (await t.ok(CreateOrganizationDocument, { input: { name: `  ${name}  ` } })).createOrganization;
      expect(created.name).toBe(name);
      expect(Date.parse(created.createdAt)).toBeLessThanOrEqual(t.clock.now().getTime());

      const renamed = (await t.ok(UpdateOrganizationDocument, { id: created.id, input: { name: `${name} GmbH` } })).updateOrganization;
      expect(renamed).toEqual({ id: created.id, name: `${name} GmbH` });
      expect((await t.ok(OrganizationDocument, { id: created.id })).organization).toEqual({ id: created.id, name: `${name} GmbH` });
    });

    it('lists the organizations whose name contains a part', async () => {
      const t = server();
      const tag = unique('Zephyr');
      const labs = await organization(t, `${tag} Labs`);
      const works = await organization(t, `The ${tag} Works`);
      await organization(t, unique('Unrelated'));
      const nodes = (await t.ok(OrganizationsDocument, { filter: { nameContains: tag } })).organizations.nodes;
      expect(nodes.map((o) => o.id)).toEqual([labs.id, works.id]);
    });

    it('matches the part of the name case-insensitively', async () => {
      const t = server();
      const tag = unique('Quokka');
      const org = await organization(t, `${tag} Industries`);
      const nodes = (await t.ok(OrganizationsDocument, { filter: { nameContains: tag.toLowerCase() } })).organizations.nodes;
      expect(nodes.map((o) => o.id)).toEqual([org.id]);
      const upper = (await t.ok(OrganizationsDocument, { filter: { nameContains: 'INDUSTRIES' } })).organizations.nodes;
      expect(upper.map((o) => o.id)).toContain(org.id);
    });

    it('searches for "%" and "_" in names literally, not as wildcards', async () => {
      const t = server();
      const tag = unique('Literal');
      const underscore = await organization(t, `${tag} R&D_Lab`);
      await organization(t, `${tag} R&D Lab`);
      const percent = await organization(t, `${tag} 100% Pure`);
      const ids = async (nameContains: string) =>
        (await t.ok(OrganizationsDocument, { filter: { nameContains }, first: 200 })).organizations.nodes.map((o) => o.id);
      expect(await ids('R&D_Lab')).toEqual([underscore.id]);
      expect(await ids('100% Pure')).toEqual([percent.id]);
      expect(await ids('%')).toEqual([percent.id]);
    });

    it('refuses a second organization of the same name, on creation and on rename', async () => {
      const t = server();
      const name = unique('Twin');
      const first = await organization(t, name);
      expect(await t.errorCode(CreateOrganizationDocument, { input: { name } })).toBe('CONFLICT');
      expect(await t.errorCode(CreateOrganizationDocument, { input: { name: ` ${name} ` } })).toBe('CONFLICT');
      const other = await organization(t);
      expect(await t.errorCode(UpdateOrganizationDocument, { id: other.id, input: { name } })).toBe('CONFLICT');

      const named = (await t.ok(OrganizationsDocument, { filter: { nameContains: name } })).organizations.nodes;
      expect(named).toEqual([{ id: first.id, name }]);
      expect((await t.ok(OrganizationDocument, { id: other.id })).organization.name).toBe(other.name);
    });

    it('refuses blank names and names over 200 characters, creating nothing', async () => {
      const t = server();
      const tag = unique('Long');
      expect(await t.errorCode(CreateOrganizationDocument, { input: { name: `${tag}${'x'.repeat(201 - tag.length)}` } })).toBe(
        'BAD_USER_INPUT',
      );
      expect(await t.errorCode(CreateOrganizationDocument, { input: { name: '   ' } })).toBe('BAD_USER_INPUT');
      expect((await t.ok(OrganizationsDocument, { filter: { nameContains: tag } })).organizations.nodes).toEqual([]);

      const org = await organization(t);
      expect(await t.errorCode(UpdateOrganizationDocument, { id: org.id, input: { name: 'y'.repeat(201) } })).toBe('BAD_USER_INPUT');
      expect((await t.ok(OrganizationDocument, { id: org.id })).organization.name).toBe(org.name);
      // 200 characters is still a name.
      const longest = `${tag}${'z'.repeat(200 - tag.length)}`;
      expect((await t.ok(CreateOrganizationDocument, { input: { name: longest } })).createOrganization.name).toBe(longest);
    });

    it('answers NOT_FOUND for an organization that does not exist', async () => {
      const t = server();
      expect(await t.errorCode(OrganizationDocument, { id: UNKNOWN_ID })).toBe('NOT_FOUND');
      expect(await t.errorCode(UpdateOrganizationDocument, { id: UNKNOWN_ID, input: { name: unique('ghost') } })).toBe('NOT_FOUND');
    });
  });

  describe('catalog', () => {
    it('creates a product with its features and adds one later', async () => {
      const t = server();
      const prod = await product(t);
      expect(prod.features.map((f) => [f.key, f.tier])).toEqual([
        ['core.inference', 'CORE'],
        ['premium.analytics', 'PREMIUM'],
        ['premium.sso', 'PREMIUM'],
      ]);
      const added = (
        await t.ok(AddFeatureDocument, { productId: prod.id, input: { key: 'audit.export', name: ' Export ', tier: 'PREMIUM' } })
      ).addFeature;
      expect(added).toMatchObject({ key: 'audit.export', name: 'Export', tier: 'PREMIUM' });
      const read = (await t.ok(ProductDocument, { id: prod.id })).product;
      expect(read.features.map((f) => f.key).sort()).toEqual(['audit.export', 'core.inference', 'premium.analytics', 'premium.sso']);
    });

    it('refuses duplicate keys: of products, of features within a product, and of plans', async () => {
      const t = server();
      const prod = await product(t);
      expect(await t.errorCode(CreateProductDocument, { input: { key: prod.key, name: 'Again' } })).toBe('CONFLICT');

      const key = unique('twice');
      const twice = [
        { key: 'same', name: 'One', tier: 'CORE' as const },
        { key: 'same', name: 'Two', tier: 'PREMIUM' as const },
      ];
      expect(await t.errorCode(CreateProductDocument, { input: { key, name: 'Twice', features: twice } })).toBe('BAD_USER_INPUT');
      expect(
        await t.errorCode(AddFeatureDocument, { productId: prod.id, input: { key: 'premium.sso', name: 'SSO', tier: 'PREMIUM' } }),
      ).toBe('CONFLICT');

      const p = await plan(t, prod.id, 'SUBSCRIPTION');
      expect(await t.errorCode(CreatePlanDocument, { input: { productId: prod.id, key: p.key, name: 'Again', licenseType: 'USER' } })).toBe(
        'CONFLICT',
      );

      // Nothing of it was made: the refused product's key is still free.
      expect((await t.ok(CreateProductDocument, { input: { key, name: 'Once' } })).createProduct.features).toEqual([]);
      const read = (await t.ok(ProductDocument, { id: prod.id })).product;
      expect(read.features.filter((f) => f.key === 'premium.sso')).toHaveLength(1);
      expect((await t.ok(PlansDocument, { filter: { productId: prod.id } })).plans.nodes.map((n) => n.id)).toEqual([p.id]);
    });

    it('refuses names over 200 characters and malformed keys, creating nothing', async () => {
      const t = server();
      const prod = await product(t);
      const long = 'n'.repeat(201);
      const key = unique('long');
      expect(await t.errorCode(CreateProductDocument, { input: { key, name: long } })).toBe('BAD_USER_INPUT');
      expect(await t.errorCode(CreateProductDocument, { input: { key: 'Upper Case', name: 'Bad key' } })).toBe('BAD_USER_INPUT');
      expect(await t.errorCode(AddFeatureDocument, { productId: prod.id, input: { key: 'long.name', name: long, tier: 'CORE' } })).toBe(
        'BAD_USER_INPUT',
      );
      expect(await t.errorCode(AddFeatureDocument, { productId: UNKNOWN_ID, input: { key: 'orphan', name: 'Orphan', tier: 'CORE' } })).toBe(
        'NOT_FOUND',
      );
      expect(
        await t.errorCode(CreatePlanDocument, { input: { productId: prod.id, key: unique('p'), name: long, licenseType: 'SUBSCRIPTION' } }),
      ).toBe('BAD_USER_INPUT');
      // The key is still free.
      expect((await t.ok(CreateProductDocument, { input: { key, name: 'Short' } })).createProduct.key).toBe(key);
      expect((await t.ok(ProductDocument, { id: prod.id })).product.features.map((f) => f.key)).not.toContain('long.name');
      expect((await t.ok(PlansDocument, { filter: { productId: prod.id } })).plans.nodes).toEqual([]);
    });

    it('allows the same feature key in two products', async () => {
      const t = server();
      const a = await product(t);
      const b = await product(t);
      expect(a.features.map((f) => f.key)).toEqual(b.features.map((f) => f.key));
      expect(a.features[0]!.id).not.toBe(b.features[0]!.id);
    });

    it('creates plans with their terms, limits, overage and features, and filters them', async () => {
      const t = server();
      const prod = await product(t);
      const created = (
        await t.ok(CreatePlanDocument, {
          input: {
            productId: prod.id,
            key: unique('plan-team'),
            name: 'Team',
            licenseType: 'USER',
            termDays: 30,
            gracePeriodDays: 3,
            leaseTtlSeconds: 120,
            limits: { namedUsers: 25, storageBytes: 5_000_000_000, apiCallsPerPeriod: 10_000, apiCallPeriod: 'DAY' },
            overage: { policy: 'PERCENT', percent: 20 },
            featureKeys: ['premium.sso'],
          },
        })
      ).createPlan;
      expect(created).toMatchObject({
        licenseType: 'USER',
        termDays: 30,
        gracePeriodDays: 3,
        leaseTtlSeconds: 120,
        limits: { namedUsers: 25, concurrentSessions: null, storageBytes: 5_000_000_000, apiCallsPerPeriod: 10_000, apiCallPeriod: 'DAY' },
        overage: { policy: 'PERCENT', percent: 20 },
        features: [{ key: 'premium.sso', tier: 'PREMIUM' }],
        product: { id: prod.id, key: prod.key },
      });
      expect((await t.ok(PlanDocument, { id: created.id })).plan).toMatchObject({ key: created.key, features: [{ key: 'premium.sso' }] });

      const concurrent = await plan(t, prod.id, 'CONCURRENT');
      const other = await product(t);
      await plan(t, other.id, 'USER');

      const ofProduct = (await t.ok(PlansDocument, { filter: { productId: prod.id } })).plans.nodes;
      expect(ofProduct.map((p) => p.id)).toEqual([created.id, concurrent.id]);
      const userPlans = (await t.ok(PlansDocument, { filter: { productId: prod.id, licenseType: 'USER' } })).plans.nodes;
      expect(userPlans.map((p) => p.id)).toEqual([created.id]);
      const allUserPlans = (await t.ok(PlansDocument, { filter: { licenseType: 'USER' }, first: 200 })).plans.nodes;
      expect(allUserPlans.every((p) => p.licenseType === 'USER')).toBe(true);
      expect(allUserPlans.map((p) => p.id)).not.toContain(concurrent.id);
    });

    it('refuses plans with unknown features, an incoherent overage, or an unknown product', async () => {
      const t = server();
      const prod = await product(t);
      const base = { productId: prod.id, name: 'Bad', licenseType: 'SUBSCRIPTION' as const, termDays: 30 };
      expect(await t.errorCode(CreatePlanDocument, { input: { ...base, key: unique('p'), featureKeys: ['no.such'] } })).toBe(
        'BAD_USER_INPUT',
      );
      expect(await t.errorCode(CreatePlanDocument, { input: { ...base, key: unique('p'), overage: { policy: 'PERCENT' } } })).toBe(
        'BAD_USER_INPUT',
      );
      expect(
        await t.errorCode(CreatePlanDocument, { input: { ...base, key: unique('p'), overage: { policy: 'NONE', percent: 10 } } }),
      ).toBe('BAD_USER_INPUT');
      expect(await t.errorCode(CreatePlanDocument, { input: { ...base, key: unique('p'), limits: { namedUsers: -1 } } })).toBe(
        'BAD_USER_INPUT',
      );
      expect(await t.errorCode(CreatePlanDocument, { input: { ...base, key: unique('p'), productId: UNKNOWN_ID } })).toBe('NOT_FOUND');
      expect((await t.ok(PlansDocument, { filter: { productId: prod.id } })).plans.nodes).toEqual([]);
    });
  });

  describe('issuing', () => {
    it('issues a SUBSCRIPTION license with the term, grace period, limits and features of its plan', async () => {
      const t = server();
      const before = t.clock.now().getTime();
      const { organizationId, productId, planId, licenseId } = await licensed(t, 'SUBSCRIPTION');
      const license = await licenseOf(t, licenseId);
      expect(license).toMatchObject({
        organizationId,
        productId,
        planId,
        type: 'SUBSCRIPTION',
        status: 'ACTIVE',
        statusReason: null,
        leaseTtlSeconds: 600,
        limits: {
          namedUsers: null,
          concurrentSessions: null,
          storageBytes: 10 * 1024 ** 3,
          apiCallsPerPeriod: 1_000_000,
          apiCallPeriod: 'MONTH',
        },
        overage: { policy: 'NONE', percent: null },
        site: { domains: [], cidrs: [] },
        seatsInUse: 0,
      });
      expect(premiumKeys(license.features)).toEqual(['premium.analytics']);
      const { startsAt, expiresAt, graceEndsAt, gracePeriodDays, termDays, autoRenew } = license.term;
      expect(Date.parse(startsAt)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(startsAt)).toBeLessThanOrEqual(t.clock.now().getTime());
      expect(Date.parse(expiresAt!) - Date.parse(startsAt)).toBe(365 * DAY_MS);
      expect(Date.parse(graceEndsAt!) - Date.parse(expiresAt!)).toBe(7 * DAY_MS);
      expect({ gracePeriodDays, termDays, autoRenew }).toEqual({ gracePeriodDays: 7, termDays: 365, autoRenew: false });
    });

    it('issues a USER license with its named users', async () => {
      const t = server();
      const { licenseId } = await licensed(t, 'USER', { limits: { namedUsers: 12 } });
      expect(await licenseOf(t, licenseId)).toMatchObject({ type: 'USER', limits: { namedUsers: 12, concurrentSessions: null } });
      const fromPlan = await licensed(t, 'USER');
      expect((await licenseOf(t, fromPlan.licenseId)).limits.namedUsers).toBe(5);
    });

    it('issues a CONCURRENT license with its sessions and lease lifetime', async () => {
      const t = server();
      const { licenseId } = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 8 }, leaseTtlSeconds: 90 });
      expect(await licenseOf(t, licenseId)).toMatchObject({
        type: 'CONCURRENT',
        leaseTtlSeconds: 90,
        limits: { namedUsers: null, concurrentSessions: 8 },
      });
    });

    it('issues a SITE license with its domains and CIDR ranges, normalized and without duplicates', async () => {
      const t = server();
      const { licenseId } = await licensed(t, 'SITE', {
        site: { domains: ['Example.COM', '@corp.example.org', 'example.com'], cidrs: [' 10.20.0.0/16 ', '2001:db8::/32', '10.20.0.0/16'] },
      });
      expect((await licenseOf(t, licenseId)).site).toEqual({
        domains: ['example.com', 'corp.example.org'],
        cidrs: ['10.20.0.0/16', '2001:db8::/32'],
      });
    });

    it('issues a FEATURE license with the features given, replacing those of the plan', async () => {
      const t = server();
      const { licenseId } = await licensed(t, 'FEATURE', { featureKeys: ['premium.sso', 'premium.analytics', 'premium.sso'] });
      const license = await licenseOf(t, licenseId);
      expect(license.type).toBe('FEATURE');
      expect(premiumKeys(license.features)).toEqual(['premium.analytics', 'premium.sso']);
    });

    it('issues a license with no premium feature when given an empty list', async () => {
      const t = server();
      const { licenseId } = await licensed(t, 'SUBSCRIPTION', { featureKeys: [] });
      expect(premiumKeys((await licenseOf(t, licenseId)).features)).toEqual([]);
    });

    it('stores and returns an explicit term, grace period, auto-renewal and overage policy', async () => {
      const t = server();
      const startsAt = daysFromNow(2);
      const expiresAt = daysFromNow(92);
      const issued = (
        await t.ok(IssueLicenseDocument, {
          input: {
            ...(await catalogFor(t, 'SUBSCRIPTION')),
            startsAt,
            expiresAt,
            termDays: 90,
            gracePeriodDays: 14,
            autoRenew: true,
            overage: { policy: 'PERCENT', percent: 25 },
            limits: { apiCallsPerPeriod: 500, apiCallPeriod: 'DAY' },
          },
        })
      ).issueLicense.license;
      const expected = {
        term: {
          startsAt,
          expiresAt,
          termDays: 90,
          gracePeriodDays: 14,
          autoRenew: true,
          graceEndsAt: new Date(Date.parse(expiresAt) + 14 * DAY_MS).toISOString(),
        },
        overage: { policy: 'PERCENT', percent: 25 },
        limits: { apiCallsPerPeriod: 500, apiCallPeriod: 'DAY', storageBytes: 10 * 1024 ** 3 },
      };
      expect(issued).toMatchObject(expected);
      expect(await licenseOf(t, issued.id)).toMatchObject(expected);

      const always = (
        await t.ok(IssueLicenseDocument, { input: { ...(await catalogFor(t, 'SUBSCRIPTION')), overage: { policy: 'ALWAYS' } } })
      ).issueLicense.license;
      expect(always.overage).toEqual({ policy: 'ALWAYS', percent: null });
    });

    it('issues a license of another type than its plan', async () => {
      const t = server();
      const issued = await licensed(t, 'SUBSCRIPTION', { type: 'CONCURRENT', limits: { concurrentSessions: 2 } });
      expect(await licenseOf(t, issued.licenseId)).toMatchObject({ type: 'CONCURRENT', limits: { concurrentSessions: 2 } });
    });

    it('returns the key once, in its format, and afterwards only its last four characters', async () => {
      const t = server();
      const issued = (await t.ok(IssueLicenseDocument, { input: await catalogFor(t, 'SUBSCRIPTION') })).issueLicense;
      expect(issued.key).toMatch(KEY_FORMAT);
      expect(issued.license.keyHint).toBe(issued.key.slice(-4));

      const read = await t.request(LicenseDocument, { id: issued.license.id });
      expect(read.data?.license.keyHint).toBe(issued.key.slice(-4));
      const list = await t.request(LicensesDocument, { filter: { organizationId: issued.license.organizationId } });
      expect(list.data?.licenses.nodes.map((l) => l.keyHint)).toEqual([issued.key.slice(-4)]);
      for (const response of [read, list]) {
        const body = JSON.stringify(response);
        expect(body).not.toContain(issued.key);
        expect(body).not.toContain(issued.key.slice(5));
      }

      const askForKey = parse('query ($id: ID!) { license(id: $id) { id key } }') as TypedDocumentNode<unknown, { id: string }>;
      expect(await t.errorCode(askForKey, { id: issued.license.id })).toBe('GRAPHQL_VALIDATION_FAILED');
    });

    it('issues a different key for every license', async () => {
      const t = server();
      const input = await catalogFor(t, 'SUBSCRIPTION');
      const keys = await Promise.all([1, 2, 3, 4].map(async () => (await t.ok(IssueLicenseDocument, { input })).issueLicense.key));
      expect(new Set(keys).size).toBe(4);
    });

    it.each([
      ['USER without named users', 'USER', { limits: {} }, {}],
      ['USER with zero named users', 'USER', {}, { limits: { namedUsers: 0 } }],
      ['CONCURRENT without concurrent sessions', 'CONCURRENT', { limits: {} }, {}],
      ['SITE without site identifiers', 'SITE', {}, {}],
      ['SITE with empty site identifiers', 'SITE', {}, { site: { domains: [], cidrs: [] } }],
      ['FEATURE without features', 'FEATURE', { featureKeys: [] }, {}],
      ['FEATURE with an empty list of features', 'FEATURE', {}, { featureKeys: [] }],
      ['SUBSCRIPTION without a term', 'SUBSCRIPTION', { termDays: null }, {}],
    ] satisfies [string, LicenseType, Partial<CreatePlanInput>, Partial<IssueLicenseInput>][])(
      'refuses a %s, issuing nothing',
      async (_title, type, planOverrides, licenseInput) => {
        const t = server();
        const ids = await catalogFor(t, type, planOverrides);
        const response = await t.request(IssueLicenseDocument, { input: { ...ids, ...licenseInput } });
        expect(response.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
        expect(response.errors?.[0]?.message).not.toMatch(/internal/i);
        expect(await licensesOf(t, ids.organizationId)).toEqual([]);
      },
    );

    it('issues a perpetual license from a plan without a term, unless it is a SUBSCRIPTION', async () => {
      const t = server();
      const { licenseId } = await licensed(t, 'USER', {}, { termDays: null });
      expect((await licenseOf(t, licenseId)).term).toMatchObject({ expiresAt: null, graceEndsAt: null, termDays: null });
      const subscription = await licensed(t, 'SUBSCRIPTION', { expiresAt: daysFromNow(30) }, { termDays: null });
      expect(Date.parse((await licenseOf(t, subscription.licenseId)).term.expiresAt!)).toBeGreaterThan(t.clock.now().getTime());
    });

    it.each([
      ['a negative number of named users', { limits: { namedUsers: -1 } }],
      ['a negative number of sessions', { limits: { concurrentSessions: -5 } }],
      ['negative storage', { limits: { storageBytes: -1 } }],
      ['a negative grace period', { gracePeriodDays: -1 }],
      ['a zero-day term', { termDays: 0 }],
      ['an end before the start', { startsAt: daysFromNow(10), expiresAt: daysFromNow(5) }],
      ['an end equal to the start', { startsAt: TEN_DAYS_ON, expiresAt: TEN_DAYS_ON }],
      ['an end before now without a start', { expiresAt: daysFromNow(-1) }],
      ['a date that is not one', { expiresAt: '2027-02-30T25:00:00Z' }],
      ['PERCENT overage without a percent', { overage: { policy: 'PERCENT' as const } }],
      ['an overage percent over 1000', { overage: { policy: 'PERCENT' as const, percent: 1001 } }],
      ['an invalid CIDR range', { site: { cidrs: ['10.0.0.0/33'] } }],
      ['a CIDR range without a prefix', { site: { cidrs: ['10.0.0.1'] } }],
      ['an invalid domain', { site: { domains: ['not a domain'] } }],
      ['an e-mail address for a domain', { site: { domains: ['ada@example.com'] } }],
      ['an unknown feature key', { featureKeys: ['premium.analytics', 'no.such.feature'] }],
      ['a feature key of 101 characters', { featureKeys: ['f'.repeat(101)] }],
      ['a lease lifetime of zero', { leaseTtlSeconds: 0 }],
    ] satisfies [string, Partial<IssueLicenseInput>][])('refuses %s, issuing nothing', async (_title, input) => {
      const t = server();
      const ids = await catalogFor(t, 'CONCURRENT');
      expect(await t.errorCode(IssueLicenseDocument, { input: { ...ids, ...input } })).toBe('BAD_USER_INPUT');
      expect(await licensesOf(t, ids.organizationId)).toEqual([]);
    });

    it('answers NOT_FOUND for an unknown organization or plan, issuing nothing', async () => {
      const t = server();
      const ids = await catalogFor(t, 'SUBSCRIPTION');
      expect(await t.errorCode(IssueLicenseDocument, { input: { ...ids, organizationId: UNKNOWN_ID } })).toBe('NOT_FOUND');
      expect(await t.errorCode(IssueLicenseDocument, { input: { ...ids, planId: UNKNOWN_ID } })).toBe('NOT_FOUND');
      expect(await licensesOf(t, ids.organizationId)).toEqual([]);
      expect((await t.ok(LicensesDocument, { filter: { planId: ids.planId } })).licenses.nodes).toEqual([]);
    });
  });

  describe('transitions', () => {
    it('suspends, resumes and revokes a license, keeping the reason', async () => {
      const t = server();
      const { licenseId: id } = await licensed(t, 'SUBSCRIPTION');
      expect((await t.ok(SuspendLicenseDocument, { id, reason: ' unpaid invoice ' })).suspendLicense).toEqual({
        id,
        status: 'SUSPENDED',
        statusReason: 'unpaid invoice',
      });
      expect(await licenseOf(t, id)).toMatchObject({ status: 'SUSPENDED', statusReason: 'unpaid invoice' });
      expect((await t.ok(ResumeLicenseDocument, { id })).resumeLicense).toEqual({ id, status: 'ACTIVE', statusReason: null });
      expect((await t.ok(RevokeLicenseDocument, { id, reason: 'contract ended' })).revokeLicense).toEqual({
        id,
        status: 'REVOKED',
        statusReason: 'contract ended',
      });
      expect(await licenseOf(t, id)).toMatchObject({ status: 'REVOKED', statusReason: 'contract ended' });
    });

    it('revokes a suspended license', async () => {
      const t = server();
      const { licenseId: id } = await licensed(t, 'USER');
      await t.ok(SuspendLicenseDocument, { id });
      expect((await t.ok(RevokeLicenseDocument, { id })).revokeLicense).toEqual({ id, status: 'REVOKED', statusReason: null });
    });

    it('refuses impossible transitions with INVALID_STATE_TRANSITION, leaving the license as it was', async () => {
      const t = server();
      const { licenseId: id } = await licensed(t, 'SUBSCRIPTION');
      const expectRefused = async (attempt: () => Promise<string | undefined>, status: string, statusReason: string | null) => {
        const before = await licenseOf(t, id);
        expect(await attempt()).toBe('INVALID_STATE_TRANSITION');
        const after = await licenseOf(t, id);
        expect(after).toEqual(before);
        expect(after).toMatchObject({ status, statusReason });
      };

      await expectRefused(() => t.errorCode(ResumeLicenseDocument, { id }), 'ACTIVE', null);
      await t.ok(SuspendLicenseDocument, { id, reason: 'first' });
      await expectRefused(() => t.errorCode(SuspendLicenseDocument, { id, reason: 'second' }), 'SUSPENDED', 'first');
      await t.ok(RevokeLicenseDocument, { id, reason: 'for good' });
      await expectRefused(() => t.errorCode(ResumeLicenseDocument, { id }), 'REVOKED', 'for good');
      await expectRefused(() => t.errorCode(SuspendLicenseDocument, { id }), 'REVOKED', 'for good');
      await expectRefused(() => t.errorCode(RevokeLicenseDocument, { id, reason: 'again' }), 'REVOKED', 'for good');
      await expectRefused(() => t.errorCode(RenewLicenseDocument, { id }), 'REVOKED', 'for good');
      await expectRefused(() => t.errorCode(RenewLicenseDocument, { id, input: { expiresAt: daysFromNow(900) } }), 'REVOKED', 'for good');
    });

    it('refuses a reason over 500 characters, leaving the license active', async () => {
      const t = server();
      const { licenseId: id } = await licensed(t, 'SUBSCRIPTION');
      expect(await t.errorCode(SuspendLicenseDocument, { id, reason: 'r'.repeat(501) })).toBe('BAD_USER_INPUT');
      expect(await t.errorCode(RevokeLicenseDocument, { id, reason: 'r'.repeat(501) })).toBe('BAD_USER_INPUT');
      expect(await licenseOf(t, id)).toMatchObject({ status: 'ACTIVE', statusReason: null });
    });

    it('renews by the term of the license, by a number of days, or to a given end', async () => {
      const t = server();
      const { licenseId: id } = await licensed(t, 'SUBSCRIPTION', { termDays: 30 });
      const end0 = Date.parse((await licenseOf(t, id)).term.expiresAt!);

      const byTerm = (await t.ok(RenewLicenseDocument, { id })).renewLicense;
      expect(Date.parse(byTerm.term.expiresAt!)).toBe(end0 + 30 * DAY_MS);
      expect(Date.parse(byTerm.term.graceEndsAt!)).toBe(end0 + 37 * DAY_MS);

      const byDays = (await t.ok(RenewLicenseDocument, { id, input: { termDays: 10 } })).renewLicense;
      expect(Date.parse(byDays.term.expiresAt!)).toBe(end0 + 40 * DAY_MS);

      const to = daysFromNow(400);
      const toDate = (await t.ok(RenewLicenseDocument, { id, input: { expiresAt: to } })).renewLicense;
      expect(toDate).toMatchObject({ status: 'ACTIVE', term: { expiresAt: to } });
      expect((await licenseOf(t, id)).term.expiresAt).toBe(to);
    });

    it('renews a lapsed license from now, not from its old end', async () => {
      const t = server();
      const { licenseId: id } = await licensed(t, 'SUBSCRIPTION', {
        startsAt: daysFromNow(-60),
        expiresAt: daysFromNow(-20),
        termDays: 30,
      });
      const before = t.clock.now().getTime();
      const renewed = Date.parse((await t.ok(RenewLicenseDocument, { id })).renewLicense.term.expiresAt!);
      expect(renewed).toBeGreaterThanOrEqual(before + 30 * DAY_MS);
      expect(renewed).toBeLessThanOrEqual(t.clock.now().getTime() + 30 * DAY_MS);
    });

    it('renews a suspended license without resuming it', async () => {
      const t = server();
      const { licenseId: id } = await licensed(t, 'SUBSCRIPTION');
      await t.ok(SuspendLicenseDocument, { id });
      expect((await t.ok(RenewLicenseDocument, { id })).renewLicense.status).toBe('SUSPENDED');
    });

    it('refuses a renewal ending in the past, before the current end, or given twice, changing nothing', async () => {
      const t = server();
      const { licenseId: id } = await licensed(t, 'SUBSCRIPTION');
      const before = await licenseOf(t, id);
      const end = Date.parse(before.term.expiresAt!);
      for (const input of [
        { expiresAt: daysFromNow(-1) },
        { expiresAt: new Date(end - DAY_MS).toISOString() },
        { expiresAt: before.term.expiresAt },
        { expiresAt: daysFromNow(800), termDays: 30 },
        { termDays: 0 },
        { termDays: -30 },
      ]) {
        expect(await t.errorCode(RenewLicenseDocument, { id, input }), JSON.stringify(input)).toBe('BAD_USER_INPUT');
      }
      expect(await licenseOf(t, id)).toEqual(before);
    });

    it('refuses to renew a perpetual license by a term it does not have', async () => {
      const t = server();
      const { licenseId: id } = await licensed(t, 'USER', {}, { termDays: null });
      expect(await t.errorCode(RenewLicenseDocument, { id })).toBe('BAD_USER_INPUT');
      expect(await t.errorCode(RenewLicenseDocument, { id, input: { termDays: 30 } })).toBe('BAD_USER_INPUT');
      expect((await licenseOf(t, id)).term.expiresAt).toBeNull();
    });

    it('refuses a "renewal" that would give a perpetual license an end', async () => {
      const t = server();
      const { licenseId: id } = await licensed(t, 'USER', {}, { termDays: null });
      // A perpetual term never ends, so no date ends after it: renewing to one would take access away.
      const response = await t.request(RenewLicenseDocument, { id, input: { expiresAt: daysFromNow(30) } });
      expect(response.data?.renewLicense.term ?? null, 'the renewal was made').toBeNull();
      expect(['BAD_USER_INPUT', 'INVALID_STATE_TRANSITION']).toContain(response.errors?.[0]?.extensions?.code);
      expect((await licenseOf(t, id)).term).toMatchObject({ expiresAt: null, graceEndsAt: null });
    });

    it('ends the live leases of a license when it is suspended', async () => {
      const t = server();
      const { key, licenseId } = await licensed(t, 'CONCURRENT');
      await t.ok(CheckoutSeatDocument, { key, fingerprint: 'host-1' });
      await t.ok(CheckoutSeatDocument, { key, fingerprint: 'host-2' });
      expect((await licenseOf(t, licenseId)).seatsInUse).toBe(2);

      await t.ok(SuspendLicenseDocument, { id: licenseId });
      const leases = (await t.ok(LeasesDocument, { filter: { licenseId } })).leases.nodes;
      expect(leases.map((l) => [l.fingerprint, l.live, l.releaseReason])).toEqual([
        ['host-1', false, 'LICENSE_INACTIVE'],
        ['host-2', false, 'LICENSE_INACTIVE'],
      ]);
      expect((await licenseOf(t, licenseId)).seatsInUse).toBe(0);
      const refused = (await t.ok(CheckoutSeatDocument, { key, fingerprint: 'host-3' })).checkoutSeat;
      expect(refused).toMatchObject({ outcome: 'LICENSE_INACTIVE', lease: null });
    });

    it('ends the live leases of a license when it is revoked', async () => {
      const t = server();
      const { key, licenseId } = await licensed(t, 'CONCURRENT');
      const lease = (await t.ok(CheckoutSeatDocument, { key, fingerprint: 'host-1' })).checkoutSeat.lease!;
      await t.ok(RevokeLicenseDocument, { id: licenseId, reason: 'fraud' });
      const [ended] = (await t.ok(LeasesDocument, { filter: { licenseId } })).leases.nodes;
      expect(ended).toMatchObject({ id: lease.id, live: false, releaseReason: 'LICENSE_INACTIVE' });
      expect(Date.parse(ended!.releasedAt!)).toBeGreaterThanOrEqual(Date.parse(lease.checkedOutAt));
      expect((await t.ok(LeasesDocument, { filter: { licenseId, live: true } })).leases.nodes).toEqual([]);
    });

    it('leaves a lease whose lifetime had already run out as expired, not ended by the suspension', async () => {
      const t = server();
      const { key, licenseId } = await licensed(t, 'CONCURRENT', { leaseTtlSeconds: 1 });
      const lease = (await t.ok(CheckoutSeatDocument, { key, fingerprint: 'host-1' })).checkoutSeat.lease!;
      await t.clock.advanceTo(new Date(Date.parse(lease.expiresAt) + 50));
      await t.ok(SuspendLicenseDocument, { id: licenseId });
      const [dead] = (await t.ok(LeasesDocument, { filter: { licenseId } })).leases.nodes;
      expect(dead).toMatchObject({ id: lease.id, live: false, releaseReason: 'EXPIRED' });
    });

    it('answers NOT_FOUND for a license that does not exist', async () => {
      const t = server();
      expect(await t.errorCode(LicenseDocument, { id: UNKNOWN_ID })).toBe('NOT_FOUND');
      expect(await t.errorCode(LicenseDocument, { id: 'not-an-id' })).toBe('NOT_FOUND');
      expect(await t.errorCode(SuspendLicenseDocument, { id: UNKNOWN_ID })).toBe('NOT_FOUND');
      expect(await t.errorCode(ResumeLicenseDocument, { id: UNKNOWN_ID })).toBe('NOT_FOUND');
      expect(await t.errorCode(RevokeLicenseDocument, { id: UNKNOWN_ID })).toBe('NOT_FOUND');
      expect(await t.errorCode(RenewLicenseDocument, { id: UNKNOWN_ID })).toBe('NOT_FOUND');
      expect(await t.errorCode(AssignSeatDocument, { licenseId: UNKNOWN_ID, userId: 'ada' })).toBe('NOT_FOUND');
    });
  });

  describe('client input', () => {
    it('refuses a malformed key as BAD_USER_INPUT and an unknown one as UNAUTHENTICATED', async () => {
      const t = server();
      expect(await t.errorCode(ValidateLicenseDocument, { key: 'not-a-key' })).toBe('BAD_USER_INPUT');
      expect(await t.errorCode(ValidateLicenseDocument, { key: `${UNKNOWN_KEY}-0000` })).toBe('BAD_USER_INPUT');
      expect(await t.errorCode(ValidateLicenseDocument, { key: 'A'.repeat(101) })).toBe('BAD_USER_INPUT');
      expect(await t.errorCode(ValidateLicenseDocument, { key: UNKNOWN_KEY })).toBe('UNAUTHENTICATED');
      expect(await t.errorCode(ValidateLicenseDocument, { key: UNKNOWN_KEY }, null)).toBe('UNAUTHENTICATED');
    });

    it('accepts a key typed in lower case with stray spaces', async () => {
      const t = server();
      const { key } = await licensed(t, 'SUBSCRIPTION');
      expect((await t.ok(ValidateLicenseDocument, { key: `  ${key.toLowerCase()} ` }, null)).validateLicense.code).toBe('VALID');
    });

    it('refuses a user id over 320 characters, assigning nothing', async () => {
      const t = server();
      const { licenseId } = await licensed(t, 'USER');
      const userId = `${'u'.repeat(309)}@example.com`;
      expect(userId).toHaveLength(321);
      expect(await t.errorCode(AssignSeatDocument, { licenseId, userId })).toBe('BAD_USER_INPUT');
      expect(await t.errorCode(AssignSeatDocument, { licenseId, userId: '   ' })).toBe('BAD_USER_INPUT');
      expect((await t.ok(SeatsDocument, { filter: { licenseId } })).seats.nodes).toEqual([]);
      expect((await licenseOf(t, licenseId)).seatsInUse).toBe(0);
      // 320 characters is still a user id.
      expect((await t.ok(AssignSeatDocument, { licenseId, userId: userId.slice(1) })).assignSeat.outcome).toBe('ASSIGNED');
    });

    it('refuses a fingerprint over 200 characters, leasing nothing', async () => {
      const t = server();
      const { key, licenseId } = await licensed(t, 'CONCURRENT');
      const fingerprint = 'f'.repeat(201);
      expect(await t.errorCode(CheckoutSeatDocument, { key, fingerprint })).toBe('BAD_USER_INPUT');
      expect(await t.errorCode(ValidateLicenseDocument, { key, fingerprint })).toBe('BAD_USER_INPUT');
      expect((await t.ok(LeasesDocument, { filter: { licenseId } })).leases.nodes).toEqual([]);
      expect((await t.ok(CheckoutSeatDocument, { key, fingerprint: fingerprint.slice(1) })).checkoutSeat.outcome).toBe('GRANTED');
    });

    it('refuses empty and oversized validation arguments', async () => {
      const t = server();
      const { key } = await licensed(t, 'SITE');
      expect(await t.errorCode(ValidateLicenseDocument, { key, user: 'u'.repeat(321) })).toBe('BAD_USER_INPUT');
      expect(await t.errorCode(ValidateLicenseDocument, { key, site: 's'.repeat(321) })).toBe('BAD_USER_INPUT');
      expect(await t.errorCode(ValidateLicenseDocument, { key, feature: 'f'.repeat(101) })).toBe('BAD_USER_INPUT');
      expect(await t.errorCode(ValidateLicenseDocument, { key, site: '' })).toBe('BAD_USER_INPUT');
    });
  });

  describe('lists', () => {
    it('walks the licenses of an organization two at a time over every page', async () => {
      const t = server();
      const org = await organization(t);
      const issued: string[] = [];
      for (const type of ['SUBSCRIPTION', 'USER', 'CONCURRENT', 'SITE', 'FEATURE'] as const) {
        issued.push((await licensed(t, type, { organizationId: org.id })).licenseId);
      }

      const seen: string[] = [];
      const pages: number[] = [];
      let after: string | null = null;
      for (;;) {
        const page: LicensesQuery = await t.ok(LicensesDocument, { filter: { organizationId: org.id }, first: 2, after });
        pages.push(page.licenses.nodes.length);
        seen.push(...page.licenses.nodes.map((n) => n.id));
        if (!page.licenses.pageInfo.hasNextPage) break;
        after = page.licenses.pageInfo.endCursor;
        expect(after).not.toBeNull();
      }
      expect(pages).toEqual([2, 2, 1]);
      expect(seen).toEqual(issued);
    });

    it('ends with an empty last page when the count is a multiple of the page size', async () => {
      const t = server();
      const org = await organization(t);
      const a = await licensed(t, 'SUBSCRIPTION', { organizationId: org.id });
      const b = await licensed(t, 'USER', { organizationId: org.id });
      const first = (await t.ok(LicensesDocument, { filter: { organizationId: org.id }, first: 2 })).licenses;
      expect(first.nodes.map((n) => n.id)).toEqual([a.licenseId, b.licenseId]);
      expect(first.pageInfo.hasNextPage).toBe(false);
      const past = (await t.ok(LicensesDocument, { filter: { organizationId: org.id }, first: 2, after: first.pageInfo.endCursor }))
        .licenses;
      expect(past).toEqual({ nodes: [], pageInfo: { hasNextPage: false, endCursor: null } });
    });

    it('filters licenses by organization, type, status, plan and product', async () => {
      const t = server();
      const org = await organization(t);
      const sub = await licensed(t, 'SUBSCRIPTION', { organizationId: org.id });
      const user = await licensed(t, 'USER', { organizationId: org.id });
      const site = await licensed(t, 'SITE', { organizationId: org.id });
      const elsewhere = await licensed(t, 'USER');
      await t.ok(SuspendLicenseDocument, { id: user.licenseId });
      await t.ok(RevokeLicenseDocument, { id: site.licenseId });

      const ids = async (filter: LicenseFilter) =>
        (await t.ok(LicensesDocument, { filter: { organizationId: org.id, ...filter }, first: 200 })).licenses.nodes.map((n) => n.id);
      expect(await ids({})).toEqual([sub.licenseId, user.licenseId, site.licenseId]);
      expect(await ids({ type: 'USER' })).toEqual([user.licenseId]);
      expect(await ids({ status: 'ACTIVE' })).toEqual([sub.licenseId]);
      expect(await ids({ status: 'SUSPENDED' })).toEqual([user.licenseId]);
      expect(await ids({ status: 'REVOKED', type: 'SITE' })).toEqual([site.licenseId]);
      expect(await ids({ status: 'REVOKED', type: 'USER' })).toEqual([]);
      expect(await ids({ planId: sub.planId })).toEqual([sub.licenseId]);
      expect(await ids({ productId: site.productId })).toEqual([site.licenseId]);

      const allUsers = (await t.ok(LicensesDocument, { filter: { type: 'USER' }, first: 200 })).licenses.nodes;
      expect(allUsers.map((n) => n.id)).toEqual(expect.arrayContaining([user.licenseId, elsewhere.licenseId]));
      expect(allUsers.every((n) => n.type === 'USER')).toBe(true);
    });

    it('resolves the organization, plan, product and features of each license in a list', async () => {
      const t = server();
      const org = await organization(t);
      const a = await licensed(t, 'SUBSCRIPTION', { organizationId: org.id });
      const b = await licensed(t, 'FEATURE', { organizationId: org.id, featureKeys: ['premium.sso'] });
      const nodes = await licensesOf(t, org.id);
      expect(nodes).toMatchObject([
        {
          id: a.licenseId,
          organization: { id: org.id, name: org.name },
          plan: { id: a.planId },
          product: { id: a.productId },
        },
        {
          id: b.licenseId,
          organization: { id: org.id },
          plan: { id: b.planId },
          product: { id: b.productId },
        },
      ]);
      expect(nodes.map((n) => premiumKeys(n.features))).toEqual([['premium.analytics'], ['premium.sso']]);
    });

    it('refuses a cursor it did not issue and page sizes out of range', async () => {
      const t = server();
      const org = await organization(t);
      await licensed(t, 'SUBSCRIPTION', { organizationId: org.id });
      for (const after of [
        'garbage',
        Buffer.from('c1:not-an-id').toString('base64url'),
        Buffer.from(`c2:${UNKNOWN_ID}`).toString('base64url'),
      ]) {
        expect(await t.errorCode(LicensesDocument, { filter: { organizationId: org.id }, after }), after).toBe('BAD_USER_INPUT');
      }
      expect(await t.errorCode(LicensesDocument, { first: 0 })).toBe('BAD_USER_INPUT');
      expect(await t.errorCode(LicensesDocument, { first: 201 })).toBe('BAD_USER_INPUT');
      expect(await t.errorCode(OrganizationsDocument, { after: 'garbage' })).toBe('BAD_USER_INPUT');
      expect(await licensesOf(t, org.id)).toHaveLength(1);
    });
  });
});
