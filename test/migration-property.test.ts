import fc from 'fast-check';
import { expect, it } from 'vitest';
import {
  AcknowledgeViolationDocument,
  AssignSeatDocument,
  CheckFeatureDocument,
  CheckoutSeatDocument,
  type ConflictInput,
  type ConflictStrategy,
  HeartbeatSeatDocument,
  type LicenseType,
  type LimitsInput,
  type MigrationEffective,
  type MigrateLicenseMutation,
  MigrateLicenseDocument,
  type MigrationPropertySnapshotQuery,
  MigrationPropertySnapshotDocument,
  type MigrationTargetInput,
  type OverageInput,
  type PreviewLicenseMigrationQuery,
  PreviewLicenseMigrationDocument,
  RecordUsageDocument,
  type UsagePeriod,
  ValidateLicenseDocument,
  type ViolationSeverity,
  WaiveViolationDocument,
} from './generated/graphql';
import { limitApplies } from '../src/kernel/license-types';
import { type Licensed, licensed, plan } from './support/factories';
import { addPastCalls } from './support/usage-series';
import { describeEachDatabase, type TestServer } from './support/server';

/**
 * Preview equals effect: for many generated licenses (types, limits, overage policies, seats, activity, leases,
 * heartbeats, storage and API usage, violations acknowledged or waived) and targets (limits lower or higher than used
 * or removed, other types, other plans of the product, feature keys), under each conflict strategy, migrating a
 * license changes exactly what its preview listed and nothing else.
 */

const DAY_MS = 86_400_000;
const RUNS = Number(process.env.MIGRATION_PROPERTY_RUNS ?? 50);
const SEED = process.env.MIGRATION_PROPERTY_SEED ? Number(process.env.MIGRATION_PROPERTY_SEED) : undefined;
/** Runs stop after this long (and the test passes with those done, which it prints): raise it for long runs. */
const TIME_LIMIT_MS = Number(process.env.MIGRATION_PROPERTY_TIME_LIMIT_S ?? 150) * 1000;

const TYPES: LicenseType[] = ['SUBSCRIPTION', 'USER', 'CONCURRENT', 'SITE', 'FEATURE'];
const STRATEGIES: ConflictStrategy[] = ['REJECT', 'RELEASE_LEAST_ACTIVE', 'ALLOW_OVERAGE_UNTIL'];
/** The features of the factories' product. */
const FEATURES = ['core.inference', 'premium.analytics', 'premium.sso'];
const USERS = ['ana', 'bob', 'cy', 'dee', 'eve', 'fay'];
const MACHINES = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'];
const LIMIT_KEYS = ['namedUsers', 'concurrentSessions', 'storageBytes', 'apiCallsPerPeriod'] as const;
type LimitKey = (typeof LIMIT_KEYS)[number];
type Limits = Record<LimitKey, number | null>;

const SEVERITY_RANK: Record<ViolationSeverity, number> = { LOW: 1, MEDIUM: 2, HIGH: 3, CRITICAL: 4 };

// ---- What is generated -------------------------------------------------------------------------------------------

const overageArb = fc.constantFrom<OverageInput>({ policy: 'NONE' }, { policy: 'PERCENT', percent: 50 }, { policy: 'ALWAYS' });

/** Small limits, so that what is used is often over them, and often not. */
const limitsArb = fc.record({
  namedUsers: fc.option(fc.integer({ min: 1, max: 5 })),
  concurrentSessions: fc.option(fc.integer({ min: 1, max: 5 })),
  storageBytes: fc.option(fc.integer({ min: 0, max: 1000 })),
  apiCallsPerPeriod: fc.option(fc.integer({ min: 0, max: 12 })),
});

const priceArb = fc.record({
  pricePerSeatCents: fc.option(fc.integer({ min: 0, max: 5_000 })),
  pricePerPeriodCents: fc.option(fc.integer({ min: 0, max: 100_000 })),
});

const licenseArb = fc.record({
  type: fc.constantFrom(...TYPES),
  limits: limitsArb,
  apiCallPeriod: fc.constantFrom<UsagePeriod>('DAY', 'MONTH'),
  overage: overageArb,
  features: fc.subarray(FEATURES),
  /** The license's own plan (which a target may name, to move back to it). */
  plan: fc.record({ limits: limitsArb, features: fc.subarray(FEATURES), price: priceArb }),
  /** Used where the type needs a limit or a feature the draw left out. */
  fixUsers: fc.integer({ min: 1, max: 5 }),
  fixSessions: fc.integer({ min: 1, max: 5 }),
  fixFeature: fc.constantFrom(...FEATURES),
});

