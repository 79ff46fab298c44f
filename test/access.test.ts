import { CLIENT_OPERATIONS } from '../src/server/client-lane';
import { randomBytes } from 'node:crypto';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AddFeatureDocument,
  ApiTokensDocument,
  AssignSeatDocument,
  AuditLogDocument,
  CheckFeatureDocument,
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
  LeasesDocument,
  LicenseDocument,
  LicensesDocument,
  OrganizationDocument,
  OrganizationsDocument,
  OrganizationStateDocument,
  PlanDocument,
  PlansDocument,
  ProductDocument,
  ProductsDocument,
  ReleaseSeatDocument,
  RenewLicenseDocument,
  SetLicenseAutoRenewDocument,
  ResumeLicenseDocument,
  RevokeApiTokenDocument,
  RegenerateLicenseKeyDocument,
  RevokeLicenseDocument,
  RotateSigningKeyDocument,
  VerifyAuditLogDocument,
  type Role,
  SeatsDocument,
  SuspendLicenseDocument,
  UpdateOrganizationDocument,
  ValidateLicenseDocument,
  LicenseUsageDocument,
  RecordUsageDocument,
  AlertsDocument,
  AcknowledgeAlertDocument,
  AlertRulesDocument,
  SetExpiryNoticesDocument,
  SetThresholdRuleDocument,
  UsageHistoryDocument,
  ViolationsDocument,
  ViolationDocument,
  ComplianceEventLogDocument,
  ComplianceReportDocument,
  CheckQuotaDocument,
  AcknowledgeViolationDocument,
  ResolveViolationDocument,
  WaiveViolationDocument,
  RemediateViolationDocument,
  PreviewRemediationDocument,
  RunComplianceCheckDocument,
  PreviewLicenseMigrationDocument,
  MigrateLicenseDocument,
  CancelLicenseMigrationDocument,
  LicenseMigrationsDocument,
  MergeFeatureLicenseDocument,
  SplitFeatureLicenseDocument,
  UsageReportDocument,
  RecommendationsDocument,
  RenewalsDocument,
  RecommendationSettingsDocument,
  SetRecommendationSettingsDocument,
  PreviewRecommendationDocument,
  ApplyRecommendationDocument,
  DismissRecommendationDocument,
  DiagnosticsDocument,
  LicenseDiagnosticsDocument,
} from './generated/graphql';
import { type Licensed, licensed, organization, unique, issueToken, type IssuedToken } from './support/factories';
import { describeEachDatabase, type GraphQLResponse, type TestServer } from './support/server';

type OrgRole = Exclude<Role, 'PLATFORM_ADMIN'>;

/** An id of the shape of a recommendation of a license (its id, then a digest): whether one is made or not. */
const recommendationIdFor = (licenseId: string) =>
  Buffer.concat([Buffer.from(licenseId.replaceAll('-', ''), 'hex'), Buffer.alloc(11)]).toString('base64url');

/** The window of a usage report: the week up to now. */
const lastWeek = () => ({ from: new Date(Date.now() - 7 * 86_400_000).toISOString(), to: new Date().toISOString() });
const ORG_ROLES: readonly OrgRole[] = ['ORG_ADMIN', 'LICENSE_MANAGER', 'AUDITOR', 'INTEGRATOR'];

/** Who may do what within their own organization, as the roles are documented. */
const EVERY_ROLE: ReadonlySet<Role> = new Set(ORG_ROLES);
const NO_ROLE: ReadonlySet<Role> = new Set();
const LICENSE_MANAGERS: ReadonlySet<Role> = new Set(['ORG_ADMIN', 'LICENSE_MANAGER']);
const TOKEN_MANAGERS: ReadonlySet<Role> = new Set(['ORG_ADMIN']);
const AUDIT_READERS: ReadonlySet<Role> = new Set(['ORG_ADMIN', 'AUDITOR']);
/** Who holds access is part of an audit: auditors read the token list too. */
const TOKEN_READERS: ReadonlySet<Role> = new Set(['ORG_ADMIN', 'AUDITOR']);

/** One organization with something of every kind: licenses, live leases, a seat, tokens of every role. */
interface Tenant {
  organizationId: string;
  name: string;
  /** A CONCURRENT license with two live leases. */
  concurrent: Licensed;
  fingerprints: string[];
  leaseIds: string[];
  /** A USER license with one seat. */
  user: Licensed;
  seatUser: string;
  seatId: string;
  /** A threshold alert, raised by API calls over 80 % of the suspended license's quota. */
  alertId: string;
  /** A SUBSCRIPTION license, suspended. */
  suspended: Licensed;
  /** A CORE feature of the concurrent license's product, which no other organization's product has. */
  ownFeature: string;
  /** A SUBSCRIPTION license whose storage total was reported over its limit of STORAGE_LIMIT. */
  storage: Licensed;
  /** The storage total reported for it, another in each organization. */
  storageUsed: number;
  /** The STORAGE_OVERAGE violation that report opened. */
  violationId: string;
  /** A migration of the concurrent license waiting for the renewal of its term (SCHEDULED). */
  scheduledMigrationId: string;
  /**
   * A FEATURE license of the concurrent license's product and plan, entitling premium.sso (which the concurrent
   * license lacks): there to be merged into the concurrent license.
   */
  feature: Licensed;
  tokens: Record<OrgRole, IssuedToken>;
}

interface World {
  /** The organization whose tokens try. */
  a: Tenant;
  /** The organization they aim at. */
  b: Tenant;
  /** A license of B over its limit without a violation: a compliance check that reached B would open one. */
  unscanned: Licensed;
  /** The bootstrap platform admin's token. */
  platformTokenId: string;
}

const STORAGE_LIMIT = 1000;

/** A SUBSCRIPTION license of the organization with its storage total reported over its limit, and the violation it opened. */
async function overStorage(t: TestServer, organizationId: string, used = STORAGE_LIMIT + 100) {
  const license = await licensed(t, 'SUBSCRIPTION', { organizationId, limits: { storageBytes: STORAGE_LIMIT } });
  await t.ok(RecordUsageDocument, { key: license.key, metric: 'STORAGE_BYTES', value: used }, null);
  const { violations } = await t.ok(ViolationsDocument, { filter: { licenseId: license.licenseId } });
  expect(violations.nodes.map((v) => `${v.kind} ${v.status}`)).toEqual(['STORAGE_OVERAGE OPEN']);
  return { license, violationId: violations.nodes[0]!.id };
}

/**
 * A license of the organization whose storage limit is lowered under its use in the database, behind the API's
 * back: over its limit without a violation, which only a compliance check opens.
 */
async function unscannedBreach(t: TestServer, organizationId: string): Promise<Licensed> {
  const license = await licensed(t, 'SUBSCRIPTION', { organizationId, limits: { storageBytes: STORAGE_LIMIT } });
  await t.ok(RecordUsageDocument, { key: license.key, metric: 'STORAGE_BYTES', value: STORAGE_LIMIT }, null);
  await t.server.db.write((sql) => sql.run('update license set storage_bytes = ? where id = ?', [STORAGE_LIMIT - 1, license.licenseId]));
  return license;
}

async function tenant(t: TestServer, label: string): Promise<Tenant> {
  const org = await organization(t);
  const concurrent = await licensed(t, 'CONCURRENT', { organizationId: org.id });
  const user = await licensed(t, 'USER', { organizationId: org.id });
  const suspended = await licensed(t, 'SUBSCRIPTION', { organizationId: org.id });
  await t.ok(SuspendLicenseDocument, { id: suspended.licenseId, reason: 'unpaid invoice' });

  const fingerprints = [unique(`${label}-workstation`), unique(`${label}-workstation`)];
  const leaseIds: string[] = [];
  for (const fingerprint of fingerprints) {
    const { checkoutSeat } = await t.ok(CheckoutSeatDocument, { key: concurrent.key, fingerprint });
    leaseIds.push(checkoutSeat.lease!.id);
  }
  const seatUser = `${unique('user')}@${label}.example`;
  const { assignSeat } = await t.ok(AssignSeatDocument, { licenseId: user.licenseId, userId: seatUser });
  const ownFeature = unique(`${label}.only`);
  await t.ok(AddFeatureDocument, { productId: concurrent.productId, input: { key: ownFeature, name: 'Only here', tier: 'CORE' } });

  await t.ok(RecordUsageDocument, { key: suspended.key, metric: 'API_CALLS', amount: 900_000 }, null);
  const { alerts } = await t.ok(AlertsDocument, { filter: { licenseId: suspended.licenseId } });

  // a: 1100, b: 1200, …: what a key is told of its storage tells whose license it read.
  const storageUsed = STORAGE_LIMIT + 100 * (label.charCodeAt(0) - 'a'.charCodeAt(0) + 1);
  const { license: storage, violationId } = await overStorage(t, org.id, storageUsed);

  const { migrateLicense: scheduled } = await t.ok(MigrateLicenseDocument, {
    licenseId: concurrent.licenseId,
    target: { limits: { concurrentSessions: 5 } },
    effective: 'AT_RENEWAL',
    onConflict: { strategy: 'REJECT' },
  });
  expect(scheduled.migration).toMatchObject({ status: 'SCHEDULED', licenseId: concurrent.licenseId });

  const { issueLicense: addOn } = await t.ok(IssueLicenseDocument, {
    input: { organizationId: org.id, planId: concurrent.planId, type: 'FEATURE', featureKeys: ['premium.sso'] },
  });
  expect(addOn.license).toMatchObject({ type: 'FEATURE', status: 'ACTIVE' });
  const feature = { ...concurrent, licenseId: addOn.license.id, key: addOn.key };

  const tokens = {} as Record<OrgRole, IssuedToken>;
  for (const role of ORG_ROLES) tokens[role] = await issueToken(t, role, org.id);
  return {
    organizationId: org.id,
    name: org.name,
    concurrent,
    fingerprints,
    leaseIds,
    user,
    seatUser,
    seatId: assignSeat.seat!.id,
    alertId: alerts.nodes[0]!.id,
    suspended,
    ownFeature,
    storage,
    storageUsed,
    violationId,
    scheduledMigrationId: scheduled.migration!.id,
    feature,
    tokens,
  };
}

