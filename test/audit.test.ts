import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AddFeatureDocument,
  AssignSeatDocument,
  type AuditFilterInput,
  AuditLogDocument,
  SetExpiryNoticesDocument,
  SetThresholdRuleDocument,
  type AuditLogQuery,
  CheckinSeatDocument,
  BorrowSeatDocument,
  CheckoutSeatDocument,
  CreateApiTokenDocument,
  CreateOrganizationDocument,
  CreatePlanDocument,
  CreateProductDocument,
  HeartbeatSeatDocument,
  IssueLicenseCertificateDocument,
  IssueLicenseDocument,
  LicenseDocument,
  ReleaseSeatDocument,
  RenewLicenseDocument,
  SetLicenseAutoRenewDocument,
  ResumeLicenseDocument,
  RevokeApiTokenDocument,
  RegenerateLicenseKeyDocument,
  RevokeLicenseDocument,
  RotateSigningKeyDocument,
  SuspendLicenseDocument,
  UpdateOrganizationDocument,
  RecordUsageDocument,
  AlertsDocument,
  AcknowledgeAlertDocument,
  ViolationsDocument,
  AcknowledgeViolationDocument,
  ResolveViolationDocument,
  WaiveViolationDocument,
  RemediateViolationDocument,
  RunComplianceCheckDocument,
  MigrateLicenseDocument,
  CancelLicenseMigrationDocument,
  LicenseMigrationsDocument,
  MergeFeatureLicenseDocument,
  SplitFeatureLicenseDocument,
  RecommendationsDocument,
  ApplyRecommendationDocument,
  DismissRecommendationDocument,
  SetRecommendationSettingsDocument,
} from './generated/graphql';
import { licensed, organization, plan, product, unique, issueToken, type IssuedToken } from './support/factories';
import { describeEachDatabase, type GraphQLResponse, type TestServer } from './support/server';
import { seats } from './support/usage-history';

type AuditEvent = AuditLogQuery['auditLog']['nodes'][number];

/** The tokens the audited calls are made with, so that each event can be traced to one of them. */
interface Fixture {
  /** A platform admin's token, other than the bootstrap one. */
  platform: IssuedToken;
  organizationId: string;
  orgAdmin: IssuedToken;
  auditor: IssuedToken;
}

/** Every event matching the filter, oldest first, walking the pages as a client would. */
async function allEvents(t: TestServer, filter: AuditFilterInput = {}, after: string | null = null, token = t.admin) {
  const events: AuditEvent[] = [];
  let cursor = after;
  for (;;) {
    const { auditLog } = await t.ok(AuditLogDocument, { filter, first: 200, after: cursor }, token);
    events.push(...auditLog.nodes);
    if (!auditLog.pageInfo.hasNextPage) return events;
    cursor = auditLog.pageInfo.endCursor;
  }
}

/** The cursor after the newest event: what follows it is what a call left behind. */
async function endOfLog(t: TestServer): Promise<string> {
  let cursor: string | null = null;
  for (;;) {
    const { auditLog }: AuditLogQuery = await t.ok(AuditLogDocument, { first: 200, after: cursor });
    cursor = auditLog.pageInfo.endCursor ?? cursor;
    if (!auditLog.pageInfo.hasNextPage) return cursor!;
  }
}

/** The event an audited call must leave. */
interface ExpectedEvent {
  action: string;
  objectType: string;
  objectId: string;
  actor: { type: 'API_TOKEN' | 'LICENSE_KEY'; id: string };
  organizationId: string | null;
  /** Null for a creation; else what the event's `before` holds (at least). */
  before: Record<string, unknown> | null;
  after: Record<string, unknown>;
  /** Secrets the call handled, which the event must not contain. */
  secrets?: string[];
}

/** Wraps the one call whose events are examined: what runs before it (preparation) is not. */
type Act = <T>(call: () => Promise<T>) => Promise<T>;

interface AuditCase {
  /** Completes the sentence "<mutation> records …". */
  title: string;
  /**
   * Performs the mutation successfully (after any preparation, outside `act`) and returns the event it must leave,
   * or the events, in the order written, when it changes several objects.
   */
  perform(t: TestServer, f: Fixture, act: Act): Promise<ExpectedEvent | ExpectedEvent[]>;
  /** Calls that fail, each leaving no event. */
  failures: Failure[];
}

interface Failure {
  /** Why the call fails. */
  title: string;
  code: string;
  attempt(t: TestServer, f: Fixture, act: Act): Promise<GraphQLResponse<unknown>>;
}

const byToken = (token: IssuedToken) => ({ type: 'API_TOKEN' as const, id: token.id });
const byLicense = (licenseId: string) => ({ type: 'LICENSE_KEY' as const, id: licenseId });

async function concurrentWithLease(t: TestServer, f: Fixture) {
  const license = await licensed(t, 'CONCURRENT', { organizationId: f.organizationId });
  const fingerprint = unique('machine');
  const { checkoutSeat } = await t.ok(CheckoutSeatDocument, { key: license.key, fingerprint });
  return { license, fingerprint, lease: checkoutSeat.lease! };
}

const STORAGE_LIMIT = 1000;

/** A SUBSCRIPTION license whose storage total was reported over its limit, and the STORAGE_OVERAGE violation that opened. */
async function violated(t: TestServer, organizationId: string) {
  const license = await licensed(t, 'SUBSCRIPTION', { organizationId, limits: { storageBytes: STORAGE_LIMIT } });
  await t.ok(RecordUsageDocument, { key: license.key, metric: 'STORAGE_BYTES', value: STORAGE_LIMIT + 100 }, null);
  const { violations } = await t.ok(ViolationsDocument, { filter: { licenseId: license.licenseId } });
  expect(violations.nodes.map((v) => `${v.kind} ${v.status}`)).toEqual(['STORAGE_OVERAGE OPEN']);
  return { license, violationId: violations.nodes[0]!.id };
}

/** What the audit log keeps of such a violation, whatever its status. */
const OVER_STORAGE = { kind: 'STORAGE_OVERAGE', value: STORAGE_LIMIT + 100, limit: STORAGE_LIMIT, occurrences: 1 };

/**
 * A new organization with a license over its storage limit whose violation was resolved by hand: the breach holds,
 * without a violation, so that a compliance check of the organization opens one.
 */
async function unresolvedBreach(t: TestServer) {
  const org = await organization(t);
  const { license, violationId } = await violated(t, org.id);
  await t.ok(ResolveViolationDocument, { id: violationId, reason: 'resolved too early' });
  return { organizationId: org.id, license };
}

/** A USER license of the organization (5 named users, a term of 365 days) with the seats of `users` taken, oldest first. */
async function userLicense(t: TestServer, organizationId: string, users: string[] = []) {
  const license = await licensed(t, 'USER', { organizationId });
  const seats: { id: string; userId: string }[] = [];
  for (const userId of users) {
    seats.push((await t.ok(AssignSeatDocument, { licenseId: license.licenseId, userId })).assignSeat.seat!);
    await t.clock.advance(5); // each seat active later than the one before
  }
  return { license, seats };
}

/** A USER license with one active seat and one unused for 100 days, and the RECLAIM_INACTIVE_SEATS made of it. */
async function reclaimable(t: TestServer, f: Fixture) {
  const { license } = await userLicense(t, f.organizationId, ['ada@example.com']);
  const now = t.clock.now().getTime();
  await seats(t, license, [{ user: 'bob@example.com', assigned: now - 100 * 86_400_000, active: null }]);
  const { recommendations } = await t.ok(RecommendationsDocument, {
    organizationId: f.organizationId,
    filter: { kinds: ['RECLAIM_INACTIVE_SEATS'], licenseIds: [license.licenseId] },
  });
  expect(recommendations).toHaveLength(1);
  return { license, id: recommendations[0]!.id };
}

/** A migration of a USER license of the organization, waiting for the renewal of its term. */
async function scheduledMigration(t: TestServer, organizationId: string) {
  const { license } = await userLicense(t, organizationId);
  const { migrateLicense } = await t.ok(MigrateLicenseDocument, {
    licenseId: license.licenseId,
    target: { limits: { namedUsers: 10 } },
    effective: 'AT_RENEWAL',
    onConflict: { strategy: 'REJECT' },
  });
  expect(migrateLicense.migration).toMatchObject({ status: 'SCHEDULED' });
  return { license, migrationId: migrateLicense.migration!.id };
}

/**
 * A SUBSCRIPTION license of the organization entitling premium.analytics, and a FEATURE license of its plan (so of
 * its product) entitling `featureKeys`, there to be merged into it.
 */
async function withFeatureLicense(t: TestServer, organizationId: string, featureKeys = ['premium.analytics', 'premium.sso']) {
  const base = await licensed(t, 'SUBSCRIPTION', { organizationId, featureKeys: ['premium.analytics'] });
  const { issueLicense } = await t.ok(IssueLicenseDocument, {
    input: { organizationId, planId: base.planId, type: 'FEATURE', featureKeys },
  });
  return { base, addOn: { ...base, licenseId: issueLicense.license.id, key: issueLicense.key } };
}

/** The migrations kept on a license, oldest first. */
const migrationsOf = async (t: TestServer, licenseId: string) =>
  (await t.ok(LicenseMigrationsDocument, { id: licenseId })).license.migrations;