const stateArb = fc.record({
  /** Named seats to assign (USER), in this order; past the limit the overage policy decides. */
  seats: fc.uniqueArray(fc.constantFrom(...USERS), { maxLength: 5 }),
  /** Users who validate, in this order (those holding a seat become active then). */
  active: fc.shuffledSubarray(USERS),
  /** Leases to check out (CONCURRENT), in this order. */
  leases: fc.uniqueArray(fc.record({ fingerprint: fc.constantFrom(...MACHINES), user: fc.option(fc.constantFrom(...USERS.slice(0, 4))) }), {
    maxLength: 5,
    selector: (l) => l.fingerprint,
  }),
  /** The leases (by index) that send a heartbeat, in this order. */
  heartbeats: fc.shuffledSubarray([0, 1, 2, 3, 4]),
  storage: fc.option(fc.integer({ min: 0, max: 1200 })),
  /** Instead, storage this many percent over its limit (an overage of each severity, where the policy allows it). */
  storageOverBy: fc.option(fc.constantFrom(5, 20, 40, 80), { freq: 2 }),
  apiCalls: fc.integer({ min: 0, max: 15 }),
  /** API calls of earlier days in the usage series: at the start of this month (today, on the 1st), and last month. */
  pastCalls: fc.option(fc.record({ monthStart: fc.integer({ min: 1, max: 10 }), lastMonth: fc.integer({ min: 1, max: 10 }) }), {
    freq: 2,
  }),
  /** Features checked (those not entitled open UNLICENSED_FEATURE violations, which no migration touches). */
  featureChecks: fc.subarray(FEATURES),
  /** What an administrator did with the first open violation. */
  violation: fc.constantFrom('none', 'acknowledge', 'waive'),
});

const planArb = fc.record({
  type: fc.constantFrom(...TYPES),
  limits: limitsArb,
  features: fc.subarray(FEATURES),
  overage: overageArb,
  price: priceArb,
});

/** A limit of a target: not given (undefined), removed (null), or a value. */
const targetLimit = (max: number) => fc.option(fc.option(fc.integer({ min: 0, max }), { freq: 4 }), { nil: undefined, freq: 2 });

const targetArb = fc.record({
  /** A plan of the product (the license's own or another, an index into them), or none. */
  plan: fc.option(fc.nat(2), { freq: 3 }),
  type: fc.option(fc.constantFrom(...TYPES), { freq: 2 }),
  limits: fc.record({
    namedUsers: targetLimit(7),
    concurrentSessions: targetLimit(7),
    storageBytes: targetLimit(1500),
    apiCallsPerPeriod: targetLimit(20),
  }),
  apiCallPeriod: fc.option(fc.constantFrom<UsagePeriod>('DAY', 'MONTH'), { freq: 5 }),
  overage: fc.option(overageArb, { freq: 3 }),
  featureKeys: fc.option(fc.subarray(FEATURES), { freq: 2 }),
  site: fc.boolean(),
  fixUsers: fc.integer({ min: 1, max: 6 }),
  fixSessions: fc.integer({ min: 1, max: 6 }),
  fixFeature: fc.constantFrom(...FEATURES),
  strategy: fc.constantFrom(...STRATEGIES),
  untilDays: fc.integer({ min: 1, max: 60 }),
  /** Most migrations now; some wait for the renewal (a second one waiting is refused). */
  effective: fc.constantFrom<MigrationEffective>('NOW', 'NOW', 'NOW', 'AT_RENEWAL'),
  /** Keep a limit the resulting type does not count, when the draw gives one (refused alike by both). */
  strayLimits: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
});

const caseArb = fc.record({
  license: licenseArb,
  state: stateArb,
  plans: fc.array(planArb, { maxLength: 2 }),
  /** Migrations applied one after the other, each previewed first. */
  migrations: fc.array(targetArb, { minLength: 1, maxLength: 3 }),
});

type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;
type TargetSpec = Case['migrations'][number];

const NO_LIMITS = { namedUsers: null, concurrentSessions: null, storageBytes: null, apiCallsPerPeriod: null };
const NOT_GIVEN = { namedUsers: undefined, concurrentSessions: undefined, storageBytes: undefined, apiCallsPerPeriod: undefined };
const FIX = { fixUsers: 1, fixSessions: 1, fixFeature: 'core.inference' };