/** Everything of an organization that a change could touch, as a platform admin reads it. */
async function stateOf(t: TestServer, organizationId: string) {
  const state = await t.ok(OrganizationStateDocument, { organizationId });
  const { violations } = await t.ok(ViolationsDocument, { filter: { organizationId }, first: 200 });
  const { complianceEventLog } = await t.ok(ComplianceEventLogDocument, { filter: { organizationId }, first: 200 });
  for (const list of [
    state.licenses,
    state.seats,
    state.leases,
    state.apiTokens,
    state.alerts,
    state.auditLog,
    violations,
    complianceEventLog,
  ]) {
    expect(list.pageInfo.hasNextPage, 'the state must be read whole to be compared').toBe(false);
  }
  // What no list above shows: the migrations of each license, applied, waiting for renewal or cancelled.
  const migrations = Object.fromEntries(
    await Promise.all(
      state.licenses.nodes.map(async (l) => {
        const { license } = await t.ok(LicenseMigrationsDocument, { id: l.id });
        return [l.id, { migrations: license.migrations, scheduledMigration: license.scheduledMigration }] as const;
      }),
    ),
  );
  return { ...state, violations, complianceEventLog, migrations };
}

const codeOf = (response: GraphQLResponse<unknown>) => response.errors?.[0]?.extensions?.code;

type Check<R> = (role: OrgRole, response: GraphQLResponse<R>, w: World) => void;

/**
 * Refused: NOT_FOUND or FORBIDDEN (`code`) to the roles that hold the permission in their own organization, and
 * FORBIDDEN to the others, which lack it anyway. Nothing is returned.
 */
function refused(allowed: ReadonlySet<Role>, code: 'FORBIDDEN' | 'NOT_FOUND'): Check<unknown> {
  return (role, response) => {
    expect(codeOf(response), `${role}: ${JSON.stringify(response.errors)}`).toBe(allowed.has(role) ? code : 'FORBIDDEN');
    expect(response.data ?? null, role).toBeNull();
  };
}

/** Answered to the roles that may read it, and `check` holds of the answer; FORBIDDEN to the others. */
function answered<R>(allowed: ReadonlySet<Role>, check: (data: R, w: World, role: OrgRole) => void): Check<R> {
  return (role, response, w) => {
    if (!allowed.has(role)) {
      expect(codeOf(response), role).toBe('FORBIDDEN');
      return;
    }
    expect(response.errors, role).toBeUndefined();
    check(response.data!, w, role);
  };
}

interface Attempt {
  /** What a token of one organization gets, completing the sentence "a token of one organization …". */
  title: string;
  /** Authorized by a license key, not by the token (which is sent, and makes no difference). */
  clientFacing: boolean;
  /** Sends the attempt with a token, or none. */
  send(t: TestServer, w: World, token: string | null): Promise<GraphQLResponse<unknown>>;
  /** Sends the attempt with organization A's token of the role and asserts what it got. */
  run(t: TestServer, w: World, role: OrgRole): Promise<void>;
}

function attempt<R, V>(
  title: string,
  document: TypedDocumentNode<R, V>,
  variables: (w: World) => V,
  check: Check<R>,
  clientFacing = false,
): Attempt {
  return {
    title,
    clientFacing,
    send: (t, w, token) => t.request(document, variables(w), token),
    async run(t, w, role) {
      check(role, await t.request(document, variables(w), w.a.tokens[role].secret), w);
    },
  };
}

const idsOf = (nodes: readonly { id: string }[]) => nodes.map((n) => n.id);
const licenseIdsOf = (x: Tenant) => [
  x.concurrent.licenseId,
  x.user.licenseId,
  x.suspended.licenseId,
  x.storage.licenseId,
  x.feature.licenseId,
];

/**
 * One entry per field of Query and Mutation: what tokens of every role of organization A get when they aim at
 * organization B. After each attempt, B is compared with what it was.
 */