/** One entry per Mutation field: how to perform it successfully, the event that must follow, and failures that leave none. */
const AUDITED: Record<string, AuditCase> = {
  createOrganization: {
    title: 'organization.create, by the platform admin that created it',
    async perform(t, f, act) {
      const name = unique('org');
      const { createOrganization } = await act(() => t.ok(CreateOrganizationDocument, { input: { name } }, f.platform.secret));
      return {
        action: 'organization.create',
        objectType: 'Organization',
        objectId: createOrganization.id,
        actor: byToken(f.platform),
        organizationId: createOrganization.id,
        before: null,
        after: { name },
      };
    },
    failures: [
      {
        title: 'a blank name',
        code: 'BAD_USER_INPUT',
        attempt: (t, f, act) => act(() => t.request(CreateOrganizationDocument, { input: { name: '   ' } }, f.platform.secret)),
      },
      {
        title: 'a name taken already',
        code: 'CONFLICT',
        async attempt(t, f, act) {
          const existing = await organization(t);
          return act(() => t.request(CreateOrganizationDocument, { input: { name: existing.name } }, f.platform.secret));
        },
      },
      {
        title: 'asked by an org admin',
        code: 'FORBIDDEN',
        attempt: (t, f, act) => act(() => t.request(CreateOrganizationDocument, { input: { name: unique('org') } }, f.orgAdmin.secret)),
      },
    ],
  },
  updateOrganization: {
    title: 'organization.update, with the name before and after',
    async perform(t, f, act) {
      const org = await organization(t);
      const name = unique('renamed');
      await act(() => t.ok(UpdateOrganizationDocument, { id: org.id, input: { name } }, f.platform.secret));
      return {
        action: 'organization.update',
        objectType: 'Organization',
        objectId: org.id,
        actor: byToken(f.platform),
        organizationId: org.id,
        before: { name: org.name },
        after: { name },
      };
    },
    failures: [
      {
        title: 'an organization that does not exist',
        code: 'NOT_FOUND',
        attempt: (t, f, act) =>
          act(() => t.request(UpdateOrganizationDocument, { id: randomUUID(), input: { name: unique('x') } }, f.platform.secret)),
      },
      {
        title: 'its own organization renamed by an org admin',
        code: 'FORBIDDEN',
        attempt: (t, f, act) =>
          act(() => t.request(UpdateOrganizationDocument, { id: f.organizationId, input: { name: unique('x') } }, f.orgAdmin.secret)),
      },
    ],
  },
  createProduct: {
    title: 'product.create with its features, outside any organization',
    async perform(t, f, act) {
      const key = unique('product');
      const features = [{ key: 'core.inference', name: 'Inference', tier: 'CORE' as const }];
      const { createProduct } = await act(() =>
        t.ok(CreateProductDocument, { input: { key, name: 'Product', features } }, f.platform.secret),
      );
      return {
        action: 'product.create',
        objectType: 'Product',
        objectId: createProduct.id,
        actor: byToken(f.platform),
        organizationId: null,
        before: null,
        after: { key, name: 'Product', features: [{ key: 'core.inference', tier: 'CORE' }] },
      };
    },
    failures: [
      {
        title: 'a feature key given twice',
        code: 'BAD_USER_INPUT',
        attempt: (t, f, act) => {
          const features = [
            { key: 'same', name: 'One', tier: 'CORE' as const },
            { key: 'same', name: 'Two', tier: 'PREMIUM' as const },
          ];
          return act(() => t.request(CreateProductDocument, { input: { key: unique('product'), name: 'P', features } }, f.platform.secret));
        },
      },
    ],
  },
  addFeature: {
    title: 'feature.create, naming its product',
    async perform(t, f, act) {
      const prod = await product(t);
      const key = unique('feature');
      const input = { key, name: 'Export', tier: 'PREMIUM' as const };
      const { addFeature } = await act(() => t.ok(AddFeatureDocument, { productId: prod.id, input }, f.platform.secret));
      return {
        action: 'feature.create',
        objectType: 'Feature',
        objectId: addFeature.id,
        actor: byToken(f.platform),
        organizationId: null,
        before: null,
        after: { productId: prod.id, key, tier: 'PREMIUM' },
      };
    },
    failures: [
      {
        title: 'a key the product has already',
        code: 'CONFLICT',
        async attempt(t, f, act) {
          const prod = await product(t);
          const input = { key: 'premium.sso', name: 'Again', tier: 'PREMIUM' as const };
          return act(() => t.request(AddFeatureDocument, { productId: prod.id, input }, f.platform.secret));
        },
      },
    ],
  },
  createPlan: {
    title: 'plan.create with its terms, outside any organization',
    async perform(t, f, act) {
      const prod = await product(t);
      const key = unique('plan');
      const input = { productId: prod.id, key, name: 'Site', licenseType: 'SITE' as const, featureKeys: ['premium.sso'] };
      const { createPlan } = await act(() => t.ok(CreatePlanDocument, { input }, f.platform.secret));
      return {
        action: 'plan.create',
        objectType: 'Plan',
        objectId: createPlan.id,
        actor: byToken(f.platform),
        organizationId: null,
        before: null,
        after: { productId: prod.id, key, licenseType: 'SITE', featureKeys: ['premium.sso'] },
      };
    },
    failures: [
      {
        title: 'a feature the product does not have',
        code: 'BAD_USER_INPUT',
        async attempt(t, f, act) {
          const prod = await product(t);
          const input = { productId: prod.id, key: unique('plan'), name: 'P', licenseType: 'SITE' as const, featureKeys: ['no.such'] };
          return act(() => t.request(CreatePlanDocument, { input }, f.platform.secret));
        },
      },
      {
        title: 'the PERCENT overage policy without a percent',
        code: 'BAD_USER_INPUT',
        async attempt(t, f, act) {
          const prod = await product(t);
          const input = {
            productId: prod.id,
            key: unique('plan'),
            name: 'P',
            licenseType: 'SITE' as const,
            overage: { policy: 'PERCENT' as const },
          };
          return act(() => t.request(CreatePlanDocument, { input }, f.platform.secret));
        },
      },
    ],
  },
  createApiToken: {
    title: 'apiToken.create in the organization of the token, without its secret',
    async perform(t, f, act) {
      const name = unique('auditor');
      const { createApiToken } = await act(() =>
        t.ok(CreateApiTokenDocument, { input: { name, role: 'AUDITOR', organizationId: f.organizationId } }, f.orgAdmin.secret),
      );
      return {
        action: 'apiToken.create',
        objectType: 'ApiToken',
        objectId: createApiToken.apiToken.id,
        actor: byToken(f.orgAdmin),
        organizationId: f.organizationId,
        before: null,
        after: { name, role: 'AUDITOR', organizationId: f.organizationId, tokenHint: createApiToken.apiToken.tokenHint, revokedAt: null },
        secrets: [createApiToken.secret],
      };
    },
    failures: [
      {
        title: "a platform admin's token asked by an org admin",
        code: 'FORBIDDEN',
        attempt: (t, f, act) =>
          act(() =>
            t.request(
              CreateApiTokenDocument,
              { input: { name: unique('x'), role: 'PLATFORM_ADMIN', organizationId: null } },
              f.orgAdmin.secret,
            ),
          ),
      },
      {
        title: 'an organization-bound role without an organization',
        code: 'BAD_USER_INPUT',
        attempt: (t, f, act) =>
          act(() =>
            t.request(CreateApiTokenDocument, { input: { name: unique('x'), role: 'AUDITOR', organizationId: null } }, f.platform.secret),
          ),
      },
    ],
  },
  revokeApiToken: {
    title: 'apiToken.revoke, with the token before and after',
    async perform(t, f, act) {
      const victim = await issueToken(t, 'INTEGRATOR', f.organizationId);
      const { revokeApiToken } = await act(() => t.ok(RevokeApiTokenDocument, { id: victim.id }, f.orgAdmin.secret));
      return {
        action: 'apiToken.revoke',
        objectType: 'ApiToken',
        objectId: victim.id,
        actor: byToken(f.orgAdmin),
        organizationId: f.organizationId,
        before: { role: 'INTEGRATOR', revokedAt: null },
        after: { role: 'INTEGRATOR', revokedAt: revokeApiToken.revokedAt },
        secrets: [victim.secret],
      };
    },
    failures: [
      {
        title: 'a token revoked already',
        code: 'INVALID_STATE_TRANSITION',
        async attempt(t, f, act) {
          const victim = await issueToken(t, 'INTEGRATOR', f.organizationId);
          await t.ok(RevokeApiTokenDocument, { id: victim.id });
          return act(() => t.request(RevokeApiTokenDocument, { id: victim.id }, f.orgAdmin.secret));
        },
      },
      {
        title: 'asked by an auditor',
        code: 'FORBIDDEN',
        async attempt(t, f, act) {
          const victim = await issueToken(t, 'INTEGRATOR', f.organizationId);
          return act(() => t.request(RevokeApiTokenDocument, { id: victim.id }, f.auditor.secret));
        },
      },
    ],
  },
  issueLicense: {
    title: 'license.issue with its terms and features, without its key',
    async perform(t, f, act) {
      const prod = await product(t);
      const p = await plan(t, prod.id, 'CONCURRENT');
      const { issueLicense } = await act(() =>
        t.ok(IssueLicenseDocument, { input: { organizationId: f.organizationId, planId: p.id } }, f.orgAdmin.secret),
      );
      return {
        action: 'license.issue',
        objectType: 'License',
        objectId: issueLicense.license.id,
        actor: byToken(f.orgAdmin),
        organizationId: f.organizationId,
        before: null,
        after: {
          type: 'CONCURRENT',
          status: 'ACTIVE',
          planId: p.id,
          keyHint: issueLicense.license.keyHint,
          expiresAt: issueLicense.license.term.expiresAt,
          limits: expect.objectContaining({ concurrentSessions: 3 }),
          features: ['premium.analytics'],
        },
        secrets: [issueLicense.key],
      };
    },
    failures: [
      {
        title: 'a feature the product does not have',
        code: 'BAD_USER_INPUT',
        async attempt(t, f, act) {
          const prod = await product(t);
          const p = await plan(t, prod.id, 'CONCURRENT');
          const input = { organizationId: f.organizationId, planId: p.id, featureKeys: ['no.such'] };
          return act(() => t.request(IssueLicenseDocument, { input }, f.orgAdmin.secret));
        },
      },
      {
        title: 'a SITE license without a site',
        code: 'BAD_USER_INPUT',
        async attempt(t, f, act) {
          const prod = await product(t);
          const p = await plan(t, prod.id, 'SITE');
          return act(() =>
            t.request(IssueLicenseDocument, { input: { organizationId: f.organizationId, planId: p.id } }, f.orgAdmin.secret),
          );
        },
      },
      {
        title: 'asked by an auditor',
        code: 'FORBIDDEN',
        async attempt(t, f, act) {
          const prod = await product(t);
          const p = await plan(t, prod.id, 'CONCURRENT');
          return act(() =>
            t.request(IssueLicenseDocument, { input: { organizationId: f.organizationId, planId: p.id } }, f.auditor.secret),
          );
        },
      },
    ],
  },
  suspendLicense: {
    title: 'license.suspend, with the status before and after and the leases it ended',
    async perform(t, f, act) {
      const { license } = await concurrentWithLease(t, f);
      await act(() => t.ok(SuspendLicenseDocument, { id: license.licenseId, reason: 'unpaid invoice' }, f.orgAdmin.secret));
      return {
        action: 'license.suspend',
        objectType: 'License',
        objectId: license.licenseId,
        actor: byToken(f.orgAdmin),
        organizationId: f.organizationId,
        before: { status: 'ACTIVE', statusReason: null },
        after: { status: 'SUSPENDED', statusReason: 'unpaid invoice', leasesEnded: 1 },
        secrets: [license.key],
      };
    },
    failures: [
      {
        title: 'a license suspended already',
        code: 'INVALID_STATE_TRANSITION',
        async attempt(t, f, act) {
          const { licenseId } = await licensed(t, 'SUBSCRIPTION', { organizationId: f.organizationId });
          await t.ok(SuspendLicenseDocument, { id: licenseId });
          return act(() => t.request(SuspendLicenseDocument, { id: licenseId }, f.orgAdmin.secret));
        },
      },
      {
        title: 'asked by an auditor',
        code: 'FORBIDDEN',
        async attempt(t, f, act) {
          const { licenseId } = await licensed(t, 'SUBSCRIPTION', { organizationId: f.organizationId });
          return act(() => t.request(SuspendLicenseDocument, { id: licenseId }, f.auditor.secret));
        },
      },
    ],
  },
  resumeLicense: {
    title: 'license.resume, with the status before and after',
    async perform(t, f, act) {
      const { licenseId } = await licensed(t, 'SUBSCRIPTION', { organizationId: f.organizationId });
      await t.ok(SuspendLicenseDocument, { id: licenseId, reason: 'unpaid invoice' });
      await act(() => t.ok(ResumeLicenseDocument, { id: licenseId }, f.orgAdmin.secret));
      return {
        action: 'license.resume',
        objectType: 'License',
        objectId: licenseId,
        actor: byToken(f.orgAdmin),
        organizationId: f.organizationId,
        before: { status: 'SUSPENDED', statusReason: 'unpaid invoice' },
        after: { status: 'ACTIVE', statusReason: null },
      };
    },
    failures: [
      {
        title: 'a license that is active',
        code: 'INVALID_STATE_TRANSITION',
        async attempt(t, f, act) {
          const { licenseId } = await licensed(t, 'SUBSCRIPTION', { organizationId: f.organizationId });
          return act(() => t.request(ResumeLicenseDocument, { id: licenseId }, f.orgAdmin.secret));
        },
      },
    ],
  },
  revokeLicense: {
    title: 'license.revoke, with the status before and after',
    async perform(t, f, act) {
      const { license } = await concurrentWithLease(t, f);
      await act(() => t.ok(RevokeLicenseDocument, { id: license.licenseId, reason: 'contract ended' }, f.orgAdmin.secret));
      return {
        action: 'license.revoke',
        objectType: 'License',
        objectId: license.licenseId,
        actor: byToken(f.orgAdmin),
        organizationId: f.organizationId,
        before: { status: 'ACTIVE', statusReason: null },
        after: { status: 'REVOKED', statusReason: 'contract ended', leasesEnded: 1 },
      };
    },
    failures: [
      {
        title: 'a reason over 500 characters',
        code: 'BAD_USER_INPUT',
        async attempt(t, f, act) {
          const { licenseId } = await licensed(t, 'SUBSCRIPTION', { organizationId: f.organizationId });
          return act(() => t.request(RevokeLicenseDocument, { id: licenseId, reason: 'x'.repeat(501) }, f.orgAdmin.secret));
        },
      },
      {
        title: 'a license revoked already',
        code: 'INVALID_STATE_TRANSITION',
        async attempt(t, f, act) {
          const { licenseId } = await licensed(t, 'SUBSCRIPTION', { organizationId: f.organizationId });
          await t.ok(RevokeLicenseDocument, { id: licenseId });
          return act(() => t.request(RevokeLicenseDocument, { id: licenseId }, f.orgAdmin.secret));
        },
      },
    ],
  },
  renewLicense: {
    title: 'license.renew, with the end of the term before and after',
    async perform(t, f, act) {
      const { licenseId } = await licensed(t, 'SUBSCRIPTION', { organizationId: f.organizationId });
      const { license } = await t.ok(LicenseDocument, { id: licenseId });
      const { renewLicense } = await act(() => t.ok(RenewLicenseDocument, { id: licenseId, input: { termDays: 30 } }, f.orgAdmin.secret));
      expect(renewLicense.term.expiresAt).not.toBe(license.term.expiresAt);
      return {
        action: 'license.renew',
        objectType: 'License',
        objectId: licenseId,
        actor: byToken(f.orgAdmin),
        organizationId: f.organizationId,
        before: { status: 'ACTIVE', expiresAt: license.term.expiresAt },
        after: { status: 'ACTIVE', expiresAt: renewLicense.term.expiresAt },
      };
    },
    failures: [
      {
        title: 'a new end in the past',
        code: 'BAD_USER_INPUT',
        async attempt(t, f, act) {
          const { licenseId } = await licensed(t, 'SUBSCRIPTION', { organizationId: f.organizationId });
          const input = { expiresAt: '2001-01-01T00:00:00.000Z' };
          return act(() => t.request(RenewLicenseDocument, { id: licenseId, input }, f.orgAdmin.secret));
        },
      },
      {
        title: 'a license that does not exist',
        code: 'NOT_FOUND',
        attempt: (t, f, act) => act(() => t.request(RenewLicenseDocument, { id: randomUUID() }, f.orgAdmin.secret)),
      },
    ],
  },
  setLicenseAutoRenew: {
    title: 'license.setAutoRenew, with automatic renewal before and after',
    async perform(t, f, act) {
      const { licenseId } = await licensed(t, 'SUBSCRIPTION', { organizationId: f.organizationId });
      const { setLicenseAutoRenew } = await act(() =>
        t.ok(SetLicenseAutoRenewDocument, { id: licenseId, autoRenew: true }, f.orgAdmin.secret),
      );
      expect(setLicenseAutoRenew.term.autoRenew).toBe(true);
      return {
        action: 'license.setAutoRenew',
        objectType: 'License',
        objectId: licenseId,
        actor: byToken(f.orgAdmin),
        organizationId: f.organizationId,
        before: { status: 'ACTIVE', autoRenew: false },
        after: { status: 'ACTIVE', autoRenew: true },
      };
    },
    failures: [
      {
        title: 'a perpetual license',
        code: 'BAD_USER_INPUT',
        async attempt(t, f, act) {
          const { licenseId } = await licensed(t, 'SITE', { organizationId: f.organizationId }, { termDays: null });
          return act(() => t.request(SetLicenseAutoRenewDocument, { id: licenseId, autoRenew: true }, f.orgAdmin.secret));
        },
      },
      {
        title: 'a license that does not exist',
        code: 'NOT_FOUND',
        attempt: (t, f, act) =>
          act(() => t.request(SetLicenseAutoRenewDocument, { id: randomUUID(), autoRenew: false }, f.orgAdmin.secret)),
      },
    ],
  },
  assignSeat: {
    title: 'seat.assign, naming the license and the user',
    async perform(t, f, act) {
      const { licenseId } = await licensed(t, 'USER', { organizationId: f.organizationId });
      const userId = `${unique('user')}@example.com`;
      const { assignSeat } = await act(() => t.ok(AssignSeatDocument, { licenseId, userId }, f.orgAdmin.secret));
      return {
        action: 'seat.assign',
        objectType: 'Seat',
        objectId: assignSeat.seat!.id,
        actor: byToken(f.orgAdmin),
        organizationId: f.organizationId,
        before: null,
        after: { licenseId, userId, releasedAt: null },
      };
    },
    failures: [
      {
        title: 'a license of another type than USER',
        code: 'UNSUPPORTED_LICENSE_TYPE',
        async attempt(t, f, act) {
          const { licenseId } = await licensed(t, 'CONCURRENT', { organizationId: f.organizationId });
          return act(() => t.request(AssignSeatDocument, { licenseId, userId: unique('user') }, f.orgAdmin.secret));
        },
      },
      {
        title: 'asked by an auditor',
        code: 'FORBIDDEN',
        async attempt(t, f, act) {
          const { licenseId } = await licensed(t, 'USER', { organizationId: f.organizationId });
          return act(() => t.request(AssignSeatDocument, { licenseId, userId: unique('user') }, f.auditor.secret));
        },
      },
    ],
  },
  releaseSeat: {
    title: 'seat.release, with the seat before and after',
    async perform(t, f, act) {
      const { licenseId } = await licensed(t, 'USER', { organizationId: f.organizationId });
      const userId = `${unique('user')}@example.com`;
      const seat = (await t.ok(AssignSeatDocument, { licenseId, userId })).assignSeat.seat!;
      const { releaseSeat } = await act(() => t.ok(ReleaseSeatDocument, { seatId: seat.id }, f.orgAdmin.secret));
      return {
        action: 'seat.release',
        objectType: 'Seat',
        objectId: seat.id,
        actor: byToken(f.orgAdmin),
        organizationId: f.organizationId,
        before: { licenseId, userId, releasedAt: null, releaseReason: null },
        after: { licenseId, userId, releasedAt: releaseSeat.seat.releasedAt, releaseReason: 'RELEASED_BY_ADMIN' },
      };
    },
    failures: [
      {
        title: 'a seat that does not exist',
        code: 'NOT_FOUND',
        attempt: (t, f, act) => act(() => t.request(ReleaseSeatDocument, { seatId: randomUUID() }, f.orgAdmin.secret)),
      },
      {
        title: 'asked by an auditor',
        code: 'FORBIDDEN',
        async attempt(t, f, act) {
          const { licenseId } = await licensed(t, 'USER', { organizationId: f.organizationId });
          const seat = (await t.ok(AssignSeatDocument, { licenseId, userId: unique('user') })).assignSeat.seat!;
          return act(() => t.request(ReleaseSeatDocument, { seatId: seat.id }, f.auditor.secret));
        },
      },
    ],
  },
  checkoutSeat: {
    title: 'lease.checkout by the license key, without the key',
    async perform(t, f, act) {
      const license = await licensed(t, 'CONCURRENT', { organizationId: f.organizationId });
      const fingerprint = unique('machine');
      const { checkoutSeat } = await act(() =>
        t.ok(CheckoutSeatDocument, { key: license.key, fingerprint, user: 'ada@example.com' }, null),
      );
      return {
        action: 'lease.checkout',
        objectType: 'Lease',
        objectId: checkoutSeat.lease!.id,
        actor: byLicense(license.licenseId),
        organizationId: f.organizationId,
        before: null,
        after: { fingerprint, userId: 'ada@example.com', expiresAt: checkoutSeat.lease!.expiresAt, releasedAt: null },
        secrets: [license.key],
      };
    },
    failures: [
      {
        title: 'the key of a license of another type than CONCURRENT',
        code: 'UNSUPPORTED_LICENSE_TYPE',
        async attempt(t, f, act) {
          const { key } = await licensed(t, 'USER', { organizationId: f.organizationId });
          return act(() => t.request(CheckoutSeatDocument, { key, fingerprint: unique('machine') }, null));
        },
      },
      {
        title: 'a key that opens no license',
        code: 'UNAUTHENTICATED',
        attempt: (t, _f, act) =>
          act(() => t.request(CheckoutSeatDocument, { key: 'AINX-00000000-00000000-00000000-00000000', fingerprint: unique('m') }, null)),
      },
    ],
  },
  heartbeatSeat: {
    title: 'lease.heartbeat by the license key, with the expiry before and after',
    async perform(t, f, act) {
      const { license, fingerprint, lease } = await concurrentWithLease(t, f);
      await t.clock.advance(5); // a later expiry than the checkout's
      const { heartbeatSeat } = await act(() => t.ok(HeartbeatSeatDocument, { key: license.key, leaseId: lease.id }, null));
      expect(heartbeatSeat.lease.expiresAt > lease.expiresAt).toBe(true);
      return {
        action: 'lease.heartbeat',
        objectType: 'Lease',
        objectId: lease.id,
        actor: byLicense(license.licenseId),
        organizationId: f.organizationId,
        before: { fingerprint, expiresAt: lease.expiresAt, releasedAt: null },
        after: { fingerprint, expiresAt: heartbeatSeat.lease.expiresAt, releasedAt: null },
        secrets: [license.key],
      };
    },
    failures: [
      {
        title: "a lease of another license than the key's",
        code: 'NOT_FOUND',
        async attempt(t, f, act) {
          const { lease } = await concurrentWithLease(t, f);
          const other = await licensed(t, 'CONCURRENT', { organizationId: f.organizationId });
          return act(() => t.request(HeartbeatSeatDocument, { key: other.key, leaseId: lease.id }, null));
        },
      },
    ],
  },
  issueLicenseCertificate: {
    title: 'certificate.issue by the license key, with the signing key, the binding and the end, without the key or the certificate',
    async perform(t, f, act) {
      const license = await licensed(t, 'CONCURRENT', { organizationId: f.organizationId });
      const fingerprint = unique('machine');
      const { checkoutSeat } = await t.ok(CheckoutSeatDocument, { key: license.key, fingerprint }, null);
      const { issueLicenseCertificate: issued } = await act(() =>
        t.ok(IssueLicenseCertificateDocument, { key: license.key, fingerprint, ttlSeconds: 3_600 }, null),
      );
      const jti = JSON.parse(Buffer.from(issued.certificate.split('.')[1]!, 'base64url').toString()).jti;
      return {
        action: 'certificate.issue',
        objectType: 'License',
        objectId: license.licenseId,
        actor: byLicense(license.licenseId),
        organizationId: f.organizationId,
        before: null,
        after: { kid: issued.kid, jti, fingerprint, leaseId: checkoutSeat.lease!.id, expiresAt: issued.expiresAt },
        secrets: [license.key, issued.certificate],
      };
    },
    failures: [
      {
        title: 'a TTL under an hour',
        code: 'BAD_USER_INPUT',
        async attempt(t, f, act) {
          const { key } = await licensed(t, 'SUBSCRIPTION', { organizationId: f.organizationId });
          return act(() => t.request(IssueLicenseCertificateDocument, { key, ttlSeconds: 60 }, null));
        },
      },
      {
        title: 'a suspended license',
        code: 'INVALID_STATE_TRANSITION',
        async attempt(t, f, act) {
          const { key, licenseId } = await licensed(t, 'SUBSCRIPTION', { organizationId: f.organizationId });
          await t.ok(SuspendLicenseDocument, { id: licenseId, reason: 'unpaid' });
          return act(() => t.request(IssueLicenseCertificateDocument, { key }, null));
        },
      },
    ],
  },
  regenerateLicenseKey: {
    title: 'license.regenerateKey with the key hints before and after, without the keys',
    async perform(t, f, act) {
      const license = await licensed(t, 'SUBSCRIPTION', { organizationId: f.organizationId });
      const { regenerateLicenseKey } = await act(() => t.ok(RegenerateLicenseKeyDocument, { id: license.licenseId }, f.orgAdmin.secret));
      return {
        action: 'license.regenerateKey',
        objectType: 'License',
        objectId: license.licenseId,
        actor: byToken(f.orgAdmin),
        organizationId: f.organizationId,
        before: expect.objectContaining({ keyHint: license.key.slice(-4) }),
        after: expect.objectContaining({ keyHint: regenerateLicenseKey.key.slice(-4) }),
        secrets: [license.key, regenerateLicenseKey.key],
      };
    },
    failures: [
      {
        title: 'a revoked license',
        code: 'INVALID_STATE_TRANSITION',
        async attempt(t, f, act) {
          const { licenseId } = await licensed(t, 'SUBSCRIPTION', { organizationId: f.organizationId });
          await t.ok(RevokeLicenseDocument, { id: licenseId, reason: 'ended' });
          return act(() => t.request(RegenerateLicenseKeyDocument, { id: licenseId }, f.orgAdmin.secret));
        },
      },
    ],
  },
  borrowSeat: {
    title: 'lease.checkout until the seat is due back, then certificate.issue to that date, by the license key',
    async perform(t, f, act) {
      const license = await licensed(t, 'CONCURRENT', { organizationId: f.organizationId });
      const fingerprint = unique('laptop');
      const until = new Date(t.clock.now().getTime() + 3 * 86_400_000).toISOString();
      const { borrowSeat } = await act(() => t.ok(BorrowSeatDocument, { key: license.key, fingerprint, until }, null));
      const lease = borrowSeat.checkout.lease!;
      return [
        {
          action: 'lease.checkout',
          objectType: 'Lease',
          objectId: lease.id,
          actor: byLicense(license.licenseId),
          organizationId: f.organizationId,
          before: null,
          after: { fingerprint, expiresAt: until, releasedAt: null },
          secrets: [license.key],
        },
        {
          action: 'certificate.issue',
          objectType: 'License',
          objectId: license.licenseId,
          actor: byLicense(license.licenseId),
          organizationId: f.organizationId,
          before: null,
          after: { fingerprint, leaseId: lease.id, expiresAt: borrowSeat.certificate!.expiresAt },
          secrets: [license.key, borrowSeat.certificate!.certificate],
        },
      ];
    },
    failures: [
      {
        title: 'a date past 180 days',
        code: 'BAD_USER_INPUT',
        async attempt(t, f, act) {
          const { key } = await licensed(t, 'CONCURRENT', { organizationId: f.organizationId });
          const until = new Date(t.clock.now().getTime() + 200 * 86_400_000).toISOString();
          return act(() => t.request(BorrowSeatDocument, { key, fingerprint: unique('laptop'), until }, null));
        },
      },
    ],
  },
  rotateSigningKey: {
    title: 'signingKey.rotate with the key it retired, outside any organization',
    async perform(t, f, act) {
      const { issueLicenseCertificate: before } = await t.ok(
        IssueLicenseCertificateDocument,
        { key: (await licensed(t, 'SUBSCRIPTION', { organizationId: f.organizationId })).key },
        null,
      );
      const { rotateSigningKey } = await act(() => t.ok(RotateSigningKeyDocument, {}, f.platform.secret));
      return {
        action: 'signingKey.rotate',
        objectType: 'SigningKey',
        objectId: rotateSigningKey.kid,
        actor: byToken(f.platform),
        organizationId: null,
        before: { kid: before.kid },
        after: { kid: rotateSigningKey.kid, retired: before.kid },
      };
    },
    failures: [
      {
        title: 'an organization admin',
        code: 'FORBIDDEN',
        attempt: (t, f, act) => act(() => t.request(RotateSigningKeyDocument, {}, f.orgAdmin.secret)),
      },
    ],
  },
  acknowledgeAlert: {
    title: 'alert.acknowledge, by the token that acknowledged it',
    async perform(t, f, act) {
      const license = await licensed(t, 'SUBSCRIPTION', { organizationId: f.organizationId });
      await t.ok(RecordUsageDocument, { key: license.key, metric: 'API_CALLS', amount: 900_000 }, null);
      const [alert] = (await t.ok(AlertsDocument, { filter: { licenseId: license.licenseId } })).alerts.nodes;
      const { acknowledgeAlert } = await act(() => t.ok(AcknowledgeAlertDocument, { id: alert!.id }, f.orgAdmin.secret));
      return {
        action: 'alert.acknowledge',
        objectType: 'Alert',
        objectId: alert!.id,
        actor: byToken(f.orgAdmin),
        organizationId: f.organizationId,
        before: { acknowledgedAt: null },
        after: { acknowledgedAt: acknowledgeAlert.acknowledgedAt, acknowledgedBy: acknowledgeAlert.acknowledgedBy },
      };
    },
    failures: [
      {
        title: 'an alert acknowledged already',
        code: 'INVALID_STATE_TRANSITION',
        async attempt(t, f, act) {
          const license = await licensed(t, 'SUBSCRIPTION', { organizationId: f.organizationId });
          await t.ok(RecordUsageDocument, { key: license.key, metric: 'API_CALLS', amount: 900_000 }, null);
          const [alert] = (await t.ok(AlertsDocument, { filter: { licenseId: license.licenseId } })).alerts.nodes;
          await t.ok(AcknowledgeAlertDocument, { id: alert!.id }, f.orgAdmin.secret);
          return act(() => t.request(AcknowledgeAlertDocument, { id: alert!.id }, f.orgAdmin.secret));
        },
      },
    ],
  },
  setThresholdRule: {
    title: "alertRule.set on the license, with the rule it replaced (the plan's or the default, inherited)",
    async perform(t, f, act) {
      const license = await licensed(t, 'SUBSCRIPTION', { organizationId: f.organizationId });
      const input = { licenseId: license.licenseId, metric: 'STORAGE_BYTES' as const, thresholds: [75, 50], rearmMargin: 10 };
      await act(() => t.ok(SetThresholdRuleDocument, { input }, f.orgAdmin.secret));
      return {
        action: 'alertRule.set',
        objectType: 'License',
        objectId: license.licenseId,
        actor: byToken(f.orgAdmin),
        organizationId: f.organizationId,
        before: { subject: 'STORAGE_BYTES', inherited: true },
        after: { subject: 'STORAGE_BYTES', levels: [50, 75], rearmMargin: 10 },
      };
    },
    failures: [
      {
        title: 'a threshold of 0 %',
        code: 'BAD_USER_INPUT',
        async attempt(t, f, act) {
          const license = await licensed(t, 'SUBSCRIPTION', { organizationId: f.organizationId });
          const input = { licenseId: license.licenseId, metric: 'API_CALLS' as const, thresholds: [0, 90] };
          return act(() => t.request(SetThresholdRuleDocument, { input }, f.orgAdmin.secret));
        },
      },
      {
        title: "a plan's rule asked by an org admin",
        code: 'FORBIDDEN',
        async attempt(t, f, act) {
          const license = await licensed(t, 'SUBSCRIPTION', { organizationId: f.organizationId });
          const input = { planId: license.planId, metric: 'API_CALLS' as const, thresholds: [90] };
          return act(() => t.request(SetThresholdRuleDocument, { input }, f.orgAdmin.secret));
        },
      },
    ],
  },
  setExpiryNotices: {
    title: 'alertRule.set on the plan, with the reminders it replaced',
    async perform(t, f, act) {
      const license = await licensed(t, 'SUBSCRIPTION', { organizationId: f.organizationId });
      await t.ok(SetExpiryNoticesDocument, { input: { planId: license.planId, daysBefore: [60] } }, f.platform.secret);
      await act(() => t.ok(SetExpiryNoticesDocument, { input: { planId: license.planId, daysBefore: [14, 45] } }, f.platform.secret));
      return {
        action: 'alertRule.set',
        objectType: 'Plan',
        objectId: license.planId,
        actor: byToken(f.platform),
        organizationId: null,
        before: { subject: 'EXPIRY', levels: [60] },
        after: { subject: 'EXPIRY', levels: [45, 14] },
      };
    },
    failures: [
      {
        title: 'the same day twice',
        code: 'BAD_USER_INPUT',
        async attempt(t, f, act) {
          const license = await licensed(t, 'SUBSCRIPTION', { organizationId: f.organizationId });
          return act(() =>
            t.request(SetExpiryNoticesDocument, { input: { licenseId: license.licenseId, daysBefore: [7, 7] } }, f.orgAdmin.secret),
          );
        },
      },
      {
        title: 'both a license and a plan',
        code: 'BAD_USER_INPUT',
        async attempt(t, f, act) {
          const license = await licensed(t, 'SUBSCRIPTION', { organizationId: f.organizationId });
          const input = { licenseId: license.licenseId, planId: license.planId, daysBefore: [7] };
          return act(() => t.request(SetExpiryNoticesDocument, { input }, f.platform.secret));
        },
      },
    ],
  },
  recordUsage: {
    title: 'usage.record by the license key, with the value before and after',
    async perform(t, f, act) {
      const license = await licensed(t, 'SUBSCRIPTION', { organizationId: f.organizationId });
      await t.ok(RecordUsageDocument, { key: license.key, metric: 'API_CALLS', amount: 2 }, null);
      const { recordUsage } = await act(() => t.ok(RecordUsageDocument, { key: license.key, metric: 'API_CALLS', amount: 5 }, null));
      expect(recordUsage.usage.value).toBe(7);
      return {
        action: 'usage.record',
        objectType: 'License',
        objectId: license.licenseId,
        actor: byLicense(license.licenseId),
        organizationId: f.organizationId,
        before: { metric: 'API_CALLS', value: 2 },
        after: { metric: 'API_CALLS', value: 7, reported: 5 },
        secrets: [license.key],
      };
    },
    failures: [
      {
        title: 'a metric that is derived, not reported',
        code: 'BAD_USER_INPUT',
        async attempt(t, f, act) {
          const license = await licensed(t, 'USER', { organizationId: f.organizationId });
          return act(() => t.request(RecordUsageDocument, { key: license.key, metric: 'ACTIVE_USERS', value: 3 }, null));
        },
      },
      {
        title: 'a negative storage total',
        code: 'BAD_USER_INPUT',
        async attempt(t, f, act) {
          const license = await licensed(t, 'SUBSCRIPTION', { organizationId: f.organizationId });
          return act(() => t.request(RecordUsageDocument, { key: license.key, metric: 'STORAGE_BYTES', value: -1 }, null));
        },
      },
    ],
  },
  checkinSeat: {
    title: 'lease.checkin by the license key, with the lease before and after',
    async perform(t, f, act) {
      const { license, fingerprint, lease } = await concurrentWithLease(t, f);
      const { checkinSeat } = await act(() => t.ok(CheckinSeatDocument, { key: license.key, leaseId: lease.id }, null));
      return {
        action: 'lease.checkin',
        objectType: 'Lease',
        objectId: lease.id,
        actor: byLicense(license.licenseId),
        organizationId: f.organizationId,
        before: { fingerprint, releasedAt: null, releaseReason: null },
        after: { fingerprint, releasedAt: checkinSeat.lease.releasedAt, releaseReason: 'CHECKED_IN' },
        secrets: [license.key],
      };
    },
    failures: [
      {
        title: 'a malformed key',
        code: 'BAD_USER_INPUT',
        async attempt(t, f, act) {
          const { lease } = await concurrentWithLease(t, f);
          return act(() => t.request(CheckinSeatDocument, { key: 'not-a-license-key', leaseId: lease.id }, null));
        },
      },
      {
        title: "a lease of another license than the key's",
        code: 'NOT_FOUND',
        async attempt(t, f, act) {
          const { lease } = await concurrentWithLease(t, f);
          const other = await licensed(t, 'CONCURRENT', { organizationId: f.organizationId });
          return act(() => t.request(CheckinSeatDocument, { key: other.key, leaseId: lease.id }, null));
        },
      },
    ],
  },
  acknowledgeViolation: {
    title: 'violation.acknowledge, with the violation as it is then',
    async perform(t, f, act) {
      const { violationId } = await violated(t, f.organizationId);
      const { acknowledgeViolation } = await act(() => t.ok(AcknowledgeViolationDocument, { id: violationId }, f.orgAdmin.secret));
      return {
        action: 'violation.acknowledge',
        objectType: 'Violation',
        objectId: violationId,
        actor: byToken(f.orgAdmin),
        organizationId: f.organizationId,
        // A violation's events keep it as it is after; its compliance log has every state it went through.
        before: null,
        after: { ...OVER_STORAGE, status: acknowledgeViolation.status, remediations: 0 },
      };
    },
    failures: [
      {
        title: 'a violation acknowledged already',
        code: 'INVALID_STATE_TRANSITION',
        async attempt(t, f, act) {
          const { violationId } = await violated(t, f.organizationId);
          await t.ok(AcknowledgeViolationDocument, { id: violationId });
          return act(() => t.request(AcknowledgeViolationDocument, { id: violationId }, f.orgAdmin.secret));
        },
      },
      {
        title: 'a violation of another organization',
        code: 'NOT_FOUND',
        async attempt(t, f, act) {
          const { violationId } = await violated(t, (await organization(t)).id);
          return act(() => t.request(AcknowledgeViolationDocument, { id: violationId }, f.orgAdmin.secret));
        },
      },
      {
        title: 'asked by an auditor',
        code: 'FORBIDDEN',
        async attempt(t, f, act) {
          const { violationId } = await violated(t, f.organizationId);
          return act(() => t.request(AcknowledgeViolationDocument, { id: violationId }, f.auditor.secret));
        },
      },
    ],
  },
  resolveViolation: {
    title: 'violation.resolve, with the reason',
    async perform(t, f, act) {
      const { violationId } = await violated(t, f.organizationId);
      const reason = 'settled with the customer';
      await act(() => t.ok(ResolveViolationDocument, { id: violationId, reason }, f.orgAdmin.secret));
      return {
        action: 'violation.resolve',
        objectType: 'Violation',
        objectId: violationId,
        actor: byToken(f.orgAdmin),
        organizationId: f.organizationId,
        before: null,
        after: { ...OVER_STORAGE, status: 'RESOLVED', resolution: reason },
      };
    },
    failures: [
      {
        title: 'a blank reason',
        code: 'BAD_USER_INPUT',
        async attempt(t, f, act) {
          const { violationId } = await violated(t, f.organizationId);
          return act(() => t.request(ResolveViolationDocument, { id: violationId, reason: '  ' }, f.orgAdmin.secret));
        },
      },
      {
        title: 'a violation resolved already',
        code: 'INVALID_STATE_TRANSITION',
        async attempt(t, f, act) {
          const { violationId } = await violated(t, f.organizationId);
          await t.ok(ResolveViolationDocument, { id: violationId, reason: 'first' });
          return act(() => t.request(ResolveViolationDocument, { id: violationId, reason: 'second' }, f.orgAdmin.secret));
        },
      },
      {
        title: 'a violation that does not exist',
        code: 'NOT_FOUND',
        attempt: (t, f, act) => act(() => t.request(ResolveViolationDocument, { id: randomUUID(), reason: 'x' }, f.orgAdmin.secret)),
      },
    ],
  },
  waiveViolation: {
    title: 'violation.waive, with the reason and the end of the waiver',
    async perform(t, f, act) {
      const { violationId } = await violated(t, f.organizationId);
      const input = { id: violationId, reason: 'trial extension', until: new Date(Date.now() + 30 * 86_400_000).toISOString() };
      const { waiveViolation } = await act(() => t.ok(WaiveViolationDocument, { input }, f.orgAdmin.secret));
      expect(waiveViolation.waivedUntil).toBe(input.until);
      return {
        action: 'violation.waive',
        objectType: 'Violation',
        objectId: violationId,
        actor: byToken(f.orgAdmin),
        organizationId: f.organizationId,
        before: null,
        after: { ...OVER_STORAGE, status: 'WAIVED', waiverReason: input.reason, waivedUntil: input.until },
      };
    },
    failures: [
      {
        title: 'an end in the past',
        code: 'BAD_USER_INPUT',
        async attempt(t, f, act) {
          const { violationId } = await violated(t, f.organizationId);
          const input = { id: violationId, reason: 'x', until: '2001-01-01T00:00:00.000Z' };
          return act(() => t.request(WaiveViolationDocument, { input }, f.orgAdmin.secret));
        },
      },
      {
        title: 'a violation waived already',
        code: 'INVALID_STATE_TRANSITION',
        async attempt(t, f, act) {
          const { violationId } = await violated(t, f.organizationId);
          await t.ok(WaiveViolationDocument, { input: { id: violationId, reason: 'first' } });
          return act(() => t.request(WaiveViolationDocument, { input: { id: violationId, reason: 'second' } }, f.orgAdmin.secret));
        },
      },
      {
        title: 'asked by an auditor',
        code: 'FORBIDDEN',
        async attempt(t, f, act) {
          const { violationId } = await violated(t, f.organizationId);
          return act(() => t.request(WaiveViolationDocument, { input: { id: violationId, reason: 'x' } }, f.auditor.secret));
        },
      },
    ],
  },
  remediateViolation: {
    title:
      'license.raiseLimit with the limit before and after, violation.remediate with what was done, then violation.resolve as the breach cleared',
    async perform(t, f, act) {
      const { license, violationId } = await violated(t, f.organizationId);
      const input = { violationId, action: 'RAISE_LIMIT' as const, limit: 2 * STORAGE_LIMIT };
      const { remediateViolation } = await act(() => t.ok(RemediateViolationDocument, { input }, f.orgAdmin.secret));
      expect(remediateViolation.violation.status).toBe('RESOLVED');
      const common = { actor: byToken(f.orgAdmin), organizationId: f.organizationId, secrets: [license.key] };
      return [
        {
          ...common,
          action: 'license.raiseLimit',
          objectType: 'License',
          objectId: license.licenseId,
          before: { status: 'ACTIVE', limits: { storageBytes: STORAGE_LIMIT } },
          after: { status: 'ACTIVE', limits: { storageBytes: 2 * STORAGE_LIMIT } },
        },
        {
          ...common,
          action: 'violation.remediate',
          objectType: 'Violation',
          objectId: violationId,
          before: null,
          after: {
            ...OVER_STORAGE,
            status: 'OPEN',
            remediations: 1,
            remediation: { action: 'RAISE_LIMIT', summary: remediateViolation.summary },
          },
        },
        {
          ...common,
          action: 'violation.resolve',
          objectType: 'Violation',
          objectId: violationId,
          before: null,
          after: {
            ...OVER_STORAGE,
            status: 'RESOLVED',
            resolution: expect.stringContaining(`${STORAGE_LIMIT + 100} of ${2 * STORAGE_LIMIT}`),
            remediations: 1,
          },
        },
      ];
    },
    failures: [
      {
        title: 'a limit not above the current one',
        code: 'BAD_USER_INPUT',
        async attempt(t, f, act) {
          const { violationId } = await violated(t, f.organizationId);
          const input = { violationId, action: 'RAISE_LIMIT' as const, limit: STORAGE_LIMIT };
          return act(() => t.request(RemediateViolationDocument, { input }, f.orgAdmin.secret));
        },
      },
      {
        title: 'seats released for a storage overage',
        code: 'BAD_USER_INPUT',
        async attempt(t, f, act) {
          const { violationId } = await violated(t, f.organizationId);
          const input = { violationId, action: 'RELEASE_INACTIVE_SEATS' as const };
          return act(() => t.request(RemediateViolationDocument, { input }, f.orgAdmin.secret));
        },
      },
      {
        title: 'the license of the violation suspended already',
        code: 'INVALID_STATE_TRANSITION',
        async attempt(t, f, act) {
          const { license, violationId } = await violated(t, f.organizationId);
          await t.ok(SuspendLicenseDocument, { id: license.licenseId });
          const input = { violationId, action: 'SUSPEND_LICENSE' as const };
          return act(() => t.request(RemediateViolationDocument, { input }, f.orgAdmin.secret));
        },
      },
      {
        title: 'a violation resolved already',
        code: 'INVALID_STATE_TRANSITION',
        async attempt(t, f, act) {
          const { violationId } = await violated(t, f.organizationId);
          await t.ok(ResolveViolationDocument, { id: violationId, reason: 'settled' });
          const input = { violationId, action: 'SUSPEND_LICENSE' as const };
          return act(() => t.request(RemediateViolationDocument, { input }, f.orgAdmin.secret));
        },
      },
      {
        title: 'asked by an auditor',
        code: 'FORBIDDEN',
        async attempt(t, f, act) {
          const { violationId } = await violated(t, f.organizationId);
          const input = { violationId, action: 'SUSPEND_LICENSE' as const };
          return act(() => t.request(RemediateViolationDocument, { input }, f.auditor.secret));
        },
      },
    ],
  },
  migrateLicense: {
    title: 'license.migrate with the terms before and after, naming the migration, and nothing released',
    async perform(t, f, act) {
      const { license } = await userLicense(t, f.organizationId, ['ada@example.com']);
      const target = { limits: { namedUsers: 8 }, featureKeys: ['premium.analytics', 'premium.sso'] };
      const { migrateLicense } = await act(() =>
        t.ok(
          MigrateLicenseDocument,
          { licenseId: license.licenseId, target, onConflict: { strategy: 'RELEASE_LEAST_ACTIVE' } },
          f.orgAdmin.secret,
        ),
      );
      expect(migrateLicense).toMatchObject({ outcome: 'APPLIED', preview: { seatsReleased: [], leasesEnded: [], seatsAssigned: [] } });
      const terms = { status: 'ACTIVE', type: 'USER', planId: license.planId };
      return {
        action: 'license.migrate',
        objectType: 'License',
        objectId: license.licenseId,
        actor: byToken(f.orgAdmin),
        organizationId: f.organizationId,
        before: { ...terms, limits: { namedUsers: 5 }, features: ['premium.analytics'] },
        after: {
          ...terms,
          limits: { namedUsers: 8 },
          features: ['premium.analytics', 'premium.sso'],
          migrationId: migrateLicense.migration!.id,
          seatsReleased: 0,
          leasesEnded: 0,
        },
        secrets: [license.key],
      };
    },
    failures: [
      {
        title: 'ALLOW_OVERAGE_UNTIL without until',
        code: 'BAD_USER_INPUT',
        async attempt(t, f, act) {
          const { license } = await userLicense(t, f.organizationId);
          const variables = {
            licenseId: license.licenseId,
            target: { limits: { namedUsers: 8 } },
            onConflict: { strategy: 'ALLOW_OVERAGE_UNTIL' as const },
          };
          return act(() => t.request(MigrateLicenseDocument, variables, f.orgAdmin.secret));
        },
      },
      {
        title: 'a target that is the license as it is',
        code: 'BAD_USER_INPUT',
        async attempt(t, f, act) {
          const { license } = await userLicense(t, f.organizationId);
          const variables = {
            licenseId: license.licenseId,
            target: { limits: { namedUsers: 5 } },
            onConflict: { strategy: 'REJECT' as const },
          };
          return act(() => t.request(MigrateLicenseDocument, variables, f.orgAdmin.secret));
        },
      },
      {
        title: 'a revoked license',
        code: 'INVALID_STATE_TRANSITION',
        async attempt(t, f, act) {
          const { license } = await userLicense(t, f.organizationId);
          await t.ok(RevokeLicenseDocument, { id: license.licenseId });
          const variables = {
            licenseId: license.licenseId,
            target: { limits: { namedUsers: 8 } },
            onConflict: { strategy: 'REJECT' as const },
          };
          return act(() => t.request(MigrateLicenseDocument, variables, f.orgAdmin.secret));
        },
      },
      {
        title: 'a license of another organization',
        code: 'NOT_FOUND',
        async attempt(t, f, act) {
          const { license } = await userLicense(t, (await organization(t)).id);
          const variables = {
            licenseId: license.licenseId,
            target: { limits: { namedUsers: 8 } },
            onConflict: { strategy: 'REJECT' as const },
          };
          return act(() => t.request(MigrateLicenseDocument, variables, f.orgAdmin.secret));
        },
      },
      {
        title: 'asked by an auditor',
        code: 'FORBIDDEN',
        async attempt(t, f, act) {
          const { license } = await userLicense(t, f.organizationId);
          const variables = {
            licenseId: license.licenseId,
            target: { limits: { namedUsers: 8 } },
            onConflict: { strategy: 'REJECT' as const },
          };
          return act(() => t.request(MigrateLicenseDocument, variables, f.auditor.secret));
        },
      },
    ],
  },
  cancelLicenseMigration: {
    title: 'licenseMigration.cancel, with the status before and after',
    async perform(t, f, act) {
      const { migrationId } = await scheduledMigration(t, f.organizationId);
      const { cancelLicenseMigration } = await act(() => t.ok(CancelLicenseMigrationDocument, { id: migrationId }, f.orgAdmin.secret));
      expect(cancelLicenseMigration).toMatchObject({ status: 'CANCELLED', appliedAt: null });
      return {
        action: 'licenseMigration.cancel',
        objectType: 'LicenseMigration',
        objectId: migrationId,
        actor: byToken(f.orgAdmin),
        organizationId: f.organizationId,
        before: { status: 'SCHEDULED' },
        after: { status: 'CANCELLED' },
      };
    },
    failures: [
      {
        title: 'a migration cancelled already',
        code: 'INVALID_STATE_TRANSITION',
        async attempt(t, f, act) {
          const { migrationId } = await scheduledMigration(t, f.organizationId);
          await t.ok(CancelLicenseMigrationDocument, { id: migrationId });
          return act(() => t.request(CancelLicenseMigrationDocument, { id: migrationId }, f.orgAdmin.secret));
        },
      },
      {
        title: 'a migration applied already',
        code: 'INVALID_STATE_TRANSITION',
        async attempt(t, f, act) {
          const { license } = await userLicense(t, f.organizationId);
          const { migrateLicense } = await t.ok(MigrateLicenseDocument, {
            licenseId: license.licenseId,
            target: { limits: { namedUsers: 8 } },
            onConflict: { strategy: 'REJECT' },
          });
          return act(() => t.request(CancelLicenseMigrationDocument, { id: migrateLicense.migration!.id }, f.orgAdmin.secret));
        },
      },
      {
        title: 'a migration of another organization',
        code: 'NOT_FOUND',
        async attempt(t, f, act) {
          const { migrationId } = await scheduledMigration(t, (await organization(t)).id);
          return act(() => t.request(CancelLicenseMigrationDocument, { id: migrationId }, f.orgAdmin.secret));
        },
      },
      {
        title: 'a migration that does not exist',
        code: 'NOT_FOUND',
        attempt: (t, f, act) => act(() => t.request(CancelLicenseMigrationDocument, { id: randomUUID() }, f.orgAdmin.secret)),
      },
      {
        title: 'asked by an auditor',
        code: 'FORBIDDEN',
        async attempt(t, f, act) {
          const { migrationId } = await scheduledMigration(t, f.organizationId);
          return act(() => t.request(CancelLicenseMigrationDocument, { id: migrationId }, f.auditor.secret));
        },
      },
    ],
  },
  mergeFeatureLicense: {
    title:
      'license.migrate for the license merged into, with the features it gained, then license.migrate for the FEATURE license, revoked',
    async perform(t, f, act) {
      const { base, addOn } = await withFeatureLicense(t, f.organizationId);
      const { mergeFeatureLicense } = await act(() =>
        t.ok(MergeFeatureLicenseDocument, { featureLicenseId: addOn.licenseId, intoLicenseId: base.licenseId }, f.orgAdmin.secret),
      );
      expect(mergeFeatureLicense).toMatchObject({ id: base.licenseId, status: 'ACTIVE' });
      const [into] = await migrationsOf(t, base.licenseId);
      const [merged] = await migrationsOf(t, addOn.licenseId);
      expect(into!.detail).toContain('gained premium.sso');
      const common = {
        action: 'license.migrate',
        objectType: 'License',
        actor: byToken(f.orgAdmin),
        organizationId: f.organizationId,
        secrets: [base.key, addOn.key],
      };
      const subscription = { type: 'SUBSCRIPTION', planId: base.planId };
      const feature = { type: 'FEATURE', planId: base.planId, features: ['premium.analytics', 'premium.sso'] };
      return [
        {
          ...common,
          objectId: base.licenseId,
          before: { ...subscription, status: 'ACTIVE', features: ['premium.analytics'] },
          after: {
            ...subscription,
            status: 'ACTIVE',
            features: ['premium.analytics', 'premium.sso'],
            migrationId: into!.id,
            detail: into!.detail,
          },
        },
        {
          ...common,
          objectId: addOn.licenseId,
          before: { ...feature, status: 'ACTIVE' },
          after: { ...feature, status: 'REVOKED', migrationId: merged!.id, detail: merged!.detail },
        },
      ];
    },
    failures: [
      {
        title: 'a license that is not a FEATURE license',
        code: 'UNSUPPORTED_LICENSE_TYPE',
        async attempt(t, f, act) {
          const { base, addOn } = await withFeatureLicense(t, f.organizationId);
          const variables = { featureLicenseId: base.licenseId, intoLicenseId: addOn.licenseId };
          return act(() => t.request(MergeFeatureLicenseDocument, variables, f.orgAdmin.secret));
        },
      },
      {
        title: "into another organization's license",
        code: 'NOT_FOUND',
        async attempt(t, f, act) {
          const { addOn } = await withFeatureLicense(t, f.organizationId);
          const other = await licensed(t, 'SUBSCRIPTION');
          const variables = { featureLicenseId: addOn.licenseId, intoLicenseId: other.licenseId };
          return act(() => t.request(MergeFeatureLicenseDocument, variables, f.orgAdmin.secret));
        },
      },
      {
        title: 'into itself',
        code: 'BAD_USER_INPUT',
        async attempt(t, f, act) {
          const { addOn } = await withFeatureLicense(t, f.organizationId);
          const variables = { featureLicenseId: addOn.licenseId, intoLicenseId: addOn.licenseId };
          return act(() => t.request(MergeFeatureLicenseDocument, variables, f.orgAdmin.secret));
        },
      },
      {
        title: 'a FEATURE license merged already, so revoked',
        code: 'INVALID_STATE_TRANSITION',
        async attempt(t, f, act) {
          const { base, addOn } = await withFeatureLicense(t, f.organizationId);
          const variables = { featureLicenseId: addOn.licenseId, intoLicenseId: base.licenseId };
          await t.ok(MergeFeatureLicenseDocument, variables);
          return act(() => t.request(MergeFeatureLicenseDocument, variables, f.orgAdmin.secret));
        },
      },
      {
        title: 'asked by an auditor',
        code: 'FORBIDDEN',
        async attempt(t, f, act) {
          const { base, addOn } = await withFeatureLicense(t, f.organizationId);
          const variables = { featureLicenseId: addOn.licenseId, intoLicenseId: base.licenseId };
          return act(() => t.request(MergeFeatureLicenseDocument, variables, f.auditor.secret));
        },
      },
    ],
  },
  splitFeatureLicense: {
    title:
      'license.issue for the new FEATURE license, naming the license it was split from, without its key, then license.migrate for that license',
    async perform(t, f, act) {
      const base = await licensed(t, 'SUBSCRIPTION', {
        organizationId: f.organizationId,
        featureKeys: ['premium.analytics', 'premium.sso'],
      });
      const { splitFeatureLicense } = await act(() =>
        t.ok(SplitFeatureLicenseDocument, { licenseId: base.licenseId, featureKeys: ['premium.sso'] }, f.orgAdmin.secret),
      );
      const split = splitFeatureLicense.license;
      expect(split).toMatchObject({ type: 'FEATURE', status: 'ACTIVE', organizationId: f.organizationId, planId: base.planId });
      const [migration] = await migrationsOf(t, base.licenseId);
      expect(migration!.detail).toContain(split.id);
      const common = { objectType: 'License', actor: byToken(f.orgAdmin), organizationId: f.organizationId };
      const subscription = { type: 'SUBSCRIPTION', planId: base.planId };
      return [
        {
          ...common,
          action: 'license.issue',
          objectId: split.id,
          before: null,
          after: {
            status: 'ACTIVE',
            type: 'FEATURE',
            planId: base.planId,
            limits: { namedUsers: null, concurrentSessions: null, storageBytes: null, apiCallsPerPeriod: null },
            features: ['premium.sso'],
            site: { domains: [], cidrs: [] },
            splitFrom: base.licenseId,
            keyHint: splitFeatureLicense.key.slice(-4),
          },
          secrets: [splitFeatureLicense.key, base.key],
        },
        {
          ...common,
          action: 'license.migrate',
          objectId: base.licenseId,
          before: { ...subscription, status: 'ACTIVE', features: ['premium.analytics', 'premium.sso'] },
          after: {
            ...subscription,
            status: 'ACTIVE',
            features: ['premium.analytics'],
            migrationId: migration!.id,
            detail: migration!.detail,
          },
          secrets: [splitFeatureLicense.key, base.key],
        },
      ];
    },
    failures: [
      {
        title: 'a feature the license does not have',
        code: 'BAD_USER_INPUT',
        async attempt(t, f, act) {
          const { licenseId } = await licensed(t, 'SUBSCRIPTION', { organizationId: f.organizationId, featureKeys: ['premium.analytics'] });
          return act(() => t.request(SplitFeatureLicenseDocument, { licenseId, featureKeys: ['premium.sso'] }, f.orgAdmin.secret));
        },
      },
      {
        title: 'no feature at all',
        code: 'BAD_USER_INPUT',
        async attempt(t, f, act) {
          const { licenseId } = await licensed(t, 'SUBSCRIPTION', { organizationId: f.organizationId, featureKeys: ['premium.analytics'] });
          return act(() => t.request(SplitFeatureLicenseDocument, { licenseId, featureKeys: [] }, f.orgAdmin.secret));
        },
      },
      {
        title: 'the last feature of a FEATURE license',
        code: 'BAD_USER_INPUT',
        async attempt(t, f, act) {
          const { addOn } = await withFeatureLicense(t, f.organizationId, ['premium.sso']);
          const variables = { licenseId: addOn.licenseId, featureKeys: ['premium.sso'] };
          return act(() => t.request(SplitFeatureLicenseDocument, variables, f.orgAdmin.secret));
        },
      },
      {
        title: "another organization's license",
        code: 'NOT_FOUND',
        async attempt(t, f, act) {
          const { licenseId } = await licensed(t, 'SUBSCRIPTION', { featureKeys: ['premium.analytics', 'premium.sso'] });
          return act(() => t.request(SplitFeatureLicenseDocument, { licenseId, featureKeys: ['premium.sso'] }, f.orgAdmin.secret));
        },
      },
      {
        title: 'asked by an auditor',
        code: 'FORBIDDEN',
        async attempt(t, f, act) {
          const { licenseId } = await licensed(t, 'SUBSCRIPTION', {
            organizationId: f.organizationId,
            featureKeys: ['premium.analytics', 'premium.sso'],
          });
          return act(() => t.request(SplitFeatureLicenseDocument, { licenseId, featureKeys: ['premium.sso'] }, f.auditor.secret));
        },
      },
    ],
  },
  runComplianceCheck: {
    title: 'violation.open for the violation it opened, by the caller',
    async perform(t, f, act) {
      const { organizationId, license } = await unresolvedBreach(t);
      const { runComplianceCheck } = await act(() => t.ok(RunComplianceCheckDocument, { organizationId }, f.platform.secret));
      expect(runComplianceCheck).toMatchObject({ skipped: false, licensesChecked: 1, violationsOpened: 1 });
      const { violations } = await t.ok(ViolationsDocument, { filter: { licenseId: license.licenseId, statuses: ['OPEN'] } });
      return {
        action: 'violation.open',
        objectType: 'Violation',
        objectId: violations.nodes[0]!.id,
        actor: byToken(f.platform),
        organizationId,
        before: null,
        after: { ...OVER_STORAGE, status: 'OPEN', remediations: 0 },
      };
    },
    failures: [
      {
        title: 'another organization named by an org admin',
        code: 'FORBIDDEN',
        async attempt(t, f, act) {
          const { organizationId } = await unresolvedBreach(t);
          return act(() => t.request(RunComplianceCheckDocument, { organizationId }, f.orgAdmin.secret));
        },
      },
      {
        title: 'asked by an auditor of the organization',
        code: 'FORBIDDEN',
        async attempt(t, _f, act) {
          const { organizationId } = await unresolvedBreach(t);
          const auditor = await issueToken(t, 'AUDITOR', organizationId);
          return act(() => t.request(RunComplianceCheckDocument, {}, auditor.secret));
        },
      },
    ],
  },
  applyRecommendation: {
    title: 'license.migrate naming the recommendation it applied, with what it released',
    async perform(t, f, act) {
      const { license, id } = await reclaimable(t, f);
      const { applyRecommendation } = await act(() => t.ok(ApplyRecommendationDocument, { id }, f.orgAdmin.secret));
      expect(applyRecommendation.outcome).toBe('APPLIED');
      const [released] = applyRecommendation.preview.seatsReleased;
      expect(released?.userId).toBe('bob@example.com');
      const terms = { status: 'ACTIVE', type: 'USER', planId: license.planId, features: ['premium.analytics'] };
      const common = { actor: byToken(f.orgAdmin), organizationId: f.organizationId };
      const seatOf = { licenseId: license.licenseId, userId: 'bob@example.com' };
      return [
        {
          ...common,
          action: 'seat.release',
          objectType: 'Seat',
          objectId: released!.seatId,
          before: { ...seatOf, releasedAt: null, releaseReason: null },
          after: { ...seatOf, releaseReason: 'LICENSE_MIGRATED' },
        },
        {
          action: 'license.migrate',
          objectType: 'License',
          objectId: license.licenseId,
          actor: byToken(f.orgAdmin),
          organizationId: f.organizationId,
          before: { ...terms, limits: { namedUsers: 5 } },
          after: {
            ...terms,
            limits: { namedUsers: 1 },
            migrationId: applyRecommendation.migration!.id,
            seatsReleased: 1,
            leasesEnded: 0,
            recommendationId: id,
          },
          secrets: [license.key],
        },
      ];
    },
    failures: [
      {
        title: 'a recommendation that is not (or no longer) made',
        code: 'NOT_FOUND',
        async attempt(t, f, act) {
          const { id } = await reclaimable(t, f);
          const stale = `${id.slice(0, 30)}AAAAAA`;
          return act(() => t.request(ApplyRecommendationDocument, { id: stale }, f.orgAdmin.secret));
        },
      },
    ],
  },
  setRecommendationSettings: {
    title: 'recommendationSettings.set with the settings before (the defaults) and after',
    async perform(t, f, act) {
      await act(() =>
        t.ok(SetRecommendationSettingsDocument, { organizationId: f.organizationId, input: { inactiveDays: 45 } }, f.orgAdmin.secret),
      );
      const defaults = {
        windowDays: 90,
        inactiveDays: 30,
        unusedFeatureDays: 60,
        bufferPercent: 10,
        unmetDaySharePercent: 10,
        renewalDays: 60,
      };
      return {
        action: 'recommendationSettings.set',
        objectType: 'Organization',
        objectId: f.organizationId,
        actor: byToken(f.orgAdmin),
        organizationId: f.organizationId,
        before: { ...defaults, isDefault: true },
        after: { ...defaults, inactiveDays: 45 },
      };
    },
    failures: [
      {
        title: 'a setting out of range',
        code: 'BAD_USER_INPUT',
        attempt: (t, f, act) =>
          act(() =>
            t.request(SetRecommendationSettingsDocument, { organizationId: f.organizationId, input: { windowDays: 5 } }, f.orgAdmin.secret),
          ),
      },
    ],
  },
  dismissRecommendation: {
    title: 'recommendation.dismiss with the kind, the license and why',
    async perform(t, f, act) {
      const { license, id } = await reclaimable(t, f);
      await act(() => t.ok(DismissRecommendationDocument, { id, reason: 'seasonal staff' }, f.orgAdmin.secret));
      return {
        action: 'recommendation.dismiss',
        objectType: 'Recommendation',
        objectId: id,
        actor: byToken(f.orgAdmin),
        organizationId: f.organizationId,
        before: null,
        after: { kind: 'RECLAIM_INACTIVE_SEATS', licenseId: license.licenseId, reason: 'seasonal staff', until: null },
      };
    },
    failures: [
      {
        title: 'no reason',
        code: 'BAD_USER_INPUT',
        async attempt(t, f, act) {
          const { id } = await reclaimable(t, f);
          return act(() => t.request(DismissRecommendationDocument, { id, reason: '  ' }, f.orgAdmin.secret));
        },
      },
    ],
  },
};