/**
 * Run first, before the generated cases: the smallest case found where the effect differs from the preview. Storage
 * over a limit a first migration allowed until tomorrow (a STORAGE_OVERAGE violation with that deadline), then a
 * second migration, RELEASE_LEAST_ACTIVE: its preview lists the violation counted again with `deadline: null`, but the
 * violation keeps tomorrow's deadline (and escalates then).
 */
const DEADLINE_KEPT: Case = {
  license: {
    type: 'SUBSCRIPTION',
    limits: NO_LIMITS,
    apiCallPeriod: 'MONTH',
    overage: { policy: 'NONE' },
    features: [],
    plan: { limits: NO_LIMITS, features: [], price: { pricePerSeatCents: null, pricePerPeriodCents: null } },
    ...FIX,
  },
  state: {
    seats: [],
    active: [],
    leases: [],
    heartbeats: [],
    storage: 1,
    storageOverBy: null,
    apiCalls: 0,
    pastCalls: null,
    featureChecks: [],
    violation: 'none',
  },
  plans: [],
  migrations: [
    {
      plan: null,
      type: null,
      limits: { ...NOT_GIVEN, storageBytes: 0 },
      apiCallPeriod: null,
      overage: null,
      featureKeys: null,
      site: false,
      ...FIX,
      strategy: 'ALLOW_OVERAGE_UNTIL',
      untilDays: 1,
      effective: 'NOW',
      strayLimits: false,
    },
    {
      plan: null,
      type: null,
      limits: NOT_GIVEN,
      apiCallPeriod: null,
      overage: { policy: 'ALWAYS' },
      featureKeys: null,
      site: false,
      ...FIX,
      strategy: 'RELEASE_LEAST_ACTIVE',
      untilDays: 1,
      effective: 'NOW',
      strayLimits: false,
    },
  ],
};

// ---- Setting a case up -------------------------------------------------------------------------------------------

interface Terms {
  type: LicenseType;
  limits: Limits;
  features: string[];
  site: { domains: string[]; cidrs: string[] };
}

interface MadePlan {
  id: string;
  terms: Terms;
}

type Snapshot = MigrationPropertySnapshotQuery;
type Preview = PreviewLicenseMigrationQuery['previewLicenseMigration'];
type Result = MigrateLicenseMutation['migrateLicense'];

/** Limits for a type: what it needs (at least one named user, or session) where the draw left it out. */
function limitsFor(type: LicenseType, limits: Limits, fixUsers: number, fixSessions: number): Limits {
  return {
    ...limits,
    namedUsers: type === 'USER' ? (limits.namedUsers ?? fixUsers) : limits.namedUsers,
    concurrentSessions: type === 'CONCURRENT' ? (limits.concurrentSessions ?? fixSessions) : limits.concurrentSessions,
  };
}