const ACCESS: Record<string, Attempt[]> = {
  organization: [
    attempt(
      'cannot read another organization, which it is told does not exist (NOT_FOUND)',
      OrganizationDocument,
      (w) => ({ id: w.b.organizationId }),
      refused(EVERY_ROLE, 'NOT_FOUND'),
    ),
  ],
  organizations: [
    attempt(
      'lists its own organization only',
      OrganizationsDocument,
      () => ({}),
      answered(EVERY_ROLE, (d, w) => expect(idsOf(d.organizations.nodes)).toEqual([w.a.organizationId])),
    ),
    attempt(
      'finds no other organization by searching for its name',
      OrganizationsDocument,
      (w) => ({ filter: { nameContains: w.b.name } }),
      answered(EVERY_ROLE, (d) => expect(d.organizations.nodes).toEqual([])),
    ),
  ],
  product: [
    attempt(
      "reads the product of another's license from the vendor's catalog, which belongs to no organization",
      ProductDocument,
      (w) => ({ id: w.b.concurrent.productId }),
      answered(EVERY_ROLE, (d, w) => expect(d.product.id).toBe(w.b.concurrent.productId)),
    ),
  ],
  products: [
    attempt(
      "lists the vendor's catalog, which belongs to no organization",
      ProductsDocument,
      () => ({ first: 200 }),
      answered(EVERY_ROLE, (d, w) => expect(idsOf(d.products.nodes)).toContain(w.a.concurrent.productId)),
    ),
  ],
  plan: [
    attempt(
      "reads the plan of another's license from the vendor's catalog, which belongs to no organization",
      PlanDocument,
      (w) => ({ id: w.b.concurrent.planId }),
      answered(EVERY_ROLE, (d, w) => expect(d.plan.id).toBe(w.b.concurrent.planId)),
    ),
  ],
  plans: [
    attempt(
      "lists the vendor's plans, which belong to no organization",
      PlansDocument,
      () => ({ first: 200 }),
      answered(EVERY_ROLE, (d, w) => expect(idsOf(d.plans.nodes)).toContain(w.a.concurrent.planId)),
    ),
  ],
  license: [
    attempt(
      "cannot read another's license, which it is told does not exist (NOT_FOUND)",
      LicenseDocument,
      (w) => ({ id: w.b.concurrent.licenseId }),
      refused(EVERY_ROLE, 'NOT_FOUND'),
    ),
  ],
  licenses: [
    attempt(
      'lists the licenses of its own organization only',
      LicensesDocument,
      () => ({ first: 200 }),
      answered(EVERY_ROLE, (d, w) => {
        expect(new Set(d.licenses.nodes.map((l) => l.organization.id))).toEqual(new Set([w.a.organizationId]));
        expect(idsOf(d.licenses.nodes)).toEqual(expect.arrayContaining(licenseIdsOf(w.a)));
      }),
    ),
    attempt(
      "cannot list another organization's licenses by naming it (FORBIDDEN)",
      LicensesDocument,
      (w) => ({ filter: { organizationId: w.b.organizationId } }),
      refused(NO_ROLE, 'FORBIDDEN'),
    ),
    attempt(
      "finds none of another's licenses by its plan or its product",
      LicensesDocument,
      (w) => ({ filter: { planId: w.b.concurrent.planId, productId: w.b.concurrent.productId } }),
      answered(EVERY_ROLE, (d) => expect(d.licenses.nodes).toEqual([])),
    ),
  ],
  seats: [
    attempt(
      'lists the seats of its own organization only',
      SeatsDocument,
      () => ({ first: 200 }),
      answered(EVERY_ROLE, (d, w) => {
        expect(idsOf(d.seats.nodes)).toContain(w.a.seatId);
        expect(d.seats.nodes.filter((s) => !licenseIdsOf(w.a).includes(s.licenseId))).toEqual([]);
      }),
    ),
    attempt(
      "cannot list another organization's seats by naming it (FORBIDDEN)",
      SeatsDocument,
      (w) => ({ filter: { organizationId: w.b.organizationId } }),
      refused(NO_ROLE, 'FORBIDDEN'),
    ),
    attempt(
      "finds none of another's seats by its license",
      SeatsDocument,
      (w) => ({ filter: { licenseId: w.b.user.licenseId } }),
      answered(EVERY_ROLE, (d) => expect(d.seats.nodes).toEqual([])),
    ),
    attempt(
      "finds none of another's seats by its user",
      SeatsDocument,
      (w) => ({ filter: { userId: w.b.seatUser } }),
      answered(EVERY_ROLE, (d) => expect(d.seats.nodes).toEqual([])),
    ),
  ],
  leases: [
    attempt(
      'lists the leases of its own organization only',
      LeasesDocument,
      () => ({ first: 200 }),
      answered(EVERY_ROLE, (d, w) => {
        expect(new Set(d.leases.nodes.map((l) => l.organizationId))).toEqual(new Set([w.a.organizationId]));
        expect(idsOf(d.leases.nodes)).toEqual(expect.arrayContaining(w.a.leaseIds));
      }),
    ),
    attempt(
      "cannot list another organization's leases by naming it (FORBIDDEN)",
      LeasesDocument,
      (w) => ({ filter: { organizationId: w.b.organizationId } }),
      refused(NO_ROLE, 'FORBIDDEN'),
    ),
    attempt(
      "finds none of another's leases by its license",
      LeasesDocument,
      (w) => ({ filter: { licenseId: w.b.concurrent.licenseId } }),
      answered(EVERY_ROLE, (d) => expect(d.leases.nodes).toEqual([])),
    ),
    attempt(
      "finds none of another's leases by its machine's fingerprint",
      LeasesDocument,
      (w) => ({ filter: { fingerprint: w.b.fingerprints[0] } }),
      answered(EVERY_ROLE, (d) => expect(d.leases.nodes).toEqual([])),
    ),
  ],
  apiTokens: [
    attempt(
      'lists the tokens of its own organization only, and only as an org admin or auditor',
      ApiTokensDocument,
      () => ({ first: 200 }),
      answered(TOKEN_READERS, (d, w) => {
        expect(new Set(d.apiTokens.nodes.map((k) => k.organizationId))).toEqual(new Set([w.a.organizationId]));
        expect(idsOf(d.apiTokens.nodes)).toEqual(expect.arrayContaining(ORG_ROLES.map((r) => w.a.tokens[r].id)));
      }),
    ),
    attempt(
      "cannot list another organization's tokens by naming it (FORBIDDEN)",
      ApiTokensDocument,
      (w) => ({ filter: { organizationId: w.b.organizationId } }),
      refused(NO_ROLE, 'FORBIDDEN'),
    ),
  ],
  auditLog: [
    attempt(
      'reads the audit log of its own organization only, and only as an org admin or auditor',
      AuditLogDocument,
      () => ({ first: 200 }),
      answered(AUDIT_READERS, (d, w) => {
        expect(d.auditLog.nodes.length).toBeGreaterThan(0);
        expect(new Set(d.auditLog.nodes.map((e) => e.organizationId))).toEqual(new Set([w.a.organizationId]));
      }),
    ),
    attempt(
      "cannot read another organization's audit log by naming it (FORBIDDEN)",
      AuditLogDocument,
      (w) => ({ filter: { organizationId: w.b.organizationId } }),
      refused(NO_ROLE, 'FORBIDDEN'),
    ),
    attempt(
      "finds no event of another's license by its id",
      AuditLogDocument,
      (w) => ({ filter: { objectId: w.b.concurrent.licenseId } }),
      answered(AUDIT_READERS, (d) => expect(d.auditLog.nodes).toEqual([])),
    ),
    attempt(
      "finds no event by another's license key as actor",
      AuditLogDocument,
      (w) => ({ filter: { actorId: w.b.concurrent.licenseId } }),
      answered(AUDIT_READERS, (d) => expect(d.auditLog.nodes).toEqual([])),
    ),
  ],
  validateLicense: [
    attempt(
      "validating its own key, never finds the lease another organization's machine holds",
      ValidateLicenseDocument,
      (w) => ({ key: w.a.concurrent.key, fingerprint: w.b.fingerprints[0] }),
      answered(EVERY_ROLE, (d, w) => {
        expect(d.validateLicense.license.id).toBe(w.a.concurrent.licenseId);
        expect(d.validateLicense.checks.find((c) => c.check === 'LEASE')?.code).toBe('NO_ACTIVE_LEASE');
      }),
      true,
    ),
    attempt(
      "validating its own key, never finds the seat another organization's user holds",
      ValidateLicenseDocument,
      (w) => ({ key: w.a.user.key, user: w.b.seatUser }),
      answered(EVERY_ROLE, (d, w) => {
        expect(d.validateLicense.license.id).toBe(w.a.user.licenseId);
        expect(d.validateLicense.valid).toBe(false);
        expect(d.validateLicense.checks.find((c) => c.check === 'SEAT')?.code).toBe('NO_SEAT_ASSIGNED');
      }),
      true,
    ),
  ],
  checkFeature: [
    attempt(
      "checking its own key, does not know a feature of another's product",
      CheckFeatureDocument,
      (w) => ({ key: w.a.concurrent.key, feature: w.b.ownFeature }),
      answered(EVERY_ROLE, (d) => {
        expect(d.checkFeature.allowed).toBe(false);
        expect(d.checkFeature.code).toBe('FEATURE_UNKNOWN');
      }),
      true,
    ),
  ],
  createOrganization: [
    attempt(
      'cannot create an organization (FORBIDDEN)',
      CreateOrganizationDocument,
      () => ({ input: { name: unique('intruder-org') } }),
      refused(NO_ROLE, 'FORBIDDEN'),
    ),
  ],
  updateOrganization: [
    attempt(
      'cannot rename another organization (FORBIDDEN)',
      UpdateOrganizationDocument,
      (w) => ({ id: w.b.organizationId, input: { name: unique('renamed') } }),
      refused(NO_ROLE, 'FORBIDDEN'),
    ),
  ],
  createProduct: [
    attempt(
      'cannot add a product to the catalog (FORBIDDEN)',
      CreateProductDocument,
      () => ({ input: { key: unique('intruder-product'), name: 'Intruder', features: [] } }),
      refused(NO_ROLE, 'FORBIDDEN'),
    ),
  ],
  addFeature: [
    attempt(
      "cannot add a feature to the product of another's license (FORBIDDEN)",
      AddFeatureDocument,
      (w) => ({ productId: w.b.concurrent.productId, input: { key: unique('intruder.feature'), name: 'Intruder', tier: 'CORE' as const } }),
      refused(NO_ROLE, 'FORBIDDEN'),
    ),
  ],
  createPlan: [
    attempt(
      "cannot add a plan for the product of another's license (FORBIDDEN)",
      CreatePlanDocument,
      (w) => ({
        input: { productId: w.b.concurrent.productId, key: unique('intruder-plan'), name: 'Intruder', licenseType: 'SITE' as const },
      }),
      refused(NO_ROLE, 'FORBIDDEN'),
    ),
  ],
  createApiToken: [
    attempt(
      'cannot create a token of another organization (FORBIDDEN)',
      CreateApiTokenDocument,
      (w) => ({ input: { name: unique('intruder'), role: 'ORG_ADMIN' as const, organizationId: w.b.organizationId } }),
      refused(NO_ROLE, 'FORBIDDEN'),
    ),
    attempt(
      "cannot create a platform admin's token, which would reach every organization (FORBIDDEN)",
      CreateApiTokenDocument,
      () => ({ input: { name: unique('intruder'), role: 'PLATFORM_ADMIN' as const, organizationId: null } }),
      refused(NO_ROLE, 'FORBIDDEN'),
    ),
  ],
  revokeApiToken: [
    attempt(
      "cannot revoke another organization's token, which it is told does not exist",
      RevokeApiTokenDocument,
      (w) => ({ id: w.b.tokens.ORG_ADMIN.id }),
      refused(TOKEN_MANAGERS, 'NOT_FOUND'),
    ),
    attempt(
      "cannot revoke a platform admin's token, which it is told does not exist",
      RevokeApiTokenDocument,
      (w) => ({ id: w.platformTokenId }),
      refused(TOKEN_MANAGERS, 'NOT_FOUND'),
    ),
  ],
  issueLicense: [
    attempt(
      'cannot issue a license to another organization (FORBIDDEN)',
      IssueLicenseDocument,
      (w) => ({ input: { organizationId: w.b.organizationId, planId: w.b.concurrent.planId } }),
      refused(NO_ROLE, 'FORBIDDEN'),
    ),
  ],
  suspendLicense: [
    attempt(
      "cannot suspend another's license, which it is told does not exist",
      SuspendLicenseDocument,
      (w) => ({ id: w.b.concurrent.licenseId, reason: 'intruder' }),
      refused(LICENSE_MANAGERS, 'NOT_FOUND'),
    ),
  ],
  resumeLicense: [
    attempt(
      "cannot resume another's suspended license, which it is told does not exist",
      ResumeLicenseDocument,
      (w) => ({ id: w.b.suspended.licenseId }),
      refused(LICENSE_MANAGERS, 'NOT_FOUND'),
    ),
  ],
  revokeLicense: [
    attempt(
      "cannot revoke another's license, which it is told does not exist",
      RevokeLicenseDocument,
      (w) => ({ id: w.b.user.licenseId, reason: 'intruder' }),
      refused(LICENSE_MANAGERS, 'NOT_FOUND'),
    ),
  ],
  renewLicense: [
    attempt(
      "cannot renew another's license, which it is told does not exist",
      RenewLicenseDocument,
      (w) => ({ id: w.b.concurrent.licenseId, input: { termDays: 30 } }),
      refused(LICENSE_MANAGERS, 'NOT_FOUND'),
    ),
  ],
  setLicenseAutoRenew: [
    attempt(
      "cannot turn another's license's automatic renewal on, which it is told does not exist",
      SetLicenseAutoRenewDocument,
      (w) => ({ id: w.b.concurrent.licenseId, autoRenew: true }),
      refused(LICENSE_MANAGERS, 'NOT_FOUND'),
    ),
  ],
  assignSeat: [
    attempt(
      "cannot assign a seat of another's license, which it is told does not exist",
      AssignSeatDocument,
      (w) => ({ licenseId: w.b.user.licenseId, userId: unique('intruder') }),
      refused(LICENSE_MANAGERS, 'NOT_FOUND'),
    ),
  ],
  releaseSeat: [
    attempt(
      "cannot release another's seat, which it is told does not exist",
      ReleaseSeatDocument,
      (w) => ({ seatId: w.b.seatId }),
      refused(LICENSE_MANAGERS, 'NOT_FOUND'),
    ),
  ],
  checkoutSeat: [
    attempt(
      "checking out with its own key on the machine of another's lease, gets a lease of its own license and leaves the other's alone",
      CheckoutSeatDocument,
      (w) => ({ key: w.a.concurrent.key, fingerprint: w.b.fingerprints[1]! }),
      answered(EVERY_ROLE, (d, w) => {
        expect(d.checkoutSeat.outcome).toBe('GRANTED');
        expect(d.checkoutSeat.lease).toMatchObject({ licenseId: w.a.concurrent.licenseId, organizationId: w.a.organizationId });
        expect(w.b.leaseIds).not.toContain(d.checkoutSeat.lease!.id);
      }),
      true,
    ),
  ],
  issueLicenseCertificate: [
    attempt(
      "issuing with its own key on the machine of another's lease, gets a certificate of its own license, bound to no lease of the other's",
      IssueLicenseCertificateDocument,
      (w) => ({ key: w.a.concurrent.key, fingerprint: w.b.fingerprints[0]! }),
      answered(EVERY_ROLE, (d, w) => {
        expect(d.issueLicenseCertificate.licenseId).toBe(w.a.concurrent.licenseId);
        const payload = JSON.parse(Buffer.from(d.issueLicenseCertificate.certificate.split('.')[1]!, 'base64url').toString());
        expect(payload.sub).toBe(w.a.concurrent.licenseId);
        expect(w.b.leaseIds).not.toContain(payload.lease);
      }),
      true,
    ),
  ],
  regenerateLicenseKey: [
    attempt(
      "cannot regenerate another's license key, which it is told does not exist",
      RegenerateLicenseKeyDocument,
      (w) => ({ id: w.b.concurrent.licenseId }),
      refused(LICENSE_MANAGERS, 'NOT_FOUND'),
    ),
  ],
  borrowSeat: [
    attempt(
      "borrowing with its own key on the machine of another's lease, borrows a seat of its own license and leaves the other's alone",
      BorrowSeatDocument,
      (w) => ({ key: w.a.concurrent.key, fingerprint: w.b.fingerprints[1]!, until: new Date(Date.now() + 2 * 86_400_000).toISOString() }),
      answered(EVERY_ROLE, (d, w) => {
        expect(d.borrowSeat.checkout.outcome).toBe('GRANTED');
        expect(w.b.leaseIds).not.toContain(d.borrowSeat.checkout.lease!.id);
        const payload = JSON.parse(Buffer.from(d.borrowSeat.certificate!.certificate.split('.')[1]!, 'base64url').toString());
        expect(payload.sub).toBe(w.a.concurrent.licenseId);
      }),
      true,
    ),
  ],
  verifyAuditLog: [
    attempt(
      'cannot verify the audit chain, which spans every organization (FORBIDDEN)',
      VerifyAuditLogDocument,
      () => ({}),
      refused(NO_ROLE, 'FORBIDDEN'),
    ),
  ],
  diagnostics: [
    attempt(
      'cannot read the diagnostics of the server, which are the platform’s (FORBIDDEN)',
      DiagnosticsDocument,
      () => ({}),
      refused(NO_ROLE, 'FORBIDDEN'),
    ),
  ],
  licenseDiagnostics: [
    attempt(
      "explains its own license's counts by its own seats",
      LicenseDiagnosticsDocument,
      (w) => ({ id: w.a.user.licenseId }),
      answered(EVERY_ROLE, (d, w) => {
        expect(d.licenseDiagnostics.licenseId).toBe(w.a.user.licenseId);
        expect(d.licenseDiagnostics.seats.map((s) => s.userId)).toContain(w.a.seatUser);
        expect(d.licenseDiagnostics.users.count).toBe(d.licenseDiagnostics.seats.length);
      }),
    ),
    attempt(
      "cannot have another's license explained, which it is told does not exist (NOT_FOUND)",
      LicenseDiagnosticsDocument,
      (w) => ({ id: w.b.concurrent.licenseId }),
      refused(EVERY_ROLE, 'NOT_FOUND'),
    ),
  ],
  rotateSigningKey: [
    attempt(
      'cannot rotate the signing key, which is the platform’s (FORBIDDEN)',
      RotateSigningKeyDocument,
      () => ({}),
      refused(NO_ROLE, 'FORBIDDEN'),
    ),
  ],
  heartbeatSeat: [
    attempt(
      "cannot keep another's lease alive with its own key, and is told it does not exist",
      HeartbeatSeatDocument,
      (w) => ({ key: w.a.concurrent.key, leaseId: w.b.leaseIds[0]! }),
      refused(EVERY_ROLE, 'NOT_FOUND'),
      true,
    ),
  ],
  alerts: [
    attempt(
      'lists the alerts of its own organization only',
      AlertsDocument,
      () => ({ first: 200 }),
      answered(EVERY_ROLE, (d, w) => {
        expect(new Set(d.alerts.nodes.map((a) => a.organizationId))).toEqual(new Set([w.a.organizationId]));
      }),
    ),
    attempt(
      "cannot list another organization's alerts by naming it (FORBIDDEN)",
      AlertsDocument,
      (w) => ({ filter: { organizationId: w.b.organizationId } }),
      refused(NO_ROLE, 'FORBIDDEN'),
    ),
  ],
  acknowledgeAlert: [
    attempt(
      "cannot acknowledge another's alert, which it is told does not exist (NOT_FOUND)",
      AcknowledgeAlertDocument,
      (w) => ({ id: w.b.alertId }),
      refused(LICENSE_MANAGERS, 'NOT_FOUND'),
    ),
  ],
  alertRules: [
    attempt(
      "cannot read another's license alert rules, which it is told does not exist (NOT_FOUND)",
      AlertRulesDocument,
      (w) => ({ licenseId: w.b.concurrent.licenseId }),
      refused(EVERY_ROLE, 'NOT_FOUND'),
    ),
  ],
  setThresholdRule: [
    attempt(
      "cannot set another's license thresholds, which it is told does not exist (NOT_FOUND)",
      SetThresholdRuleDocument,
      (w) => ({ input: { licenseId: w.b.concurrent.licenseId, metric: 'CONCURRENT_SESSIONS' as const, thresholds: [50] } }),
      refused(LICENSE_MANAGERS, 'NOT_FOUND'),
    ),
    attempt(
      'cannot set the thresholds of a plan, which belong to the catalog (FORBIDDEN)',
      SetThresholdRuleDocument,
      (w) => ({ input: { planId: w.b.concurrent.planId, metric: 'CONCURRENT_SESSIONS' as const, thresholds: [50] } }),
      refused(NO_ROLE, 'FORBIDDEN'),
    ),
  ],
  setExpiryNotices: [
    attempt(
      "cannot set another's license expiry reminders, which it is told does not exist (NOT_FOUND)",
      SetExpiryNoticesDocument,
      (w) => ({ input: { licenseId: w.b.concurrent.licenseId, daysBefore: [3] } }),
      refused(LICENSE_MANAGERS, 'NOT_FOUND'),
    ),
  ],
  licenseUsage: [
    attempt(
      "cannot read another's license usage, which it is told does not exist (NOT_FOUND)",
      LicenseUsageDocument,
      (w) => ({ licenseId: w.b.concurrent.licenseId }),
      refused(EVERY_ROLE, 'NOT_FOUND'),
    ),
  ],
  usageHistory: [
    attempt(
      "cannot read another's usage history, which it is told does not exist (NOT_FOUND)",
      UsageHistoryDocument,
      (w) => ({ licenseId: w.b.suspended.licenseId, metric: 'API_CALLS' as const }),
      refused(EVERY_ROLE, 'NOT_FOUND'),
    ),
  ],
  recordUsage: [
    attempt(
      'reporting usage with its own key counts on its own license only',
      RecordUsageDocument,
      (w) => ({ key: w.a.concurrent.key, metric: 'API_CALLS' as const, amount: 3 }),
      answered(EVERY_ROLE, (d) => {
        expect(d.recordUsage.usage.metric).toBe('API_CALLS');
        expect(d.recordUsage.usage.value).toBeGreaterThanOrEqual(3);
      }),
      true,
    ),
  ],
  checkQuota: [
    attempt(
      'asking with its own key, is answered of its own license only',
      CheckQuotaDocument,
      (w) => ({ key: w.a.storage.key, metric: 'STORAGE_BYTES' as const, amount: 1 }),
      answered(EVERY_ROLE, (d, w) => {
        expect(d.checkQuota).toMatchObject({ metric: 'STORAGE_BYTES', current: w.a.storageUsed, limit: STORAGE_LIMIT });
      }),
      true,
    ),
  ],
  violations: [
    attempt(
      'lists the violations of its own organization only',
      ViolationsDocument,
      () => ({ first: 200 }),
      answered(EVERY_ROLE, (d, w) => {
        expect(new Set(d.violations.nodes.map((v) => v.organizationId))).toEqual(new Set([w.a.organizationId]));
        expect(idsOf(d.violations.nodes)).toContain(w.a.violationId);
      }),
    ),
    attempt(
      "cannot list another organization's violations by naming it (FORBIDDEN)",
      ViolationsDocument,
      (w) => ({ filter: { organizationId: w.b.organizationId } }),
      refused(NO_ROLE, 'FORBIDDEN'),
    ),
    attempt(
      "finds none of another's violations by its license",
      ViolationsDocument,
      (w) => ({ filter: { licenseId: w.b.storage.licenseId } }),
      answered(EVERY_ROLE, (d) => expect(d.violations.nodes).toEqual([])),
    ),
  ],
  violation: [
    attempt(
      "cannot read another's violation, which it is told does not exist (NOT_FOUND)",
      ViolationDocument,
      (w) => ({ id: w.b.violationId }),
      refused(EVERY_ROLE, 'NOT_FOUND'),
    ),
  ],
  complianceEventLog: [
    attempt(
      'reads the compliance log of its own organization only',
      ComplianceEventLogDocument,
      () => ({ first: 200 }),
      answered(EVERY_ROLE, (d, w) => {
        const events = d.complianceEventLog.nodes;
        expect(events.filter((e) => !licenseIdsOf(w.a).includes(e.licenseId))).toEqual([]);
        expect(events.map((e) => e.violation.id)).toContain(w.a.violationId);
      }),
    ),
    attempt(
      "cannot read another organization's compliance log by naming it (FORBIDDEN)",
      ComplianceEventLogDocument,
      (w) => ({ filter: { organizationId: w.b.organizationId } }),
      refused(NO_ROLE, 'FORBIDDEN'),
    ),
    attempt(
      "finds nothing of another's violation by its id",
      ComplianceEventLogDocument,
      (w) => ({ filter: { violationId: w.b.violationId } }),
      answered(EVERY_ROLE, (d) => expect(d.complianceEventLog.nodes).toEqual([])),
    ),
    attempt(
      "finds nothing of another's license by its id",
      ComplianceEventLogDocument,
      (w) => ({ filter: { licenseId: w.b.storage.licenseId } }),
      answered(EVERY_ROLE, (d) => expect(d.complianceEventLog.nodes).toEqual([])),
    ),
  ],
  complianceReport: [
    attempt(
      'reports on its own organization, license by license',
      ComplianceReportDocument,
      (w) => ({ organizationId: w.a.organizationId }),
      answered(EVERY_ROLE, (d, w) => {
        const report = d.complianceReport;
        expect(report.organizationId).toBe(w.a.organizationId);
        expect(report.licenses.map((l) => l.licenseId).sort()).toEqual(licenseIdsOf(w.a).sort());
        const storage = report.licenses.find((l) => l.licenseId === w.a.storage.licenseId)!;
        expect(storage).toMatchObject({ compliant: false, openViolations: [{ id: w.a.violationId }] });
      }),
    ),
    attempt(
      "cannot read another organization's compliance report (FORBIDDEN)",
      ComplianceReportDocument,
      (w) => ({ organizationId: w.b.organizationId }),
      refused(NO_ROLE, 'FORBIDDEN'),
    ),
  ],
  usageReport: [
    attempt(
      "reports on its own organization's licenses",
      UsageReportDocument,
      (w) => ({ filter: { organizationId: w.a.organizationId }, ...lastWeek() }),
      answered(EVERY_ROLE, (d, w) => {
        expect(d.usageReport.licenses.map((l) => l.licenseId).sort()).toEqual(licenseIdsOf(w.a).sort());
      }),
    ),
    attempt(
      "cannot report on another organization's licenses (FORBIDDEN)",
      UsageReportDocument,
      (w) => ({ filter: { organizationId: w.b.organizationId }, ...lastWeek() }),
      refused(NO_ROLE, 'FORBIDDEN'),
    ),
    attempt(
      'finds no license of another by its id (NOT_FOUND)',
      UsageReportDocument,
      (w) => ({ filter: { licenseIds: [w.a.concurrent.licenseId, w.b.concurrent.licenseId] }, ...lastWeek() }),
      refused(EVERY_ROLE, 'NOT_FOUND'),
    ),
    attempt(
      "reports on none of another's licenses of a product",
      UsageReportDocument,
      (w) => ({ filter: { productId: w.b.concurrent.productId }, ...lastWeek() }),
      answered(EVERY_ROLE, (d) => expect(d.usageReport.licenses).toEqual([])),
    ),
  ],
  recommendations: [
    attempt(
      "lists its own organization's recommendations",
      RecommendationsDocument,
      (w) => ({ organizationId: w.a.organizationId }),
      answered(EVERY_ROLE, (d, w) => {
        for (const r of d.recommendations) expect(r.organizationId).toBe(w.a.organizationId);
      }),
    ),
    attempt(
      "cannot list another organization's recommendations (FORBIDDEN)",
      RecommendationsDocument,
      (w) => ({ organizationId: w.b.organizationId }),
      refused(NO_ROLE, 'FORBIDDEN'),
    ),
  ],
  renewals: [
    attempt(
      "lists its own organization's renewals",
      RenewalsDocument,
      (w) => ({ organizationId: w.a.organizationId, withinDays: 730 }),
      answered(EVERY_ROLE, (d, w) => {
        expect(d.renewals.map((r) => r.licenseId).every((id) => licenseIdsOf(w.a).includes(id))).toBe(true);
      }),
    ),
    attempt(
      "cannot list another organization's renewals (FORBIDDEN)",
      RenewalsDocument,
      (w) => ({ organizationId: w.b.organizationId }),
      refused(NO_ROLE, 'FORBIDDEN'),
    ),
  ],
  recommendationSettings: [
    attempt(
      "reads its own organization's recommendation settings",
      RecommendationSettingsDocument,
      (w) => ({ organizationId: w.a.organizationId }),
      answered(EVERY_ROLE, (d, w) => expect(d.recommendationSettings.organizationId).toBe(w.a.organizationId)),
    ),
    attempt(
      "cannot read another organization's recommendation settings (FORBIDDEN)",
      RecommendationSettingsDocument,
      (w) => ({ organizationId: w.b.organizationId }),
      refused(NO_ROLE, 'FORBIDDEN'),
    ),
  ],
  setRecommendationSettings: [
    attempt(
      "cannot change another organization's recommendation settings (FORBIDDEN)",
      SetRecommendationSettingsDocument,
      (w) => ({ organizationId: w.b.organizationId, input: { inactiveDays: 45 } }),
      refused(NO_ROLE, 'FORBIDDEN'),
    ),
  ],
  previewRecommendation: [
    attempt(
      "finds no recommendation for another's license (NOT_FOUND)",
      PreviewRecommendationDocument,
      (w) => ({ id: recommendationIdFor(w.b.user.licenseId) }),
      refused(EVERY_ROLE, 'NOT_FOUND'),
    ),
  ],
  applyRecommendation: [
    attempt(
      "cannot apply a recommendation for another's license, which it is told does not exist (NOT_FOUND)",
      ApplyRecommendationDocument,
      (w) => ({ id: recommendationIdFor(w.b.user.licenseId) }),
      refused(LICENSE_MANAGERS, 'NOT_FOUND'),
    ),
  ],
  dismissRecommendation: [
    attempt(
      "cannot dismiss a recommendation for another's license, which it is told does not exist (NOT_FOUND)",
      DismissRecommendationDocument,
      (w) => ({ id: recommendationIdFor(w.b.user.licenseId), reason: 'not ours' }),
      refused(LICENSE_MANAGERS, 'NOT_FOUND'),
    ),
  ],
  acknowledgeViolation: [
    attempt(
      "cannot acknowledge another's violation, which it is told does not exist (NOT_FOUND)",
      AcknowledgeViolationDocument,
      (w) => ({ id: w.b.violationId }),
      refused(LICENSE_MANAGERS, 'NOT_FOUND'),
    ),
  ],
  resolveViolation: [
    attempt(
      "cannot resolve another's violation, which it is told does not exist (NOT_FOUND)",
      ResolveViolationDocument,
      (w) => ({ id: w.b.violationId, reason: 'intruder' }),
      refused(LICENSE_MANAGERS, 'NOT_FOUND'),
    ),
  ],
  waiveViolation: [
    attempt(
      "cannot waive another's violation, which it is told does not exist (NOT_FOUND)",
      WaiveViolationDocument,
      (w) => ({ input: { id: w.b.violationId, reason: 'intruder' } }),
      refused(LICENSE_MANAGERS, 'NOT_FOUND'),
    ),
  ],
  remediateViolation: [
    attempt(
      "cannot raise the limit of another's license by remediating its violation, which it is told does not exist (NOT_FOUND)",
      RemediateViolationDocument,
      (w) => ({ input: { violationId: w.b.violationId, action: 'RAISE_LIMIT' as const, limit: 10 * STORAGE_LIMIT } }),
      refused(LICENSE_MANAGERS, 'NOT_FOUND'),
    ),
    attempt(
      "cannot suspend another's license by remediating its violation, which it is told does not exist (NOT_FOUND)",
      RemediateViolationDocument,
      (w) => ({ input: { violationId: w.b.violationId, action: 'SUSPEND_LICENSE' as const, reason: 'intruder' } }),
      refused(LICENSE_MANAGERS, 'NOT_FOUND'),
    ),
  ],
  previewRemediation: [
    attempt(
      "cannot preview a remediation of another's violation, which it is told does not exist (NOT_FOUND)",
      PreviewRemediationDocument,
      (w) => ({ input: { violationId: w.b.violationId, action: 'RAISE_LIMIT' as const, limit: 10 * STORAGE_LIMIT } }),
      refused(EVERY_ROLE, 'NOT_FOUND'),
    ),
  ],
  runComplianceCheck: [
    attempt(
      'checks the licenses of its own organization only, and only as an org admin or license manager',
      RunComplianceCheckDocument,
      () => ({}),
      answered(LICENSE_MANAGERS, (d, w) => {
        // Every license of its own but the suspended one; its breaches all have their violation already.
        expect(d.runComplianceCheck).toMatchObject({
          skipped: false,
          licensesChecked: licenseIdsOf(w.a).length - 1,
          violationsOpened: 0,
          violationsResolved: 0,
          violationsReopened: 0,
        });
      }),
    ),
    attempt(
      'cannot check another organization by naming it (FORBIDDEN)',
      RunComplianceCheckDocument,
      (w) => ({ organizationId: w.b.organizationId }),
      refused(NO_ROLE, 'FORBIDDEN'),
    ),
  ],
  previewLicenseMigration: [
    attempt(
      "cannot preview a migration of another's license, which it is told does not exist (NOT_FOUND)",
      PreviewLicenseMigrationDocument,
      (w) => ({ licenseId: w.b.user.licenseId, target: { limits: { namedUsers: 10 } } }),
      refused(EVERY_ROLE, 'NOT_FOUND'),
    ),
    attempt(
      'previews a migration of its own license, which changes nothing',
      PreviewLicenseMigrationDocument,
      (w) => ({ licenseId: w.a.user.licenseId, target: { limits: { namedUsers: 10 } } }),
      answered(EVERY_ROLE, (d, w) => {
        expect(d.previewLicenseMigration).toMatchObject({ licenseId: w.a.user.licenseId, outcome: 'APPLIED', seatsReleased: [] });
      }),
    ),
  ],
  migrateLicense: [
    attempt(
      "cannot migrate another's license, which it is told does not exist (NOT_FOUND)",
      MigrateLicenseDocument,
      (w) => ({
        licenseId: w.b.user.licenseId,
        target: { limits: { namedUsers: 10 } },
        onConflict: { strategy: 'RELEASE_LEAST_ACTIVE' as const },
      }),
      refused(LICENSE_MANAGERS, 'NOT_FOUND'),
    ),
    attempt(
      "cannot schedule a migration of another's license at its renewal, which it is told does not exist (NOT_FOUND)",
      MigrateLicenseDocument,
      (w) => ({
        licenseId: w.b.user.licenseId,
        target: { limits: { namedUsers: 10 } },
        effective: 'AT_RENEWAL' as const,
        onConflict: { strategy: 'REJECT' as const },
      }),
      refused(LICENSE_MANAGERS, 'NOT_FOUND'),
    ),
    attempt(
      "cannot learn whether another's license fits a target by migrating it with REJECT: NOT_FOUND, not REJECTED",
      MigrateLicenseDocument,
      (w) => ({
        licenseId: w.b.concurrent.licenseId,
        target: { limits: { concurrentSessions: 1 } },
        onConflict: { strategy: 'REJECT' as const },
      }),
      refused(LICENSE_MANAGERS, 'NOT_FOUND'),
    ),
  ],
  cancelLicenseMigration: [
    attempt(
      "cannot cancel another's migration waiting for renewal, which it is told does not exist (NOT_FOUND)",
      CancelLicenseMigrationDocument,
      (w) => ({ id: w.b.scheduledMigrationId }),
      refused(LICENSE_MANAGERS, 'NOT_FOUND'),
    ),
  ],
  mergeFeatureLicense: [
    attempt(
      "cannot merge another's FEATURE license into another's license, which it is told do not exist (NOT_FOUND)",
      MergeFeatureLicenseDocument,
      (w) => ({ featureLicenseId: w.b.feature.licenseId, intoLicenseId: w.b.concurrent.licenseId }),
      refused(LICENSE_MANAGERS, 'NOT_FOUND'),
    ),
    attempt(
      "cannot take the features of another's FEATURE license by merging it into its own license (NOT_FOUND)",
      MergeFeatureLicenseDocument,
      (w) => ({ featureLicenseId: w.b.feature.licenseId, intoLicenseId: w.a.concurrent.licenseId }),
      refused(LICENSE_MANAGERS, 'NOT_FOUND'),
    ),
    attempt(
      "cannot give another's license features by merging its own FEATURE license into it (NOT_FOUND)",
      MergeFeatureLicenseDocument,
      (w) => ({ featureLicenseId: w.a.feature.licenseId, intoLicenseId: w.b.concurrent.licenseId }),
      refused(LICENSE_MANAGERS, 'NOT_FOUND'),
    ),
    attempt(
      "cannot learn the type of another's license by merging it: NOT_FOUND, not UNSUPPORTED_LICENSE_TYPE",
      MergeFeatureLicenseDocument,
      (w) => ({ featureLicenseId: w.b.user.licenseId, intoLicenseId: w.b.concurrent.licenseId }),
      refused(LICENSE_MANAGERS, 'NOT_FOUND'),
    ),
  ],
  splitFeatureLicense: [
    attempt(
      "cannot split features off another's license, which it is told does not exist (NOT_FOUND)",
      SplitFeatureLicenseDocument,
      (w) => ({ licenseId: w.b.concurrent.licenseId, featureKeys: ['premium.analytics'] }),
      refused(LICENSE_MANAGERS, 'NOT_FOUND'),
    ),
    attempt(
      "cannot learn which features another's license has by splitting off one it lacks: NOT_FOUND, not BAD_USER_INPUT",
      SplitFeatureLicenseDocument,
      (w) => ({ licenseId: w.b.concurrent.licenseId, featureKeys: ['premium.sso'] }),
      refused(LICENSE_MANAGERS, 'NOT_FOUND'),
    ),
    attempt(
      "cannot learn that another's license is a FEATURE license by splitting off its last feature: NOT_FOUND, not BAD_USER_INPUT",
      SplitFeatureLicenseDocument,
      (w) => ({ licenseId: w.b.feature.licenseId, featureKeys: ['premium.sso'] }),
      refused(LICENSE_MANAGERS, 'NOT_FOUND'),
    ),
  ],
  checkinSeat: [
    attempt(
      "cannot check another's lease in with its own key, and is told it does not exist",
      CheckinSeatDocument,
      (w) => ({ key: w.a.concurrent.key, leaseId: w.b.leaseIds[0]! }),
      refused(EVERY_ROLE, 'NOT_FOUND'),
      true,
    ),
  ],
};