/** Mutations that record other events when performed otherwise: further cases, run like those of AUDITED. */
const AUDITED_ALSO: Record<string, AuditCase[]> = {
  migrateLicense: [
    {
      title: 'licenseMigration.schedule AT_RENEWAL, with the end of the term it waits for and the target, and no license.migrate',
      async perform(t, f, act) {
        const { license } = await userLicense(t, f.organizationId, ['ada@example.com']);
        const { license: before } = await t.ok(LicenseDocument, { id: license.licenseId });
        const { migrateLicense } = await act(() =>
          t.ok(
            MigrateLicenseDocument,
            {
              licenseId: license.licenseId,
              target: { limits: { namedUsers: 8 } },
              effective: 'AT_RENEWAL',
              onConflict: { strategy: 'REJECT' },
            },
            f.orgAdmin.secret,
          ),
        );
        const migration = migrateLicense.migration!;
        expect(migration).toMatchObject({ status: 'SCHEDULED', dueTermEndsAt: before.term.expiresAt, appliedAt: null });
        // Nothing changes until the renewal.
        const { license: after } = await t.ok(LicenseDocument, { id: license.licenseId });
        expect(after.limits.namedUsers).toBe(5);
        return {
          action: 'licenseMigration.schedule',
          objectType: 'LicenseMigration',
          objectId: migration.id,
          actor: byToken(f.orgAdmin),
          organizationId: f.organizationId,
          before: null,
          after: {
            licenseId: license.licenseId,
            dueTermEndsAt: before.term.expiresAt,
            strategy: 'REJECT',
            to: { type: 'USER', planId: license.planId, limits: { namedUsers: 8 } },
          },
          secrets: [license.key],
        };
      },
      failures: [
        {
          title: 'a perpetual license, which has no renewal to wait for',
          code: 'BAD_USER_INPUT',
          async attempt(t, f, act) {
            const { licenseId } = await licensed(t, 'USER', { organizationId: f.organizationId }, { termDays: null });
            const variables = {
              licenseId,
              target: { limits: { namedUsers: 8 } },
              effective: 'AT_RENEWAL' as const,
              onConflict: { strategy: 'REJECT' as const },
            };
            return act(() => t.request(MigrateLicenseDocument, variables, f.orgAdmin.secret));
          },
        },
        {
          title: 'a second migration while one waits for the renewal',
          code: 'CONFLICT',
          async attempt(t, f, act) {
            const { license } = await scheduledMigration(t, f.organizationId);
            const variables = {
              licenseId: license.licenseId,
              target: { limits: { namedUsers: 8 } },
              effective: 'AT_RENEWAL' as const,
              onConflict: { strategy: 'REJECT' as const },
            };
            return act(() => t.request(MigrateLicenseDocument, variables, f.orgAdmin.secret));
          },
        },
      ],
    },
    {
      title: 'seat.release for each seat it frees, least active first, then license.migrate counting them',
      async perform(t, f, act) {
        const { license, seats } = await userLicense(t, f.organizationId, ['ada@example.com', 'bob@example.com', 'cy@example.com']);
        const { migrateLicense } = await act(() =>
          t.ok(
            MigrateLicenseDocument,
            { licenseId: license.licenseId, target: { limits: { namedUsers: 1 } }, onConflict: { strategy: 'RELEASE_LEAST_ACTIVE' } },
            f.orgAdmin.secret,
          ),
        );
        const released = migrateLicense.preview.seatsReleased;
        expect(released.map((s) => s.seatId)).toEqual([seats[0]!.id, seats[1]!.id]);
        const common = { actor: byToken(f.orgAdmin), organizationId: f.organizationId, secrets: [license.key] };
        return [
          ...seats.slice(0, 2).map((seat) => ({
            ...common,
            action: 'seat.release',
            objectType: 'Seat',
            objectId: seat.id,
            before: { licenseId: license.licenseId, userId: seat.userId, releasedAt: null, releaseReason: null },
            after: {
              licenseId: license.licenseId,
              userId: seat.userId,
              releasedAt: migrateLicense.migration!.appliedAt,
              releaseReason: 'LICENSE_MIGRATED',
            },
          })),
          {
            ...common,
            action: 'license.migrate',
            objectType: 'License',
            objectId: license.licenseId,
            before: { status: 'ACTIVE', type: 'USER', limits: { namedUsers: 5 } },
            after: { status: 'ACTIVE', type: 'USER', limits: { namedUsers: 1 }, seatsReleased: 2, leasesEnded: 0 },
          },
        ];
      },
      failures: [
        {
          title: 'a type that needs what the target does not give (USER → SITE without a site)',
          code: 'BAD_USER_INPUT',
          async attempt(t, f, act) {
            const { license } = await userLicense(t, f.organizationId, ['ada@example.com']);
            const variables = {
              licenseId: license.licenseId,
              target: { type: 'SITE' as const },
              onConflict: { strategy: 'RELEASE_LEAST_ACTIVE' as const },
            };
            return act(() => t.request(MigrateLicenseDocument, variables, f.orgAdmin.secret));
          },
        },
      ],
    },
  ],
  mergeFeatureLicense: [
    {
      title:
        'license.migrate for a SUSPENDED license merged into, which stays SUSPENDED, then license.migrate for the FEATURE license, revoked',
      async perform(t, f, act) {
        const { base, addOn } = await withFeatureLicense(t, f.organizationId, ['premium.sso']);
        await t.ok(SuspendLicenseDocument, { id: base.licenseId, reason: 'unpaid invoice' });
        const { mergeFeatureLicense } = await act(() =>
          t.ok(MergeFeatureLicenseDocument, { featureLicenseId: addOn.licenseId, intoLicenseId: base.licenseId }, f.orgAdmin.secret),
        );
        expect(mergeFeatureLicense).toMatchObject({ id: base.licenseId, status: 'SUSPENDED' });
        const common = { action: 'license.migrate', objectType: 'License', actor: byToken(f.orgAdmin), organizationId: f.organizationId };
        return [
          {
            ...common,
            objectId: base.licenseId,
            before: { status: 'SUSPENDED', features: ['premium.analytics'] },
            after: { status: 'SUSPENDED', features: ['premium.analytics', 'premium.sso'] },
          },
          {
            ...common,
            objectId: addOn.licenseId,
            before: { status: 'ACTIVE', type: 'FEATURE', features: ['premium.sso'] },
            after: { status: 'REVOKED', type: 'FEATURE', features: ['premium.sso'] },
          },
        ];
      },
      failures: [
        {
          title: 'into a revoked license',
          code: 'INVALID_STATE_TRANSITION',
          async attempt(t, f, act) {
            const { base, addOn } = await withFeatureLicense(t, f.organizationId, ['premium.sso']);
            await t.ok(RevokeLicenseDocument, { id: base.licenseId, reason: 'contract ended' });
            const variables = { featureLicenseId: addOn.licenseId, intoLicenseId: base.licenseId };
            return act(() => t.request(MergeFeatureLicenseDocument, variables, f.orgAdmin.secret));
          },
        },
      ],
    },
  ],
  splitFeatureLicense: [
    {
      title: 'license.issue for a FEATURE license split off a FEATURE license, then license.migrate for the one it keeps',
      async perform(t, f, act) {
        const { addOn } = await withFeatureLicense(t, f.organizationId);
        const { splitFeatureLicense } = await act(() =>
          t.ok(SplitFeatureLicenseDocument, { licenseId: addOn.licenseId, featureKeys: ['premium.analytics'] }, f.orgAdmin.secret),
        );
        const common = { objectType: 'License', actor: byToken(f.orgAdmin), organizationId: f.organizationId };
        const secrets = [addOn.key, splitFeatureLicense.key];
        return [
          {
            ...common,
            action: 'license.issue',
            objectId: splitFeatureLicense.license.id,
            before: null,
            after: { status: 'ACTIVE', type: 'FEATURE', features: ['premium.analytics'], splitFrom: addOn.licenseId },
            secrets,
          },
          {
            ...common,
            action: 'license.migrate',
            objectId: addOn.licenseId,
            before: { status: 'ACTIVE', type: 'FEATURE', features: ['premium.analytics', 'premium.sso'] },
            after: { status: 'ACTIVE', type: 'FEATURE', features: ['premium.sso'] },
            secrets,
          },
        ];
      },
      failures: [
        {
          title: 'a revoked license',
          code: 'INVALID_STATE_TRANSITION',
          async attempt(t, f, act) {
            const { addOn } = await withFeatureLicense(t, f.organizationId);
            await t.ok(RevokeLicenseDocument, { id: addOn.licenseId, reason: 'contract ended' });
            const variables = { licenseId: addOn.licenseId, featureKeys: ['premium.analytics'] };
            return act(() => t.request(SplitFeatureLicenseDocument, variables, f.orgAdmin.secret));
          },
        },
      ],
    },
  ],
};