async function setUp(t: TestServer, c: Case): Promise<{ l: Licensed; plans: MadePlan[] }> {
  const { type } = c.license;
  const limits = limitsFor(type, c.license.limits, c.license.fixUsers, c.license.fixSessions);
  const features = type === 'FEATURE' && !c.license.features.length ? [c.license.fixFeature] : c.license.features;
  const own = c.license.plan;
  const l = await licensed(
    t,
    type,
    { limits: { ...limits, apiCallPeriod: c.license.apiCallPeriod }, overage: c.license.overage, featureKeys: features },
    { limits: own.limits, featureKeys: own.features, ...own.price },
  );

  const plans: MadePlan[] = [
    { id: l.planId, terms: { type, limits: own.limits, features: [...own.features].sort(), site: { domains: [], cidrs: [] } } },
  ];
  for (const p of c.plans) {
    const made = await plan(t, l.productId, p.type, { limits: p.limits, featureKeys: p.features, overage: p.overage, ...p.price });
    plans.push({
      id: made.id,
      terms: { type: p.type, limits: p.limits, features: [...p.features].sort(), site: { domains: [], cidrs: [] } },
    });
  }

  const { state } = c;
  if (type === 'USER') {
    for (const userId of state.seats) await t.ok(AssignSeatDocument, { licenseId: l.licenseId, userId });
    // A seat's activity is written at most every 15 minutes: one validation per user orders them.
    for (const user of state.active) if (state.seats.includes(user)) await t.ok(ValidateLicenseDocument, { key: l.key, user }, null);
  }
  if (type === 'CONCURRENT') {
    const leaseIds: (string | null)[] = [];
    for (const { fingerprint, user } of state.leases) {
      const { checkoutSeat } = await t.ok(CheckoutSeatDocument, { key: l.key, fingerprint, user }, null);
      leaseIds.push(checkoutSeat.lease?.id ?? null);
    }
    for (const i of state.heartbeats) {
      const leaseId = leaseIds[i];
      if (leaseId) await t.ok(HeartbeatSeatDocument, { key: l.key, leaseId }, null);
    }
  }
  const storageLimit = limits.storageBytes;
  const storage = state.storageOverBy && storageLimit ? Math.floor((storageLimit * (100 + state.storageOverBy)) / 100) : state.storage;
  // Over a limit NONE does not allow, the report is refused: the storage stays as it was (none).
  if (storage !== null) await t.ok(RecordUsageDocument, { key: l.key, metric: 'STORAGE_BYTES', value: storage }, null);
  if (state.apiCalls > 0) await t.ok(RecordUsageDocument, { key: l.key, metric: 'API_CALLS', amount: state.apiCalls }, null);
  if (state.pastCalls) await addPastCalls(t, l, state.pastCalls);
  for (const feature of state.featureChecks) await t.ok(CheckFeatureDocument, { key: l.key, feature }, null);
  if (state.violation !== 'none') {
    const open = (await snapshot(t, l)).violations.nodes.find((v) => v.status === 'OPEN');
    if (open && state.violation === 'acknowledge') await t.ok(AcknowledgeViolationDocument, { id: open.id });
    if (open && state.violation === 'waive') await t.ok(WaiveViolationDocument, { input: { id: open.id, reason: 'accepted for now' } });
  }
  return { l, plans };
}

async function snapshot(t: TestServer, l: Licensed): Promise<Snapshot> {
  const s = await t.ok(MigrationPropertySnapshotDocument, { licenseId: l.licenseId, organizationId: l.organizationId });
  for (const page of [s.seats, s.leases, s.violations, s.complianceEventLog, s.alerts, s.auditLog])
    expect(page.pageInfo.hasNextPage).toBe(false);
  return s;
}

function termsOf(s: Snapshot): Terms {
  const { license } = s;
  return {
    type: license.type,
    limits: {
      namedUsers: license.limits.namedUsers,
      concurrentSessions: license.limits.concurrentSessions,
      storageBytes: license.limits.storageBytes,
      apiCallsPerPeriod: license.limits.apiCallsPerPeriod,
    },
    features: license.features.map((f) => f.key).sort(),
    site: license.site,
  };
}

/**
 * The target a spec means for the license as it is: what the draw gives, plus what the resulting type needs (named
 * users, sessions, a site, a feature) where neither the draw nor what it starts from has it.
 */
function targetOf(spec: TargetSpec, current: Terms, plans: MadePlan[]): MigrationTargetInput {
  const chosen = spec.plan !== null ? plans[spec.plan % plans.length]! : null;
  const base = chosen ? chosen.terms : current;
  const target: MigrationTargetInput = {};
  if (chosen) target.planId = chosen.id;
  if (spec.type) target.type = spec.type;
  const type = spec.type ?? base.type;

  const limits: LimitsInput = {};
  for (const key of LIMIT_KEYS) if (spec.limits[key] !== undefined) limits[key] = spec.limits[key];
  if (spec.apiCallPeriod) limits.apiCallPeriod = spec.apiCallPeriod;
  const limitOf = (key: LimitKey) => (key in limits ? limits[key] : base.limits[key]);
  if (type === 'USER' && !limitOf('namedUsers')) limits.namedUsers = spec.fixUsers;
  if (type === 'CONCURRENT' && !limitOf('concurrentSessions')) limits.concurrentSessions = spec.fixSessions;
  // A limit of a type it will not be is refused: mostly left out, sometimes kept to see it refused.
  if (!spec.strayLimits) {
    if (type !== 'USER' && limits.namedUsers !== null) delete limits.namedUsers;
    if (type !== 'CONCURRENT' && limits.concurrentSessions !== null) delete limits.concurrentSessions;
  }
  if (Object.keys(limits).length) target.limits = limits;

  if (spec.overage) target.overage = spec.overage;
  if (spec.featureKeys) target.featureKeys = spec.featureKeys;
  if (type === 'FEATURE' && !(spec.featureKeys ?? base.features).length) target.featureKeys = [spec.fixFeature];
  const noSite = !current.site.domains.length && !current.site.cidrs.length;
  if (spec.site || (type === 'SITE' && noSite)) target.site = { domains: ['example.org'], cidrs: ['192.168.10.0/24'] };
  return target;
}