/** The management mutations an organization's own tokens can aim at its own objects. */
type OwnChange = (t: TestServer, c: Tenant, token: string) => Promise<GraphQLResponse<unknown>>;
const OWN_CHANGES: Record<string, OwnChange> = {
  createOrganization: (t, _c, token) => t.request(CreateOrganizationDocument, { input: { name: unique('org') } }, token),
  updateOrganization: (t, c, token) =>
    t.request(UpdateOrganizationDocument, { id: c.organizationId, input: { name: unique('org') } }, token),
  createProduct: (t, _c, token) =>
    t.request(CreateProductDocument, { input: { key: unique('product'), name: 'Product', features: [] } }, token),
  addFeature: (t, c, token) =>
    t.request(AddFeatureDocument, { productId: c.concurrent.productId, input: { key: unique('feature'), name: 'F', tier: 'CORE' } }, token),
  createPlan: (t, c, token) =>
    t.request(
      CreatePlanDocument,
      { input: { productId: c.concurrent.productId, key: unique('plan'), name: 'Plan', licenseType: 'SITE' } },
      token,
    ),
  createApiToken: (t, c, token) =>
    t.request(CreateApiTokenDocument, { input: { name: unique('token'), role: 'INTEGRATOR', organizationId: c.organizationId } }, token),
  revokeApiToken: (t, c, token) => t.request(RevokeApiTokenDocument, { id: c.tokens.LICENSE_MANAGER.id }, token),
  issueLicense: (t, c, token) =>
    t.request(IssueLicenseDocument, { input: { organizationId: c.organizationId, planId: c.concurrent.planId } }, token),
  suspendLicense: (t, c, token) => t.request(SuspendLicenseDocument, { id: c.concurrent.licenseId }, token),
  resumeLicense: (t, c, token) => t.request(ResumeLicenseDocument, { id: c.suspended.licenseId }, token),
  revokeLicense: (t, c, token) => t.request(RevokeLicenseDocument, { id: c.user.licenseId }, token),
  renewLicense: (t, c, token) => t.request(RenewLicenseDocument, { id: c.concurrent.licenseId, input: { termDays: 30 } }, token),
  setLicenseAutoRenew: (t, c, token) => t.request(SetLicenseAutoRenewDocument, { id: c.concurrent.licenseId, autoRenew: true }, token),
  assignSeat: (t, c, token) => t.request(AssignSeatDocument, { licenseId: c.user.licenseId, userId: unique('user') }, token),
  releaseSeat: (t, c, token) => t.request(ReleaseSeatDocument, { seatId: c.seatId }, token),
  acknowledgeAlert: (t, c, token) => t.request(AcknowledgeAlertDocument, { id: c.alertId }, token),
  rotateSigningKey: (t, _c, token) => t.request(RotateSigningKeyDocument, {}, token),
  regenerateLicenseKey: (t, c, token) => t.request(RegenerateLicenseKeyDocument, { id: c.suspended.licenseId }, token),
  setRecommendationSettings: (t, c, token) =>
    t.request(SetRecommendationSettingsDocument, { organizationId: c.organizationId, input: { bufferPercent: 20 } }, token),
  applyRecommendation: (t, c, token) => t.request(ApplyRecommendationDocument, { id: recommendationIdFor(c.user.licenseId) }, token),
  dismissRecommendation: (t, c, token) =>
    t.request(DismissRecommendationDocument, { id: recommendationIdFor(c.user.licenseId), reason: 'not now' }, token),
  setThresholdRule: (t, c, token) =>
    t.request(
      SetThresholdRuleDocument,
      { input: { licenseId: c.concurrent.licenseId, metric: 'CONCURRENT_SESSIONS', thresholds: [50] } },
      token,
    ),
  setExpiryNotices: (t, c, token) =>
    t.request(SetExpiryNoticesDocument, { input: { licenseId: c.concurrent.licenseId, daysBefore: [3] } }, token),
  acknowledgeViolation: (t, c, token) => t.request(AcknowledgeViolationDocument, { id: c.violationId }, token),
  resolveViolation: (t, c, token) => t.request(ResolveViolationDocument, { id: c.violationId, reason: 'settled' }, token),
  waiveViolation: (t, c, token) => t.request(WaiveViolationDocument, { input: { id: c.violationId, reason: 'agreed' } }, token),
  remediateViolation: (t, c, token) =>
    t.request(
      RemediateViolationDocument,
      { input: { violationId: c.violationId, action: 'RAISE_LIMIT', limit: 2 * STORAGE_LIMIT } },
      token,
    ),
  runComplianceCheck: (t, c, token) => t.request(RunComplianceCheckDocument, { organizationId: c.organizationId }, token),
  migrateLicense: (t, c, token) =>
    t.request(
      MigrateLicenseDocument,
      { licenseId: c.user.licenseId, target: { limits: { namedUsers: 20 } }, onConflict: { strategy: 'RELEASE_LEAST_ACTIVE' } },
      token,
    ),
  cancelLicenseMigration: (t, c, token) => t.request(CancelLicenseMigrationDocument, { id: c.scheduledMigrationId }, token),
  mergeFeatureLicense: (t, c, token) =>
    t.request(MergeFeatureLicenseDocument, { featureLicenseId: c.feature.licenseId, intoLicenseId: c.concurrent.licenseId }, token),
  splitFeatureLicense: (t, c, token) =>
    t.request(SplitFeatureLicenseDocument, { licenseId: c.concurrent.licenseId, featureKeys: ['premium.analytics'] }, token),
};