describeEachDatabase('audit log', (server) => {
  let f: Fixture;

  beforeAll(async () => {
    const t = server();
    const org = await organization(t);
    f = {
      platform: await issueToken(t, 'PLATFORM_ADMIN', null),
      organizationId: org.id,
      orgAdmin: await issueToken(t, 'ORG_ADMIN', org.id),
      auditor: await issueToken(t, 'AUDITOR', org.id),
    };
  });

  /** Runs `perform` with an `act` that notes where the log ended and when the call ran; returns what followed. */
  async function watch<T>(t: TestServer, perform: (act: Act) => Promise<T>) {
    let cursor: string | undefined;
    let startedAt = 0;
    let endedAt = 0;
    const result = await perform(async (call) => {
      cursor = await endOfLog(t);
      startedAt = t.clock.now().getTime();
      const outcome = await call();
      endedAt = t.clock.now().getTime();
      return outcome;
    });
    if (!cursor) throw new Error('the audited call was not made through act()');
    return { result, events: await allEvents(t, {}, cursor), startedAt, endedAt };
  }

  /** The call left exactly the events expected, in that order, each made while it ran and naming its request. */
  function expectRecorded({
    result,
    events,
    startedAt,
    endedAt,
  }: {
    result: ExpectedEvent | ExpectedEvent[];
    events: AuditEvent[];
    startedAt: number;
    endedAt: number;
  }) {
    const expected = [result].flat();
    expect(events.map((e) => e.action)).toEqual(expected.map((e) => e.action));
    expect(new Set(events.map((e) => e.requestId)).size, 'one call, one request').toBe(1);
    expected.forEach((expected, i) => {
      const event = events[i]!;
      expect(event).toMatchObject({
        action: expected.action,
        objectType: expected.objectType,
        objectId: expected.objectId,
        organizationId: expected.organizationId,
        actor: expected.actor,
      });
      expect(event.requestId).toEqual(expect.any(String));
      const occurredAt = Date.parse(event.occurredAt);
      expect(occurredAt).toBeGreaterThanOrEqual(startedAt);
      expect(occurredAt).toBeLessThanOrEqual(endedAt);
      if (expected.before === null) expect(event.before).toBeNull();
      else expect(event.before).toMatchObject(expected.before);
      expect(event.after).toMatchObject(expected.after);
      for (const secret of expected.secrets ?? []) expect(JSON.stringify(event)).not.toContain(secret);
    });
  }

  describe('every mutation leaves an audit event', () => {
    it('has a case for every mutation of the schema, so that none goes unaudited', () => {
      const mutations = Object.keys(server().server.schema.getMutationType()!.getFields());
      expect(Object.keys(AUDITED).sort()).toEqual(mutations.sort());
      for (const [field, c] of Object.entries(AUDITED)) expect(c.failures.length, field).toBeGreaterThan(0);
      expect(mutations).toEqual(expect.arrayContaining(Object.keys(AUDITED_ALSO)));
    });

    const cases = [
      ...Object.entries(AUDITED),
      ...Object.entries(AUDITED_ALSO).flatMap(([field, more]) => more.map((c) => [field, c] as const)),
    ];
    for (const [field, c] of cases) {
      it(`${field} records ${c.title}`, async () => {
        const t = server();
        expectRecorded(await watch(t, (act) => c.perform(t, f, act)));
      });

      for (const failure of c.failures) {
        it(`${field} leaves no event when it fails: ${failure.title} (${failure.code})`, async () => {
          const t = server();
          const { result: response, events } = await watch(t, (act) => failure.attempt(t, f, act));
          expect(response.errors?.[0]?.extensions?.code, JSON.stringify(response.errors)).toBe(failure.code);
          expect(events).toEqual([]);
        });
      }
    }
  });

  describe('refusals', () => {
    // A refusal changes nothing: it leaves no event, so that clients retrying for a busy seat cannot grow the log.
    it('records nothing for a seat refused because every seat is taken, and assigns none', async () => {
      const t = server();
      const { licenseId } = await licensed(t, 'USER', { organizationId: f.organizationId, limits: { namedUsers: 1 } });
      await t.ok(AssignSeatDocument, { licenseId, userId: 'first@example.com' });
      const { result, events } = await watch(t, (act) =>
        act(() => t.ok(AssignSeatDocument, { licenseId, userId: 'second@example.com' }, f.orgAdmin.secret)),
      );
      expect(result.assignSeat).toMatchObject({ outcome: 'NO_SEAT_AVAILABLE', seat: null, seatsInUse: 1, seatLimit: 1 });
      expect(events).toEqual([]);
    });

    it('records nothing for a migration REJECTED because something is over the new limits, and migrates nothing', async () => {
      const t = server();
      const { license } = await userLicense(t, f.organizationId, ['ada@example.com', 'bob@example.com']);
      const { result, events } = await watch(t, (act) =>
        act(() =>
          t.ok(
            MigrateLicenseDocument,
            { licenseId: license.licenseId, target: { limits: { namedUsers: 1 } }, onConflict: { strategy: 'REJECT' } },
            f.orgAdmin.secret,
          ),
        ),
      );
      expect(result.migrateLicense).toMatchObject({
        outcome: 'REJECTED',
        migration: null,
        preview: { seatsReleased: [], conflicts: true },
      });
      expect(events).toEqual([]);
      const after = (await t.ok(LicenseMigrationsDocument, { id: license.licenseId })).license;
      expect(after).toMatchObject({ limits: { namedUsers: 5 }, migrations: [], scheduledMigration: null });
    });

    it('records nothing for a checkout refused because every seat is taken', async () => {
      const t = server();
      const { key } = await licensed(t, 'CONCURRENT', { organizationId: f.organizationId, limits: { concurrentSessions: 1 } });
      await t.ok(CheckoutSeatDocument, { key, fingerprint: 'first-machine' }, null);
      const { result, events } = await watch(t, (act) =>
        act(() => t.ok(CheckoutSeatDocument, { key, fingerprint: 'second-machine' }, null)),
      );
      expect(result.checkoutSeat).toMatchObject({ outcome: 'NO_SEAT_AVAILABLE', lease: null, seatsInUse: 1, seatLimit: 1 });
      expect(events).toEqual([]);
    });
  });

  describe('calls that change nothing', () => {
    it('records nothing for a compliance check that finds every violation as it should be', async () => {
      const t = server();
      const { organizationId } = await unresolvedBreach(t);
      expect((await t.ok(RunComplianceCheckDocument, { organizationId }, f.platform.secret)).runComplianceCheck.violationsOpened).toBe(1);
      const { result, events } = await watch(t, (act) =>
        act(() => t.ok(RunComplianceCheckDocument, { organizationId }, f.platform.secret)),
      );
      expect(result.runComplianceCheck).toMatchObject({
        skipped: false,
        licensesChecked: 1,
        violationsOpened: 0,
        violationsResolved: 0,
        violationsReopened: 0,
      });
      expect(events).toEqual([]);
    });
  });

  describe('reading the log', () => {
    /** An organization whose events are known one by one, a few milliseconds apart. */
    let org: string;
    let first: string;
    let second: string;
    let key: string;
    let admin: IssuedToken;
    let manager: IssuedToken;
    let auditor: IssuedToken;
    let everything: AuditEvent[];

    beforeAll(async () => {
      const t = server();
      org = (await organization(t)).id;
      admin = await issueToken(t, 'ORG_ADMIN', org);
      manager = await issueToken(t, 'LICENSE_MANAGER', org);
      auditor = await issueToken(t, 'AUDITOR', org);
      const license = await licensed(t, 'CONCURRENT', { organizationId: org });
      first = license.licenseId;
      key = license.key;
      await t.clock.advance(5);
      await t.ok(SuspendLicenseDocument, { id: first }, admin.secret);
      await t.clock.advance(5);
      await t.ok(ResumeLicenseDocument, { id: first }, manager.secret);
      await t.clock.advance(5);
      second = (await t.ok(IssueLicenseDocument, { input: { organizationId: org, planId: license.planId } }, admin.secret)).issueLicense
        .license.id;
      await t.clock.advance(5);
      await t.ok(CheckoutSeatDocument, { key, fingerprint: unique('machine') }, null);
      everything = await allEvents(t, { organizationId: org });
    });

    const actions = (events: readonly AuditEvent[]) => events.map((e) => e.action);

    it("lists an organization's events oldest first, and only its own", () => {
      expect(actions(everything)).toEqual([
        'organization.create',
        'apiToken.create',
        'apiToken.create',
        'apiToken.create',
        'license.issue',
        'license.suspend',
        'license.resume',
        'license.issue',
        'lease.checkout',
      ]);
      expect(new Set(everything.map((e) => e.organizationId))).toEqual(new Set([org]));
    });

    it('filters by object type, object, actor and action, alone and together', async () => {
      const t = server();
      const licenseEvents = await allEvents(t, { organizationId: org, objectType: 'License' });
      expect(actions(licenseEvents)).toEqual(['license.issue', 'license.suspend', 'license.resume', 'license.issue']);
      expect(new Set(licenseEvents.map((e) => e.objectType))).toEqual(new Set(['License']));

      const ofFirst = await allEvents(t, { objectId: first });
      expect(actions(ofFirst)).toEqual(['license.issue', 'license.suspend', 'license.resume']);
      expect(new Set(ofFirst.map((e) => e.objectId))).toEqual(new Set([first]));
      expect(actions(await allEvents(t, { objectId: second }))).toEqual(['license.issue']);

      expect(actions(await allEvents(t, { actorId: admin.id }))).toEqual(['license.suspend', 'license.issue']);
      expect(actions(await allEvents(t, { actorId: manager.id }))).toEqual(['license.resume']);
      expect(actions(await allEvents(t, { actorId: first }))).toEqual(['lease.checkout']);

      const issued = await allEvents(t, { organizationId: org, action: 'license.issue' });
      expect(issued.map((e) => e.objectId)).toEqual([first, second]);
      expect(await allEvents(t, { organizationId: org, action: 'license.issue', actorId: admin.id, objectType: 'License' })).toEqual([
        everything[7],
      ]);
      expect(await allEvents(t, { organizationId: org, action: 'license.revoke' })).toEqual([]);
    });

    it('filters by time, from inclusive and to exclusive', async () => {
      const t = server();
      const suspended = everything[5]!;
      const reissued = everything[7]!;
      expect(suspended.action).toBe('license.suspend');
      expect(reissued.action).toBe('license.issue');

      const from = await allEvents(t, { organizationId: org, from: suspended.occurredAt });
      expect(actions(from)).toEqual(['license.suspend', 'license.resume', 'license.issue', 'lease.checkout']);
      const to = await allEvents(t, { organizationId: org, to: reissued.occurredAt });
      expect(to).toEqual(everything.slice(0, 7));
      const between = await allEvents(t, { organizationId: org, from: suspended.occurredAt, to: reissued.occurredAt });
      expect(actions(between)).toEqual(['license.suspend', 'license.resume']);
      expect(await allEvents(t, { organizationId: org, from: reissued.occurredAt, to: reissued.occurredAt })).toEqual([]);
    });

    it('walks every page once with first and after, and says when the last page is reached', async () => {
      const t = server();
      const pages: AuditLogQuery['auditLog'][] = [];
      let after: string | null = null;
      do {
        const { auditLog }: AuditLogQuery = await t.ok(AuditLogDocument, { filter: { organizationId: org }, first: 3, after });
        pages.push(auditLog);
        after = auditLog.pageInfo.endCursor;
      } while (pages[pages.length - 1]!.pageInfo.hasNextPage);

      expect(pages.map((p) => p.nodes.length)).toEqual([3, 3, 3]);
      expect(pages.map((p) => p.pageInfo.hasNextPage)).toEqual([true, true, false]);
      const walked = pages.flatMap((p) => p.nodes);
      expect(new Set(walked.map((e) => e.id)).size).toBe(walked.length);
      expect(walked).toEqual(everything);

      const beyond = await t.ok(AuditLogDocument, { filter: { organizationId: org }, first: 3, after });
      expect(beyond.auditLog).toEqual({ nodes: [], pageInfo: { hasNextPage: false, endCursor: null } });
    });

    it('walks the whole log, across organizations, without a duplicate or a gap', async () => {
      const t = server();
      const whole = await allEvents(t);
      const walked: AuditEvent[] = [];
      let after: string | null = null;
      for (;;) {
        const { auditLog }: AuditLogQuery = await t.ok(AuditLogDocument, { first: 7, after });
        walked.push(...auditLog.nodes);
        if (!auditLog.pageInfo.hasNextPage) break;
        after = auditLog.pageInfo.endCursor;
      }
      expect(walked.map((e) => e.id)).toEqual(whole.map((e) => e.id));
      expect(new Set(walked.map((e) => e.id)).size).toBe(walked.length);
      expect(walked.map((e) => e.id)).toEqual([...walked.map((e) => e.id)].sort());
    });

    it('refuses a page size out of range and a cursor it did not issue (BAD_USER_INPUT)', async () => {
      const t = server();
      expect(await t.errorCode(AuditLogDocument, { first: 0 })).toBe('BAD_USER_INPUT');
      expect(await t.errorCode(AuditLogDocument, { first: 201 })).toBe('BAD_USER_INPUT');
      expect(await t.errorCode(AuditLogDocument, { after: 'not-a-cursor' })).toBe('BAD_USER_INPUT');
      expect(await t.errorCode(AuditLogDocument, { after: Buffer.from(`c1:${first}'--`).toString('base64url') })).toBe('BAD_USER_INPUT');
    });

    it("shows an organization's auditor its own organization's events and nothing else", async () => {
      const t = server();
      const seen = await allEvents(t, {}, null, auditor.secret);
      expect(seen).toEqual(await allEvents(t, { organizationId: org }));
      expect(new Set(seen.map((e) => e.organizationId))).toEqual(new Set([org]));

      expect(await t.errorCode(AuditLogDocument, { filter: { organizationId: f.organizationId } }, auditor.secret)).toBe('FORBIDDEN');
      expect(await allEvents(t, { actorId: f.orgAdmin.id }, null, auditor.secret)).toEqual([]);
      expect(await allEvents(t, { objectType: 'Product' }, null, auditor.secret)).toEqual([]);
      expect((await allEvents(t, { actorId: f.orgAdmin.id })).length).toBeGreaterThan(0);
    });

    it('never keeps the key of a license in its events, only its last characters', async () => {
      const t = server();
      const { organizationId, licenseId, key } = await licensed(t, 'CONCURRENT');
      const { checkoutSeat } = await t.ok(CheckoutSeatDocument, { key, fingerprint: unique('machine') }, null);
      await t.ok(HeartbeatSeatDocument, { key, leaseId: checkoutSeat.lease!.id }, null);
      await t.ok(SuspendLicenseDocument, { id: licenseId });
      await t.ok(ResumeLicenseDocument, { id: licenseId });
      await t.ok(RenewLicenseDocument, { id: licenseId, input: { termDays: 30 } });
      await t.ok(RevokeLicenseDocument, { id: licenseId, reason: 'contract ended' });
      const events = await allEvents(t, { organizationId });
      expect(actions(events)).toEqual([
        'organization.create',
        'license.issue',
        'lease.checkout',
        'lease.heartbeat',
        'license.suspend',
        'license.resume',
        'license.renew',
        'license.revoke',
      ]);

      const text = JSON.stringify(events).toUpperCase();
      expect(text).not.toContain(key.toUpperCase());
      expect(text).not.toContain(key.slice('AINX-'.length).replaceAll('-', ''));
      for (const group of key.split('-').slice(1)) expect(text).not.toContain(group);
      for (const event of events.filter((e) => e.objectId === licenseId)) {
        expect(event.after?.keyHint, event.action).toBe(key.slice(-4));
      }
    });
  });
});