// ---- Checking one migration --------------------------------------------------------------------------------------

const byId = <T extends { id: string }>(nodes: readonly T[]) => new Map(nodes.map((n) => [n.id, n]));
const sorted = (values: readonly string[]) => [...values].sort();

/** A preview without what depends on the moment it was made. */
const timeless = (p: Preview) => ({ ...p, effectiveAt: null, price: { ...p.price, prorationCents: null, remainingFraction: null } });

function expectTermsOf(s: Snapshot, { planName: _, ...terms }: Preview['to']): void {
  const { license } = s;
  expect({
    planId: license.planId,
    type: license.type,
    limits: license.limits,
    overage: license.overage,
    features: license.features.map((f) => f.key).sort(),
    site: license.site,
  }).toEqual({ ...terms, features: sorted(terms.features) });
}

function expectRejected(before: Snapshot, after: Snapshot, preview: Preview, result: Result): void {
  expect(preview.conflicts).toBe(true);
  expect(preview.strategy).toBe('REJECT');
  expect(result.migration).toBeNull();
  // Nothing changed at all: seats, leases, license, its migrations, violations, alerts, the audit log.
  expect(after).toEqual(before);
}

function expectApplied(before: Snapshot, after: Snapshot, preview: Preview, result: Result, onConflict: ConflictInput): void {
  const migration = result.migration;
  expect(migration).not.toBeNull();
  if (!migration) return;

  // The license: from what the preview says it was to what it says it becomes.
  expectTermsOf(before, preview.from);
  expectTermsOf(after, preview.to);
  expect(after.license.status).toBe(before.license.status);

  // What the license uses after, and its limits: as the preview says.
  const byMetric = (a: { metric: string }, b: { metric: string }) => a.metric.localeCompare(b.metric);
  expect([...after.licenseUsage].sort(byMetric)).toEqual(
    preview.limits.map((c) => ({ metric: c.metric, value: c.usedAfter, limit: c.after })).sort(byMetric),
  );

  // Named seats: exactly those listed released, exactly the users listed given seats, the others untouched.
  const seatsBefore = byId(before.seats.nodes);
  const seatsAfter = byId(after.seats.nodes);
  for (const id of seatsBefore.keys()) expect(seatsAfter.has(id)).toBe(true);
  const released = before.seats.nodes.filter((s) => s.live && !seatsAfter.get(s.id)!.live).map((s) => s.id);
  expect(sorted(released)).toEqual(sorted(preview.seatsReleased.map((s) => s.seatId)));
  for (const s of preview.seatsReleased) expect(seatsBefore.get(s.seatId)).toMatchObject({ userId: s.userId, live: true });
  const added = after.seats.nodes.filter((s) => !seatsBefore.has(s.id));
  expect(sorted(added.map((s) => s.userId))).toEqual(sorted(preview.seatsAssigned));
  for (const s of added) expect(s.live).toBe(true);
  const releasedIds = new Set(released);
  for (const s of before.seats.nodes) if (!releasedIds.has(s.id)) expect(seatsAfter.get(s.id)).toEqual(s);

  // Leases: exactly those listed ended (as migrated), none taken, the others untouched.
  const leasesBefore = byId(before.leases.nodes);
  const leasesAfter = byId(after.leases.nodes);
  expect(sorted([...leasesAfter.keys()])).toEqual(sorted([...leasesBefore.keys()]));
  const ended = before.leases.nodes.filter((l) => l.live && !leasesAfter.get(l.id)!.live).map((l) => l.id);
  expect(sorted(ended)).toEqual(sorted(preview.leasesEnded.map((l) => l.leaseId)));
  for (const l of preview.leasesEnded) {
    expect(leasesBefore.get(l.leaseId)).toMatchObject({
      fingerprint: l.fingerprint,
      userId: l.userId,
      lastHeartbeatAt: l.lastHeartbeatAt,
      live: true,
    });
    expect(leasesAfter.get(l.leaseId)).toMatchObject({ live: false, releaseReason: 'LICENSE_MIGRATED' });
  }
  const endedIds = new Set(ended);
  for (const l of before.leases.nodes) if (!endedIds.has(l.id)) expect(leasesAfter.get(l.id)).toEqual(l);

  // Violations: those listed opened (or counted once more), those listed resolved, the others untouched.
  const violationsBefore = byId(before.violations.nodes);
  const violationsAfter = byId(after.violations.nodes);
  for (const id of violationsBefore.keys()) expect(violationsAfter.has(id)).toBe(true);
  const opened = after.violations.nodes.filter((v) => !violationsBefore.has(v.id));
  const plannedNew = preview.violationsOpened.filter((v) => v.existingViolationId === null);
  const byKind = (a: { kind: string }, b: { kind: string }) => a.kind.localeCompare(b.kind);
  expect(
    opened.map((v) => ({ kind: v.kind, value: v.value, limit: v.limit, severity: v.severity, deadline: v.deadline })).sort(byKind),
  ).toEqual(
    plannedNew.map((v) => ({ kind: v.kind, value: v.value, limit: v.limit, severity: v.severity, deadline: v.deadline })).sort(byKind),
  );
  for (const v of opened) {
    expect(v).toMatchObject({ status: 'OPEN', occurrences: 1, subject: null });
    expect(v.evidence).toMatchObject({ migrationId: migration.id });
  }
  const touched = new Set<string>();
  for (const v of preview.violationsOpened) {
    if (!v.existingViolationId) continue;
    touched.add(v.existingViolationId);
    const was = violationsBefore.get(v.existingViolationId);
    expect(was).toBeDefined();
    if (!was) continue;
    expect(['OPEN', 'ACKNOWLEDGED', 'WAIVED']).toContain(was.status);
    // Counted again, a violation keeps the highest severity it reached (that is what severity means): the preview
    // lists that severity, never a lower one; its deadline is the one the preview lists (DEADLINE_KEPT).
    expect(SEVERITY_RANK[v.severity]).toBeGreaterThanOrEqual(SEVERITY_RANK[was.severity]);
    const { severity } = v;
    expect(violationsAfter.get(v.existingViolationId)).toMatchObject({
      kind: v.kind,
      status: was.status,
      occurrences: was.occurrences + 1,
      value: v.value,
      limit: v.limit,
      severity,
      deadline: v.deadline,
    });
  }
  for (const id of preview.violationsResolved) {
    touched.add(id);
    expect(['OPEN', 'ACKNOWLEDGED']).toContain(violationsBefore.get(id)?.status);
    expect(violationsAfter.get(id)).toMatchObject({ status: 'RESOLVED', resolvedBy: 'SYSTEM' });
  }
  for (const v of before.violations.nodes) if (!touched.has(v.id)) expect(violationsAfter.get(v.id)).toEqual(v);

  // The compliance log: one event per violation opened, counted again or resolved.
  const logged = byId(before.complianceEventLog.nodes);
  expect(after.complianceEventLog.nodes.filter((e) => logged.has(e.id))).toEqual(before.complianceEventLog.nodes);
  const newOpened = new Map(opened.map((v) => [v.kind, v.id]));
  expect(sorted(after.complianceEventLog.nodes.filter((e) => !logged.has(e.id)).map((e) => `${e.type} ${e.violation.id}`))).toEqual(
    sorted([
      ...preview.violationsOpened.map((v) =>
        v.existingViolationId ? `UPDATED ${v.existingViolationId}` : `OPENED ${newOpened.get(v.kind)}`,
      ),
      ...preview.violationsResolved.map((id) => `RESOLVED ${id}`),
    ]),
  );

  // Alerts: exactly those listed were raised, in that order; the others untouched.
  const alertsBefore = byId(before.alerts.nodes);
  const raised = after.alerts.nodes.filter((a) => !alertsBefore.has(a.id));
  expect(raised.map((a) => ({ kind: a.kind, metric: a.metric, threshold: a.threshold, value: a.value, limit: a.limit }))).toEqual(
    preview.alerts,
  );
  expect(after.alerts.nodes.filter((a) => alertsBefore.has(a.id))).toEqual(before.alerts.nodes);

  // The audit log: the migration, and one event per seat, lease and violation it changed; nothing else.
  const eventsBefore = byId(before.auditLog.nodes);
  const events = after.auditLog.nodes.filter((e) => !eventsBefore.has(e.id));
  expect(sorted(events.map((e) => `${e.action} ${e.objectType} ${e.objectId}`))).toEqual(
    sorted([
      `license.migrate License ${after.license.id}`,
      ...released.map((id) => `seat.release Seat ${id}`),
      ...added.map((s) => `seat.assign Seat ${s.id}`),
      ...ended.map((id) => `lease.end Lease ${id}`),
      ...opened.map((v) => `violation.open Violation ${v.id}`),
      ...preview.violationsResolved.map((id) => `violation.resolve Violation ${id}`),
    ]),
  );
  expect(events.find((e) => e.action === 'license.migrate')?.after).toMatchObject({ migrationId: migration.id });

  // The migration kept on the license: one more, applied, with what it did.
  const migrations = after.license.migrations;
  expect(migrations).toHaveLength(before.license.migrations.length + 1);
  expect(migrations.slice(0, -1)).toEqual(before.license.migrations);
  expect(migrations.at(-1)).toEqual({
    id: migration.id,
    status: 'APPLIED',
    effective: 'NOW',
    strategy: onConflict.strategy,
    overageUntil: onConflict.until ?? null,
    from: preview.from,
    to: preview.to,
    outcome: result.preview,
  });
  expect(migration).toMatchObject({ status: 'APPLIED', from: preview.from, to: preview.to });
}