/** The operations client applications call with their license key alone. */
const CLIENT_FACING = [...CLIENT_OPERATIONS];

describeEachDatabase('access control', (server) => {
  let w: World;

  beforeAll(async () => {
    const t = server();
    const a = await tenant(t, 'a');
    const b = await tenant(t, 'b');
    const { apiTokens } = await t.ok(ApiTokensDocument, { filter: { active: true }, first: 200 });
    const platformTokenId = apiTokens.nodes.find((k) => k.role === 'PLATFORM_ADMIN')!.id;
    w = { a, b, unscanned: await unscannedBreach(t, b.organizationId), platformTokenId };

    // What the attempts must not reach is there to be reached: B's own key finds its lease, seat and feature.
    const lease = await t.ok(ValidateLicenseDocument, { key: b.concurrent.key, fingerprint: b.fingerprints[0] });
    expect(lease.validateLicense.checks.find((c) => c.check === 'LEASE')?.code).toBe('LEASE_ACTIVE');
    const seat = await t.ok(ValidateLicenseDocument, { key: b.user.key, user: b.seatUser });
    expect(seat.validateLicense.checks.find((c) => c.check === 'SEAT')?.code).toBe('SEAT_ASSIGNED');
    const feature = await t.ok(CheckFeatureDocument, { key: b.concurrent.key, feature: b.ownFeature });
    expect(feature.checkFeature.allowed).toBe(true);
    // B's own tokens find its violation open, and what a check of B would find is still to be found.
    const violation = await t.ok(ViolationDocument, { id: b.violationId }, b.tokens.AUDITOR.secret);
    expect(violation.violation.status).toBe('OPEN');
    const report = await t.ok(ComplianceReportDocument, { organizationId: b.organizationId }, b.tokens.AUDITOR.secret);
    const unscanned = report.complianceReport.licenses.find((l) => l.licenseId === w.unscanned.licenseId)!;
    expect(unscanned).toMatchObject({ compliant: false, openViolations: [] });
    expect(unscanned.utilization.find((u) => u.metric === 'STORAGE_BYTES')).toMatchObject({ limit: STORAGE_LIMIT - 1, overLimit: true });
    // B's own tokens find its migration waiting for the renewal, there to be cancelled.
    const waiting = await t.ok(LicenseMigrationsDocument, { id: b.concurrent.licenseId }, b.tokens.AUDITOR.secret);
    expect(waiting.license.scheduledMigration).toMatchObject({ id: b.scheduledMigrationId, status: 'SCHEDULED' });
    // B's own key finds the feature of its FEATURE license, there to be merged, and its concurrent license one to split off.
    const addOn = await t.ok(CheckFeatureDocument, { key: b.feature.key, feature: 'premium.sso' });
    expect(addOn.checkFeature.allowed).toBe(true);
    const own = await t.ok(CheckFeatureDocument, { key: b.concurrent.key, feature: 'premium.analytics' });
    expect(own.checkFeature.allowed).toBe(true);
  });

  describe('a token of one organization reads and changes nothing of another', () => {
    it('has a case for every query and mutation of the schema, so that no operation goes unexamined', () => {
      const schema = server().server.schema;
      const fields = [...Object.keys(schema.getQueryType()!.getFields()), ...Object.keys(schema.getMutationType()!.getFields())];
      expect(Object.keys(ACCESS).sort()).toEqual(fields.sort());
      for (const [field, attempts] of Object.entries(ACCESS)) expect(attempts.length, field).toBeGreaterThan(0);
      expect(
        Object.entries(ACCESS)
          .filter(([, attempts]) => attempts.some((a) => a.clientFacing))
          .map(([field]) => field),
      ).toEqual(expect.arrayContaining(CLIENT_FACING));
    });

    for (const [field, attempts] of Object.entries(ACCESS)) {
      for (const a of attempts) {
        it(`${field}: a token of any role of one organization ${a.title}, and the other organization is unchanged`, async () => {
          const t = server();
          const before = await stateOf(t, w.b.organizationId);
          for (const role of ORG_ROLES) await a.run(t, w, role);
          expect(await stateOf(t, w.b.organizationId)).toEqual(before);
        });
      }
    }
  });

  describe('roles within one organization', () => {
    let c: Tenant;
    let unscanned: Licensed;
    beforeAll(async () => {
      const t = server();
      c = await tenant(t, 'c');
      unscanned = await unscannedBreach(t, c.organizationId);
    });

    it('has a case of its own for every management mutation of the schema', () => {
      const mutations = Object.keys(server().server.schema.getMutationType()!.getFields());
      expect(Object.keys(OWN_CHANGES).sort()).toEqual(mutations.filter((m) => !CLIENT_FACING.includes(m)).sort());
    });

    it('refuses every change to an auditor and to an integrator, even of their own organization (FORBIDDEN)', async () => {
      const t = server();
      const before = await stateOf(t, c.organizationId);
      for (const role of ['AUDITOR', 'INTEGRATOR'] as const) {
        for (const [field, change] of Object.entries(OWN_CHANGES)) {
          const response = await change(t, c, c.tokens[role].secret);
          expect(codeOf(response), `${role} ${field}`).toBe('FORBIDDEN');
        }
      }
      expect(await stateOf(t, c.organizationId)).toEqual(before);
    });

    it('keeps the audit log and the API tokens from an integrator, who still reads licenses, seats and leases', async () => {
      const t = server();
      const integrator = c.tokens.INTEGRATOR.secret;
      expect(await t.errorCode(AuditLogDocument, {}, integrator)).toBe('FORBIDDEN');
      expect(await t.errorCode(AuditLogDocument, { filter: { organizationId: c.organizationId } }, integrator)).toBe('FORBIDDEN');
      expect(await t.errorCode(ApiTokensDocument, {}, integrator)).toBe('FORBIDDEN');

      const { licenses } = await t.ok(LicensesDocument, {}, integrator);
      expect(idsOf(licenses.nodes)).toEqual(expect.arrayContaining(licenseIdsOf(c)));
      expect(idsOf((await t.ok(SeatsDocument, {}, integrator)).seats.nodes)).toContain(c.seatId);
      expect(idsOf((await t.ok(LeasesDocument, {}, integrator)).leases.nodes)).toEqual(expect.arrayContaining(c.leaseIds));

      const { auditLog } = await t.ok(AuditLogDocument, {}, c.tokens.AUDITOR.secret);
      expect(auditLog.nodes.map((e) => e.objectId)).toContain(c.concurrent.licenseId);
    });

    it('lets a license manager issue and suspend licenses and assign seats, but not create or revoke tokens', async () => {
      const t = server();
      const manager = c.tokens.LICENSE_MANAGER.secret;
      const { issueLicense } = await t.ok(
        IssueLicenseDocument,
        { input: { organizationId: c.organizationId, planId: c.user.planId } },
        manager,
      );
      expect(issueLicense.license).toMatchObject({ organizationId: c.organizationId, status: 'ACTIVE', type: 'USER' });

      const { suspendLicense } = await t.ok(SuspendLicenseDocument, { id: issueLicense.license.id, reason: 'audit' }, manager);
      expect(suspendLicense).toMatchObject({ status: 'SUSPENDED', statusReason: 'audit' });

      const { assignSeat } = await t.ok(AssignSeatDocument, { licenseId: c.user.licenseId, userId: unique('user') }, manager);
      expect(assignSeat.outcome).toBe('ASSIGNED');

      const tokensBefore = (await stateOf(t, c.organizationId)).apiTokens;
      const create = { input: { name: unique('token'), role: 'INTEGRATOR' as const, organizationId: c.organizationId } };
      expect(await t.errorCode(CreateApiTokenDocument, create, manager)).toBe('FORBIDDEN');
      expect(await t.errorCode(RevokeApiTokenDocument, { id: c.tokens.INTEGRATOR.id }, manager)).toBe('FORBIDDEN');
      expect(await t.errorCode(ApiTokensDocument, {}, manager)).toBe('FORBIDDEN');
      expect((await stateOf(t, c.organizationId)).apiTokens).toEqual(tokensBefore);
    });

    it('lets a license manager and an org admin acknowledge, waive, resolve and remediate violations, and run a check', async () => {
      const t = server();
      const manager = c.tokens.LICENSE_MANAGER.secret;
      const admin = c.tokens.ORG_ADMIN.secret;
      const acknowledged = await overStorage(t, c.organizationId);
      const waived = await overStorage(t, c.organizationId);
      const remediated = await overStorage(t, c.organizationId);

      const { acknowledgeViolation } = await t.ok(AcknowledgeViolationDocument, { id: acknowledged.violationId }, manager);
      expect(acknowledgeViolation.status).toBe('ACKNOWLEDGED');
      const reason = 'settled with the customer';
      const { resolveViolation } = await t.ok(ResolveViolationDocument, { id: acknowledged.violationId, reason }, admin);
      expect(resolveViolation).toMatchObject({ status: 'RESOLVED', resolution: reason });

      const { waiveViolation } = await t.ok(WaiveViolationDocument, { input: { id: waived.violationId, reason: 'trial' } }, admin);
      expect(waiveViolation).toMatchObject({ status: 'WAIVED', waiverReason: 'trial' });

      const input = { violationId: remediated.violationId, action: 'RAISE_LIMIT' as const, limit: 2 * STORAGE_LIMIT };
      const { remediateViolation } = await t.ok(RemediateViolationDocument, { input }, manager);
      expect(remediateViolation).toMatchObject({
        limitBefore: STORAGE_LIMIT,
        limitAfter: 2 * STORAGE_LIMIT,
        violation: { status: 'RESOLVED', remediations: [{ action: 'RAISE_LIMIT' }] },
      });

      // Resolved by hand, the first license is still over its limit, and so is the one no request saw go over.
      const { runComplianceCheck } = await t.ok(RunComplianceCheckDocument, {}, manager);
      expect(runComplianceCheck).toMatchObject({ skipped: false, violationsOpened: 2, violationsResolved: 0, violationsReopened: 0 });
      const { violations } = await t.ok(ViolationsDocument, { filter: { statuses: ['OPEN'] }, first: 200 }, c.tokens.INTEGRATOR.secret);
      expect(violations.nodes.map((v) => v.licenseId).sort()).toEqual(
        [c.storage.licenseId, acknowledged.license.licenseId, unscanned.licenseId].sort(),
      );
    });

    it('lets every role preview a migration, and a license manager and an org admin migrate a license and cancel a migration waiting for renewal', async () => {
      const t = server();
      const manager = c.tokens.LICENSE_MANAGER.secret;
      const admin = c.tokens.ORG_ADMIN.secret;
      const before = await stateOf(t, c.organizationId);
      // Two live leases on the concurrent license: one session does not fit.
      const tooSmall = { licenseId: c.concurrent.licenseId, target: { limits: { concurrentSessions: 1 } } };
      for (const role of ORG_ROLES) {
        const { previewLicenseMigration } = await t.ok(
          PreviewLicenseMigrationDocument,
          { ...tooSmall, onConflict: { strategy: 'REJECT' } },
          c.tokens[role].secret,
        );
        expect(previewLicenseMigration, role).toMatchObject({ outcome: 'REJECTED', conflicts: true, leasesEnded: [] });
      }

      // REJECT on what does not fit: answered REJECTED, and nothing is written, not even the refusal.
      const { migrateLicense: rejected } = await t.ok(MigrateLicenseDocument, { ...tooSmall, onConflict: { strategy: 'REJECT' } }, manager);
      expect(rejected).toMatchObject({ outcome: 'REJECTED', migration: null, preview: { leasesEnded: [] } });
      expect(await stateOf(t, c.organizationId)).toEqual(before);

      // A target that fits: applied at once, and the state compared elsewhere shows it.
      const { migrateLicense: applied } = await t.ok(
        MigrateLicenseDocument,
        { licenseId: c.user.licenseId, target: { limits: { namedUsers: 7 } }, onConflict: { strategy: 'REJECT' } },
        manager,
      );
      expect(applied).toMatchObject({ outcome: 'APPLIED', migration: { status: 'APPLIED', licenseId: c.user.licenseId } });
      const afterApplied = await stateOf(t, c.organizationId);
      expect(afterApplied.licenses.nodes.find((l) => l.id === c.user.licenseId)?.limits.namedUsers).toBe(7);
      expect(afterApplied.migrations[c.user.licenseId]?.migrations.map((m) => m.status)).toEqual(['APPLIED']);

      // Waiting for renewal changes no license, only its migrations; so does its cancellation.
      const { migrateLicense: scheduled } = await t.ok(
        MigrateLicenseDocument,
        { licenseId: c.user.licenseId, target: { limits: { namedUsers: 9 } }, effective: 'AT_RENEWAL', onConflict: { strategy: 'REJECT' } },
        manager,
      );
      expect(scheduled).toMatchObject({ outcome: 'SCHEDULED', migration: { status: 'SCHEDULED' } });
      const afterScheduled = await stateOf(t, c.organizationId);
      expect(afterScheduled.licenses).toEqual(afterApplied.licenses);
      expect(afterScheduled.migrations).not.toEqual(afterApplied.migrations);

      const { cancelLicenseMigration } = await t.ok(CancelLicenseMigrationDocument, { id: scheduled.migration!.id }, admin);
      expect(cancelLicenseMigration).toMatchObject({ id: scheduled.migration!.id, status: 'CANCELLED', appliedAt: null });
      expect(cancelLicenseMigration.cancelledAt).not.toBeNull();
      const afterCancelled = await stateOf(t, c.organizationId);
      expect(afterCancelled.licenses).toEqual(afterApplied.licenses);
      expect(afterCancelled.migrations[c.user.licenseId]?.migrations.map((m) => m.status)).toEqual(['APPLIED', 'CANCELLED']);
      expect(afterCancelled.migrations[c.user.licenseId]?.scheduledMigration).toBeNull();
    });

    it('lets a license manager and an org admin merge a FEATURE license into another license and split features off into a new one', async () => {
      const t = server();
      const manager = c.tokens.LICENSE_MANAGER.secret;
      const admin = c.tokens.ORG_ADMIN.secret;
      const base = await licensed(t, 'SUBSCRIPTION', { organizationId: c.organizationId, featureKeys: ['premium.analytics'] });
      const { issueLicense: addOn } = await t.ok(
        IssueLicenseDocument,
        { input: { organizationId: c.organizationId, planId: base.planId, type: 'FEATURE', featureKeys: ['premium.sso'] } },
        manager,
      );
      const featuresOf = (state: Awaited<ReturnType<typeof stateOf>>, id: string) =>
        state.licenses.nodes
          .find((l) => l.id === id)
          ?.features.map((f) => f.key)
          .sort();
      const before = await stateOf(t, c.organizationId);

      // Merged: the license gains the features, the FEATURE license is revoked; the state compared elsewhere shows both.
      const { mergeFeatureLicense } = await t.ok(
        MergeFeatureLicenseDocument,
        { featureLicenseId: addOn.license.id, intoLicenseId: base.licenseId },
        manager,
      );
      expect(mergeFeatureLicense).toMatchObject({ id: base.licenseId, status: 'ACTIVE' });
      const afterMerge = await stateOf(t, c.organizationId);
      expect(afterMerge.licenses.nodes).toHaveLength(before.licenses.nodes.length);
      expect(afterMerge.licenses.nodes.find((l) => l.id === addOn.license.id)?.status).toBe('REVOKED');
      expect(featuresOf(afterMerge, base.licenseId)).toEqual(['premium.analytics', 'premium.sso']);
      expect(afterMerge.migrations[base.licenseId]?.migrations.map((m) => m.status)).toEqual(['APPLIED']);
      expect(afterMerge.migrations[addOn.license.id]?.migrations.map((m) => m.status)).toEqual(['APPLIED']);

      // Split: one license more, and the features move to it.
      const { splitFeatureLicense } = await t.ok(
        SplitFeatureLicenseDocument,
        { licenseId: base.licenseId, featureKeys: ['premium.sso'] },
        admin,
      );
      expect(splitFeatureLicense.license).toMatchObject({ type: 'FEATURE', status: 'ACTIVE', organizationId: c.organizationId });
      const afterSplit = await stateOf(t, c.organizationId);
      expect(afterSplit.licenses.nodes).toHaveLength(before.licenses.nodes.length + 1);
      expect(featuresOf(afterSplit, base.licenseId)).toEqual(['premium.analytics']);
      expect(featuresOf(afterSplit, splitFeatureLicense.license.id)).toEqual(['premium.sso']);
      expect(afterSplit.migrations[base.licenseId]?.migrations.map((m) => m.status)).toEqual(['APPLIED', 'APPLIED']);
    });

    it("lets an org admin create and revoke tokens of its own organization, but not a platform admin's", async () => {
      const t = server();
      const admin = c.tokens.ORG_ADMIN.secret;
      const created = await issueToken(t, 'AUDITOR', c.organizationId, admin);
      const { auditLog } = await t.ok(AuditLogDocument, { filter: { objectId: created.id } }, created.secret);
      expect(auditLog.nodes.map((e) => e.action)).toEqual(['apiToken.create']);

      const { revokeApiToken } = await t.ok(RevokeApiTokenDocument, { id: created.id }, admin);
      expect(revokeApiToken.revokedAt).not.toBeNull();

      const tokensBefore = (await stateOf(t, c.organizationId)).apiTokens;
      const platform = { input: { name: unique('escalation'), role: 'PLATFORM_ADMIN' as const, organizationId: null } };
      expect(await t.errorCode(CreateApiTokenDocument, platform, admin)).toBe('FORBIDDEN');
      const { apiTokens } = await t.ok(ApiTokensDocument, { first: 200 });
      expect(apiTokens.nodes.filter((k) => k.role === 'PLATFORM_ADMIN')).toHaveLength(1);
      expect((await stateOf(t, c.organizationId)).apiTokens).toEqual(tokensBefore);
    });

    it('leaves organizations, the catalog and the signing key to platform admins', async () => {
      const t = server();
      const catalog = [
        'createOrganization',
        'updateOrganization',
        'createProduct',
        'addFeature',
        'createPlan',
        'rotateSigningKey',
      ] as const;
      const before = await stateOf(t, c.organizationId);
      const { products } = await t.ok(ProductsDocument, { first: 200 });
      for (const role of ORG_ROLES) {
        for (const field of catalog) {
          expect(codeOf(await OWN_CHANGES[field]!(t, c, c.tokens[role].secret)), `${role} ${field}`).toBe('FORBIDDEN');
        }
      }
      expect(await stateOf(t, c.organizationId)).toEqual(before);
      expect((await t.ok(ProductsDocument, { first: 200 })).products).toEqual(products);

      for (const field of catalog) {
        const response = await OWN_CHANGES[field]!(t, c, t.admin);
        expect(response.errors, `PLATFORM_ADMIN ${field}`).toBeUndefined();
      }
    });
  });

  describe('credentials', () => {
    it('refuses every management operation without a token (UNAUTHENTICATED)', async () => {
      const t = server();
      const before = await stateOf(t, w.b.organizationId);
      for (const [field, attempts] of Object.entries(ACCESS)) {
        for (const a of attempts.filter((x) => !x.clientFacing)) {
          const response = await a.send(t, w, null);
          expect(codeOf(response), `${field}: ${a.title}`).toBe('UNAUTHENTICATED');
          expect(response.data ?? null, field).toBeNull();
        }
      }
      expect(await stateOf(t, w.b.organizationId)).toEqual(before);
    });

    it('serves client applications on their license key alone, without a token', async () => {
      const t = server();
      const { validateLicense } = await t.ok(ValidateLicenseDocument, { key: w.a.concurrent.key }, null);
      expect(validateLicense.license.id).toBe(w.a.concurrent.licenseId);
      const { checkoutSeat } = await t.ok(CheckoutSeatDocument, { key: w.a.concurrent.key, fingerprint: w.a.fingerprints[0]! }, null);
      expect(checkoutSeat).toMatchObject({ outcome: 'GRANTED', reused: true });
      const { heartbeatSeat } = await t.ok(HeartbeatSeatDocument, { key: w.a.concurrent.key, leaseId: w.a.leaseIds[0]! }, null);
      expect(heartbeatSeat.outcome).toBe('EXTENDED');
    });

    it('refuses a malformed token with HTTP 401 (UNAUTHENTICATED), whatever the operation', async () => {
      const t = server();
      for (const token of ['not-a-token', 'alm_short', `${w.a.tokens.ORG_ADMIN.secret}x`]) {
        for (const response of [
          await t.request(LicensesDocument, {}, token),
          await t.request(ProductsDocument, {}, token),
          await t.request(ValidateLicenseDocument, { key: w.a.concurrent.key }, token),
        ]) {
          expect(response.status, token).toBe(401);
          expect(codeOf(response), token).toBe('UNAUTHENTICATED');
          expect(response.data ?? null).toBeNull();
        }
      }
    });

    it('refuses a well-formed token that was never issued with HTTP 401 (UNAUTHENTICATED)', async () => {
      const t = server();
      const forged = `alm_${randomBytes(32).toString('base64url')}`;
      const response = await t.request(LicensesDocument, {}, forged);
      expect(response.status).toBe(401);
      expect(codeOf(response)).toBe('UNAUTHENTICATED');
    });

    it('refuses a revoked token with HTTP 401 (UNAUTHENTICATED)', async () => {
      const t = server();
      const token = await issueToken(t, 'ORG_ADMIN', w.a.organizationId);
      expect((await t.request(LicensesDocument, {}, token.secret)).status).toBe(200);
      await t.ok(RevokeApiTokenDocument, { id: token.id });

      const before = await stateOf(t, w.a.organizationId);
      for (const response of [
        await t.request(LicensesDocument, {}, token.secret),
        await t.request(SuspendLicenseDocument, { id: w.a.concurrent.licenseId }, token.secret),
        await t.request(
          CreateApiTokenDocument,
          { input: { name: unique('t'), role: 'ORG_ADMIN', organizationId: w.a.organizationId } },
          token.secret,
        ),
      ]) {
        expect(response.status).toBe(401);
        expect(codeOf(response)).toBe('UNAUTHENTICATED');
        expect(response.data ?? null).toBeNull();
      }
      expect(await stateOf(t, w.a.organizationId)).toEqual(before);
    });
  });
});