async function migrateOnce(t: TestServer, l: Licensed, spec: TargetSpec, plans: MadePlan[], stats: Map<string, number>): Promise<void> {
  const before = await snapshot(t, l);
  const target = targetOf(spec, termsOf(before), plans);
  const onConflict: ConflictInput =
    spec.strategy === 'ALLOW_OVERAGE_UNTIL'
      ? { strategy: spec.strategy, until: new Date(Date.now() + spec.untilDays * DAY_MS).toISOString() }
      : { strategy: spec.strategy };
  const variables = { licenseId: l.licenseId, target, onConflict, effective: spec.effective };
  const previewed = await t.request(PreviewLicenseMigrationDocument, variables);
  const migrated = await t.request(MigrateLicenseDocument, variables);
  const after = await snapshot(t, l);

  if (previewed.errors?.length || !previewed.data) {
    // A target the preview refuses, the migration refuses alike, and changes nothing.
    const count = `${spec.effective} ${spec.strategy} error ${previewed.errors?.[0]?.extensions?.code}`;
    stats.set(count, (stats.get(count) ?? 0) + 1);
    expect(migrated.errors?.map((e) => [e.extensions?.code, e.message])).toEqual(
      previewed.errors?.map((e) => [e.extensions?.code, e.message]),
    );
    expect(after).toEqual(before);
    return;
  }
  const preview = previewed.data.previewLicenseMigration;
  expect(migrated.errors).toBeUndefined();
  const result = migrated.data!.migrateLicense;
  const count = `${spec.effective} ${spec.strategy} ${preview.outcome}`;
  stats.set(count, (stats.get(count) ?? 0) + 1);

  expect(preview.outcome).toBe(
    spec.effective === 'AT_RENEWAL' ? 'SCHEDULED' : preview.conflicts && spec.strategy === 'REJECT' ? 'REJECTED' : 'APPLIED',
  );
  expect(result.outcome).toBe(preview.outcome);
  // A limit of a metric the type after does not count is dropped, and said so when the license had one.
  for (const change of preview.limits) {
    if (limitApplies(change.metric as never, preview.to.type as never)) continue;
    expect(change.after).toBeNull();
    const dropped = preview.warnings.some((w) => w.code === 'LIMIT_DROPPED' && w.metric === change.metric);
    expect(dropped).toBe(change.before !== null && preview.outcome !== 'REJECTED');
  }
  expect(preview.strategy).toBe(onConflict.strategy);
  expect(preview.overageUntil).toBe(onConflict.until ?? null);
  // What it answers it did is what the preview said it would (to the millisecond the proration depends on).
  expect(timeless(result.preview)).toEqual(timeless(preview));
  expect(Math.abs((result.preview.price.prorationCents ?? 0) - (preview.price.prorationCents ?? 0))).toBeLessThanOrEqual(1);
  expect(result.preview.price.prorationCents === null).toBe(preview.price.prorationCents === null);

  const covered: [string, boolean][] = [
    ['type change', preview.from.type !== preview.to.type],
    ['seats released', preview.seatsReleased.length > 0],
    ['seats assigned', preview.seatsAssigned.length > 0],
    ['leases ended', preview.leasesEnded.length > 0],
    ['violations opened', preview.violationsOpened.some((v) => !v.existingViolationId)],
    ['violations counted again', preview.violationsOpened.some((v) => v.existingViolationId)],
    ['violations resolved', preview.violationsResolved.length > 0],
    ['threshold alerts', preview.alerts.some((a) => a.kind === 'THRESHOLD')],
    ['limits dropped', preview.warnings.some((w) => w.code === 'LIMIT_DROPPED')],
    ['users failing validation', preview.warnings.some((w) => w.code === 'USERS_FAIL_VALIDATION')],
    ['usage refused', preview.warnings.some((w) => w.code === 'USAGE_REFUSED')],
    ['api call period changed', preview.from.limits.apiCallPeriod !== preview.to.limits.apiCallPeriod],
    ...(['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const).map((severity): [string, boolean] => [
      `counted again at ${severity}`,
      preview.violationsOpened.some((v) => v.existingViolationId && v.severity === severity),
    ]),
  ];
  for (const [what, yes] of covered) if (yes && preview.outcome === 'APPLIED') stats.set(what, (stats.get(what) ?? 0) + 1);

  if (preview.outcome === 'REJECTED') expectRejected(before, after, preview, result);
  else if (preview.outcome === 'SCHEDULED') expectScheduled(before, after, preview, result, onConflict);
  else {
    expectApplied(before, after, preview, result, onConflict);
    await expectWarnedUsersFail(t, l, preview);
  }
}

/** The users a preview warned would fail validation do; the other seat holders pass their seat check. */
async function expectWarnedUsersFail(t: TestServer, l: Licensed, preview: Preview): Promise<void> {
  if (preview.to.type !== 'USER') return;
  const warned = preview.warnings.find((w) => w.code === 'USERS_FAIL_VALIDATION')?.userIds ?? [];
  const { seats } = await snapshot(t, l);
  for (const seat of seats.nodes.filter((s) => s.live)) {
    const { validateLicense } = await t.ok(ValidateLicenseDocument, { key: l.key, user: seat.userId }, null);
    const check = validateLicense.checks.find((c) => c.check === 'SEAT');
    expect([seat.userId, check?.outcome === 'FAIL']).toEqual([seat.userId, warned.includes(seat.userId)]);
  }
}

/** Waiting for the renewal: the migration is kept, scheduled and audited; nothing else changes yet. */
function expectScheduled(before: Snapshot, after: Snapshot, preview: Preview, result: Result, onConflict: ConflictInput): void {
  const migration = result.migration;
  expect(migration).toMatchObject({ status: 'SCHEDULED', effective: 'AT_RENEWAL', strategy: onConflict.strategy, to: null, outcome: null });
  expect(after.license.migrations).toHaveLength(before.license.migrations.length + 1);
  expect(after.license.migrations.at(-1)).toMatchObject({ id: migration!.id, status: 'SCHEDULED', from: preview.from });
  const eventsBefore = byId(before.auditLog.nodes);
  expect(after.auditLog.nodes.filter((e) => !eventsBefore.has(e.id)).map((e) => `${e.action} ${e.objectId}`)).toEqual([
    `licenseMigration.schedule ${migration!.id}`,
  ]);
  const unchanged = (s: Snapshot) => ({
    ...s,
    license: { ...s.license, migrations: null },
    auditLog: s.auditLog.nodes.filter((e) => eventsBefore.has(e.id)),
  });
  expect(unchanged(after)).toEqual(unchanged(before));
}

describeEachDatabase('license migrations: preview equals effect (property)', (server) => {
  it(
    'changes exactly what the preview lists, for generated licenses, state and targets, under every strategy',
    async () => {
      const t = server();
      const stats = new Map<string, number>();
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          runs++;
          const { l, plans } = await setUp(t, c);
          for (const spec of c.migrations) await migrateOnce(t, l, spec, plans, stats);
        }),
        { numRuns: RUNS, seed: SEED, examples: [[DEADLINE_KEPT]], interruptAfterTimeLimit: TIME_LIMIT_MS },
      );
      console.log(
        `[${t.kind}] ${runs} cases; migrations (by effect, strategy and outcome, and applied ones by what they did): ${[...stats]
          .sort()
          .map(([k, n]) => `${k}: ${n}`)
          .join(', ')}`,
      );
    },
    TIME_LIMIT_MS + 30_000,
  );
});
