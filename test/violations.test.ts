import { setTimeout as sleep } from 'node:timers/promises';
import { print } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import { afterEach, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import {
  AcknowledgeViolationDocument,
  AssignSeatDocument,
  type AuditFilterInput,
  AuditLogDocument,
  type AuditLogQuery,
  CheckoutSeatDocument,
  ComplianceEventLogDocument,
  type ComplianceEventLogQuery,
  type ComplianceEventFilter,
  ComplianceEventsDocument,
  type ComplianceEventsSubscription,
  CreateApiTokenDocument,
  HeartbeatSeatDocument,
  LeasesDocument,
  LicenseDocument,
  PreviewRemediationDocument,
  RecordUsageDocument,
  RemediateViolationDocument,
  ResolveViolationDocument,
  type Role,
  SeatsDocument,
  SuspendLicenseDocument,
  ValidateLicenseDocument,
  ViolationDocument,
  type ViolationFilter,
  type ViolationQuery,
  ViolationsDocument,
  type ViolationsQuery,
  WaiveViolationDocument,
} from './generated/graphql';
import { issueToken, licensed, organization, unique } from './support/factories';
import { describeEachDatabase, type TestServer } from './support/server';

type ComplianceEvent = ComplianceEventsSubscription['complianceEvents'];
type Violation = ViolationQuery['violation'];
type AuditEvent = AuditLogQuery['auditLog']['nodes'][number];

const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
});

/**
 * A graphql-ws subscriber to complianceEvents, collecting what it receives. Without `after`, the subscription first
 * replays the stored events of its filter from the start: the events that follow need not wait for it to be live.
 */
function subscribe(t: TestServer, token: string, variables: { filter?: ComplianceEventFilter; after?: string | null } = {}) {
  const client = createClient({
    url: t.url.replace('http', 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
  });
  clients.push(client);
  const received: ComplianceEvent[] = [];
  const errors: unknown[] = [];
  client.subscribe<ComplianceEventsSubscription>(
    { query: print(ComplianceEventsDocument), variables },
    {
      next: (r) => (r.data ? received.push(r.data.complianceEvents) : errors.push(r.errors)),
      error: (e) => errors.push(e),
      complete: () => undefined,
    },
  );
  /** Waits for `count` events (or `ms`), then a little longer, so that any extra one (a duplicate) shows too. */
  const until = async (count: number, ms = 15_000) => {
    await vi.waitFor(() => expect(received.length).toBeGreaterThanOrEqual(count), { timeout: ms, interval: 20 }).catch(() => undefined); // what is missing, the test's expectations show
    await sleep(250);
    return received;
  };
  return { received, errors, until, client };
}

/** A token of a role whose name is known: it is what violations say acknowledged, waived or resolved them. */
async function namedToken(t: TestServer, role: Role, organizationId: string | null) {
  const name = unique(`officer-${role.toLowerCase()}`);
  const { createApiToken } = await t.ok(CreateApiTokenDocument, { input: { name, role, organizationId } });
  return { id: createApiToken.apiToken.id, secret: createApiToken.secret, name };
}

/** A SUBSCRIPTION license allowing 1000 bytes of storage. */
const storageLicense = (t: TestServer, organizationId?: string) =>
  licensed(t, 'SUBSCRIPTION', { limits: { storageBytes: 1000 }, ...(organizationId ? { organizationId } : {}) });

/** Reports a storage total, as a client does; the report is always recorded. */
async function storage(t: TestServer, key: string, value: number) {
  const { recordUsage } = await t.ok(RecordUsageDocument, { key, metric: 'STORAGE_BYTES', value }, null);
  expect(recordUsage.outcome).toBe('RECORDED');
  return recordUsage;
}

const violationsOf = async (t: TestServer, filter: ViolationFilter, token = t.admin) =>
  (await t.ok(ViolationsDocument, { filter, first: 100 }, token)).violations.nodes;

const violation = async (t: TestServer, id: string, token = t.admin) => (await t.ok(ViolationDocument, { id }, token)).violation;

/** The compliance log of a filter, oldest first, every page. */
async function eventLog(t: TestServer, filter: ComplianceEventFilter, token = t.admin) {
  const events: { id: string; type: string; violation: { id: string; status: string; occurrences: number } }[] = [];
  let after: string | null = null;
  for (;;) {
    const { complianceEventLog }: ComplianceEventLogQuery = await t.ok(ComplianceEventLogDocument, { filter, first: 200, after }, token);
    events.push(...complianceEventLog.nodes);
    if (!complianceEventLog.pageInfo.hasNextPage) return events;
    after = complianceEventLog.pageInfo.endCursor;
  }
}

/** The audit events of a filter, oldest first. */
async function audited(t: TestServer, filter: AuditFilterInput): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  let after: string | null = null;
  for (;;) {
    const { auditLog }: AuditLogQuery = await t.ok(AuditLogDocument, { filter, first: 200, after });
    events.push(...auditLog.nodes);
    if (!auditLog.pageInfo.hasNextPage) return events;
    after = auditLog.pageInfo.endCursor;
  }
}

const ascending = (ids: string[]) => ids.every((id, i) => i === 0 || ids[i - 1]! < id);
const inTheFuture = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

describeEachDatabase('violations', (server) => {
  it('counts a breach repeated 100 times on one violation, resolves it when the cause clears, and streams each step once, in order', async () => {
    const t = server();
    const l = await storageLicense(t);
    const sub = subscribe(t, t.admin, { filter: { licenseId: l.licenseId } });

    for (let i = 0; i < 100; i++) {
      const report = await storage(t, l.key, 1100);
      expect(report.usage.value).toBe(1100);
    }
    const open = await violationsOf(t, { licenseId: l.licenseId });
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({
      kind: 'STORAGE_OVERAGE',
      status: 'OPEN',
      occurrences: 100,
      value: 1100,
      peakValue: 1100,
      limit: 1000,
      resolvedAt: null,
      resolvedBy: null,
    });

    await storage(t, l.key, 900);
    const [resolved] = await violationsOf(t, { licenseId: l.licenseId });
    expect(resolved).toMatchObject({ id: open[0]!.id, status: 'RESOLVED', resolvedBy: 'SYSTEM', occurrences: 100 });
    expect(resolved!.resolution).toMatch(/back within its limit/);
    expect(resolved!.resolution).toContain('900 of 1000');
    expect(Date.parse(resolved!.resolvedAt!)).toBeGreaterThanOrEqual(Date.parse(resolved!.lastSeenAt));

    const events = await sub.until(101);
    expect(sub.errors).toEqual([]);
    expect(events.map((e) => e.type)).toEqual(['OPENED', ...Array<string>(99).fill('UPDATED'), 'RESOLVED']);
    expect(events.map((e) => e.violation.occurrences)).toEqual([...Array.from({ length: 100 }, (_, i) => i + 1), 100]);
    expect(new Set(events.map((e) => e.violation.id))).toEqual(new Set([open[0]!.id]));
    expect(events.map((e) => e.violation.status)).toEqual([...Array<string>(100).fill('OPEN'), 'RESOLVED']);
    expect(new Set(events.map((e) => e.id)).size).toBe(101);
    expect(ascending(events.map((e) => e.id))).toBe(true);
    // What was streamed is what was stored.
    expect((await eventLog(t, { violationId: open[0]!.id })).map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  it('resumes complianceEvents after a cursor with every later event once, in order, then live; and keeps organizations apart', async () => {
    const t = server();
    const l = await storageLicense(t);
    const filter = { licenseId: l.licenseId };
    const first = subscribe(t, t.admin, { filter });
    for (let i = 0; i < 5; i++) await storage(t, l.key, 1100);
    const seen = await first.until(5);
    expect(seen.map((e) => e.type)).toEqual(['OPENED', 'UPDATED', 'UPDATED', 'UPDATED', 'UPDATED']);
    const cursor = seen[2]!.id;
    await first.client.dispose();

    // Away: more events; then more again while the subscriber comes back and replays.
    for (let i = 0; i < 20; i++) await storage(t, l.key, 1200 + i);
    const during = (async () => {
      for (let i = 0; i < 20; i++) await storage(t, l.key, 1300 + i);
    })();
    const back = subscribe(t, t.admin, { filter, after: cursor });
    await during;
    await storage(t, l.key, 500); // resolves it: one event more, live

    const stored = await eventLog(t, filter);
    expect(stored).toHaveLength(5 + 20 + 20 + 1);
    const later = stored.filter((e) => e.id > cursor);
    expect(later).toHaveLength(2 + 20 + 20 + 1);
    const got = await back.until(later.length);
    expect(back.errors).toEqual([]);
    expect(got.map((e) => e.id)).toEqual(later.map((e) => e.id));
    expect(got.map((e) => e.violation.occurrences)).toEqual(Array.from({ length: 43 }, (_, i) => Math.min(4 + i, 45)));
    expect(got[got.length - 1]).toMatchObject({ type: 'RESOLVED', violation: { status: 'RESOLVED', occurrences: 45 } });

    // Then live: a new breach opens a new violation, and it arrives after everything replayed.
    await storage(t, l.key, 1500);
    const live = await back.until(later.length + 1);
    expect(live).toHaveLength(later.length + 1);
    expect(live[live.length - 1]).toMatchObject({ type: 'OPENED', violation: { occurrences: 1, status: 'OPEN', value: 1500 } });
    expect(live[live.length - 1]!.violation.id).not.toBe(got[0]!.violation.id);

    // Organization A's integrator sees A's events only, while B's happen at the same time.
    const a = await storageLicense(t);
    const b = await storageLicense(t);
    const integrator = await issueToken(t, 'INTEGRATOR', a.organizationId);
    const mine = subscribe(t, integrator.secret);
    await Promise.all(
      [a, b].map(async (x) => {
        for (let i = 0; i < 10; i++) await storage(t, x.key, 1100 + i);
        await storage(t, x.key, 100);
      }),
    );
    const ofA = await mine.until(11);
    expect(mine.errors).toEqual([]);
    expect(ofA).toHaveLength(11);
    expect(new Set(ofA.map((e) => e.organizationId))).toEqual(new Set([a.organizationId]));
    expect(new Set(ofA.map((e) => e.licenseId))).toEqual(new Set([a.licenseId]));
    expect(ofA.map((e) => e.type)).toEqual(['OPENED', ...Array<string>(9).fill('UPDATED'), 'RESOLVED']);
    // Nor does it read B's log, or subscribe to it by naming B.
    expect(await eventLog(t, {}, integrator.secret)).toHaveLength(11);
    expect(await t.errorCode(ComplianceEventLogDocument, { filter: { organizationId: b.organizationId } }, integrator.secret)).toBe(
      'FORBIDDEN',
    );
  });

  it('takes a violation through acknowledge, waive and resolve, refusing what its status forbids and changing nothing then', async () => {
    const t = server();
    const l = await storageLicense(t);
    const manager = await namedToken(t, 'LICENSE_MANAGER', l.organizationId);
    const auditor = await issueToken(t, 'AUDITOR', l.organizationId);
    const other = await issueToken(t, 'LICENSE_MANAGER', (await organization(t)).id);

    await storage(t, l.key, 1100);
    const [opened] = await violationsOf(t, { licenseId: l.licenseId });
    expect(opened).toMatchObject({ status: 'OPEN', occurrences: 1, acknowledgedAt: null, acknowledgedBy: null });
    const id = opened!.id;

    // Another organization's token does not find it; an auditor may read it but not change it.
    for (const call of [
      () => t.errorCode(ViolationDocument, { id }, other.secret),
      () => t.errorCode(AcknowledgeViolationDocument, { id }, other.secret),
      () => t.errorCode(ResolveViolationDocument, { id, reason: 'not ours' }, other.secret),
      () => t.errorCode(WaiveViolationDocument, { input: { id, reason: 'not ours' } }, other.secret),
      () => t.errorCode(RemediateViolationDocument, { input: { violationId: id, action: 'RAISE_LIMIT', limit: 5000 } }, other.secret),
    ]) {
      expect(await call()).toBe('NOT_FOUND');
    }
    expect((await violation(t, id, auditor.secret)).status).toBe('OPEN');
    for (const call of [
      () => t.errorCode(AcknowledgeViolationDocument, { id }, auditor.secret),
      () => t.errorCode(ResolveViolationDocument, { id, reason: 'looks fine' }, auditor.secret),
      () => t.errorCode(WaiveViolationDocument, { input: { id, reason: 'looks fine' } }, auditor.secret),
      () => t.errorCode(RemediateViolationDocument, { input: { violationId: id, action: 'SUSPEND_LICENSE' } }, auditor.secret),
    ]) {
      expect(await call()).toBe('FORBIDDEN');
    }
    expect(await violation(t, id)).toEqual(opened);
    expect((await t.ok(LicenseDocument, { id: l.licenseId })).license.status).toBe('ACTIVE');

    // OPEN → ACKNOWLEDGED, by the token's name; not twice.
    const acknowledged = (await t.ok(AcknowledgeViolationDocument, { id }, manager.secret)).acknowledgeViolation;
    expect(acknowledged).toMatchObject({ id, status: 'ACKNOWLEDGED', acknowledgedBy: manager.name, occurrences: 1 });
    expect(acknowledged.acknowledgedAt).not.toBeNull();
    expect(await t.errorCode(AcknowledgeViolationDocument, { id }, manager.secret)).toBe('INVALID_STATE_TRANSITION');

    // The breach repeating while acknowledged counts on it.
    await storage(t, l.key, 1150);
    expect(await violationsOf(t, { licenseId: l.licenseId })).toEqual([
      expect.objectContaining({ id, status: 'ACKNOWLEDGED', occurrences: 2, value: 1150, peakValue: 1150 }),
    ]);
    const beforeWaive = await violation(t, id);

    // A waiver needs a reason, and an end in the future when it has one; a refusal changes nothing.
    const past = new Date(Date.now() - 60_000).toISOString();
    expect(await t.errorCode(WaiveViolationDocument, { input: { id, reason: 'migration', until: past } }, manager.secret)).toBe(
      'BAD_USER_INPUT',
    );
    expect(await t.errorCode(WaiveViolationDocument, { input: { id, reason: '' } }, manager.secret)).toBe('BAD_USER_INPUT');
    expect(await t.errorCode(WaiveViolationDocument, { input: { id, reason: '   ' } }, manager.secret)).toBe('BAD_USER_INPUT');
    expect(await violation(t, id)).toEqual(beforeWaive);

    // ACKNOWLEDGED → WAIVED until a date.
    const until = inTheFuture(30);
    const waived = (
      await t.ok(WaiveViolationDocument, { input: { id, reason: '  data migration until month end ', until } }, manager.secret)
    ).waiveViolation;
    expect(waived).toMatchObject({
      id,
      status: 'WAIVED',
      waivedBy: manager.name,
      waiverReason: 'data migration until month end',
      acknowledgedBy: manager.name,
    });
    expect(Date.parse(waived.waivedUntil!)).toBe(Date.parse(until));
    expect(await t.errorCode(AcknowledgeViolationDocument, { id }, manager.secret)).toBe('INVALID_STATE_TRANSITION');
    expect(await t.errorCode(WaiveViolationDocument, { input: { id, reason: 'again' } }, manager.secret)).toBe('INVALID_STATE_TRANSITION');

    // The breach repeating while waived counts on it too: no new violation.
    await storage(t, l.key, 1120);
    expect(await violationsOf(t, { licenseId: l.licenseId })).toEqual([
      expect.objectContaining({ id, status: 'WAIVED', occurrences: 3, value: 1120, peakValue: 1150 }),
    ]);

    // WAIVED → RESOLVED needs a reason.
    const beforeResolve = await violation(t, id);
    expect(await t.errorCode(ResolveViolationDocument, { id, reason: '' }, manager.secret)).toBe('BAD_USER_INPUT');
    expect(await t.errorCode(ResolveViolationDocument, { id, reason: ' \t ' }, manager.secret)).toBe('BAD_USER_INPUT');
    expect(await t.errorCode(ResolveViolationDocument, { id, reason: 'x'.repeat(501) }, manager.secret)).toBe('BAD_USER_INPUT');
    expect(await violation(t, id)).toEqual(beforeResolve);
    const resolved = (await t.ok(ResolveViolationDocument, { id, reason: 'Customer bought more storage.' }, manager.secret))
      .resolveViolation;
    expect(resolved).toMatchObject({ id, status: 'RESOLVED', resolvedBy: manager.name, resolution: 'Customer bought more storage.' });
    expect(resolved.resolvedAt).not.toBeNull();

    // Nothing moves a resolved violation.
    const afterResolve = await violation(t, id);
    expect(await t.errorCode(AcknowledgeViolationDocument, { id }, manager.secret)).toBe('INVALID_STATE_TRANSITION');
    expect(await t.errorCode(ResolveViolationDocument, { id, reason: 'again' }, manager.secret)).toBe('INVALID_STATE_TRANSITION');
    expect(await t.errorCode(WaiveViolationDocument, { input: { id, reason: 'again' } }, manager.secret)).toBe('INVALID_STATE_TRANSITION');
    expect(await violation(t, id)).toEqual(afterResolve);

    // After it, the breach opens a new violation.
    await storage(t, l.key, 1300);
    const both = await violationsOf(t, { licenseId: l.licenseId });
    expect(both).toHaveLength(2);
    expect(both[0]).toMatchObject({ id, status: 'RESOLVED', occurrences: 3 });
    expect(both[1]).toMatchObject({ status: 'OPEN', occurrences: 1, value: 1300, acknowledgedBy: null, waivedBy: null });
    expect(both[1]!.id).not.toBe(id);

    // OPEN → WAIVED for good (no end), then RESOLVED.
    const forGood = (await t.ok(WaiveViolationDocument, { input: { id: both[1]!.id, reason: 'Pilot customer.' } }, manager.secret))
      .waiveViolation;
    expect(forGood).toMatchObject({ status: 'WAIVED', waivedUntil: null, waiverReason: 'Pilot customer.', acknowledgedAt: null });

    // The log and the audit log tell the story, the failures leaving nothing.
    expect((await eventLog(t, { violationId: id })).map((e) => [e.type, e.violation.status, e.violation.occurrences])).toEqual([
      ['OPENED', 'OPEN', 1],
      ['ACKNOWLEDGED', 'ACKNOWLEDGED', 1],
      ['UPDATED', 'ACKNOWLEDGED', 2],
      ['WAIVED', 'WAIVED', 2],
      ['UPDATED', 'WAIVED', 3],
      ['RESOLVED', 'RESOLVED', 3],
    ]);
    const trail = await audited(t, { objectType: 'Violation', objectId: id });
    expect(trail.map((e) => e.action)).toEqual(['violation.open', 'violation.acknowledge', 'violation.waive', 'violation.resolve']);
    expect(trail.slice(1).map((e) => e.actor)).toEqual(Array(3).fill({ type: 'API_TOKEN', id: manager.id, label: manager.name }));
    expect(trail[2]!.after).toMatchObject({ status: 'WAIVED', waiverReason: 'data migration until month end' });
    expect(trail[3]!.after).toMatchObject({ status: 'RESOLVED', resolution: 'Customer bought more storage.', occurrences: 3 });
  });

  it('lists violations by license, kinds, statuses and severity, a page at a time; reads one; and logs each one’s events in order', async () => {
    const t = server();
    const l1 = await licensed(t, 'SUBSCRIPTION', {
      limits: { storageBytes: 1000, apiCallsPerPeriod: 100 },
      overage: { policy: 'ALWAYS' },
    });
    const l2 = await licensed(t, 'SUBSCRIPTION', {
      organizationId: l1.organizationId,
      limits: { storageBytes: 1000 },
      overage: { policy: 'ALWAYS' },
    });
    const elsewhere = await storageLicense(t); // another organization's: never listed below
    await storage(t, elsewhere.key, 5000);
    const reader = await issueToken(t, 'AUDITOR', l1.organizationId);

    await storage(t, l1.key, 1050); // STORAGE_OVERAGE, 5 % over: LOW
    await storage(t, l1.key, 1100); // again, 10 %: still LOW
    await t.ok(RecordUsageDocument, { key: l1.key, metric: 'API_CALLS', amount: 200 }, null); // API_OVERAGE, 100 % over: CRITICAL
    await t.ok(ValidateLicenseDocument, { key: l1.key, feature: 'premium.sso' }, null); // not entitled: HIGH
    await t.ok(ValidateLicenseDocument, { key: l1.key, feature: 'no.such.feature' }, null); // unknown: LOW
    await storage(t, l2.key, 1200); // 20 % over: MEDIUM

    const all = await violationsOf(t, {}, reader.secret);
    expect(all.map((v) => [v.licenseId, v.kind, v.subject, v.severity, v.occurrences])).toEqual([
      [l1.licenseId, 'STORAGE_OVERAGE', null, 'LOW', 2],
      [l1.licenseId, 'API_OVERAGE', null, 'CRITICAL', 1],
      [l1.licenseId, 'UNLICENSED_FEATURE', 'premium.sso', 'HIGH', 1],
      [l1.licenseId, 'UNLICENSED_FEATURE', 'no.such.feature', 'LOW', 1],
      [l2.licenseId, 'STORAGE_OVERAGE', null, 'MEDIUM', 1],
    ]);
    const [storage1, api, sso, unknown, storage2] = all as [Violation, Violation, Violation, Violation, Violation];
    expect(ascending(all.map((v) => v.id))).toBe(true);

    await t.ok(AcknowledgeViolationDocument, { id: storage1.id });
    await t.ok(ResolveViolationDocument, { id: storage2.id, reason: 'Counted twice by the client.' });

    const ids = async (filter: ViolationFilter) => (await violationsOf(t, filter, reader.secret)).map((v) => v.id);
    expect(await ids({ licenseId: l1.licenseId })).toEqual([storage1.id, api.id, sso.id, unknown.id]);
    expect(await ids({ licenseId: l2.licenseId })).toEqual([storage2.id]);
    expect(await ids({ kinds: ['UNLICENSED_FEATURE'] })).toEqual([sso.id, unknown.id]);
    expect(await ids({ kinds: ['STORAGE_OVERAGE', 'API_OVERAGE'] })).toEqual([storage1.id, api.id, storage2.id]);
    expect(await ids({ kinds: ['CLOCK_TAMPERING'] })).toEqual([]);
    expect(await ids({ statuses: ['OPEN'] })).toEqual([api.id, sso.id, unknown.id]);
    expect(await ids({ statuses: ['ACKNOWLEDGED', 'RESOLVED'] })).toEqual([storage1.id, storage2.id]);
    expect(await ids({ statuses: ['WAIVED'] })).toEqual([]);
    expect(await ids({ minSeverity: 'LOW' })).toEqual(all.map((v) => v.id));
    expect(await ids({ minSeverity: 'MEDIUM' })).toEqual([api.id, sso.id, storage2.id]);
    expect(await ids({ minSeverity: 'HIGH' })).toEqual([api.id, sso.id]);
    expect(await ids({ minSeverity: 'CRITICAL' })).toEqual([api.id]);
    expect(
      await ids({ licenseId: l1.licenseId, kinds: ['UNLICENSED_FEATURE', 'STORAGE_OVERAGE'], statuses: ['OPEN'], minSeverity: 'HIGH' }),
    ).toEqual([sso.id]);
    // A platform admin sees every organization's, unless it names one.
    expect(await ids({ organizationId: l1.organizationId })).toEqual(all.map((v) => v.id));
    expect((await violationsOf(t, { kinds: ['STORAGE_OVERAGE'] })).some((v) => v.licenseId === elsewhere.licenseId)).toBe(true);
    expect(await t.errorCode(ViolationsDocument, { filter: { organizationId: elsewhere.organizationId } }, reader.secret)).toBe(
      'FORBIDDEN',
    );

    // Pages of two, in order, without a gap or a repeat.
    const pages: string[][] = [];
    let after: string | null = null;
    for (;;) {
      const { violations }: ViolationsQuery = await t.ok(ViolationsDocument, { filter: {}, first: 2, after }, reader.secret);
      pages.push(violations.nodes.map((v) => v.id));
      if (!violations.pageInfo.hasNextPage) break;
      after = violations.pageInfo.endCursor;
    }
    expect(pages).toEqual([[storage1.id, api.id], [sso.id, unknown.id], [storage2.id]]);
    const narrow = await t.ok(ViolationsDocument, { filter: { licenseId: l1.licenseId, minSeverity: 'HIGH' }, first: 1 }, reader.secret);
    expect(narrow.violations.nodes.map((v) => v.id)).toEqual([api.id]);
    expect(narrow.violations.pageInfo.hasNextPage).toBe(true);
    const rest = await t.ok(
      ViolationsDocument,
      { filter: { licenseId: l1.licenseId, minSeverity: 'HIGH' }, first: 1, after: narrow.violations.pageInfo.endCursor },
      reader.secret,
    );
    expect(rest.violations.nodes.map((v) => v.id)).toEqual([sso.id]);
    expect(rest.violations.pageInfo.hasNextPage).toBe(false);

    // One violation, with what was seen.
    const read = await violation(t, sso.id, reader.secret);
    expect(read).toEqual(sso);
    expect(read).toMatchObject({ kind: 'UNLICENSED_FEATURE', subject: 'premium.sso', severity: 'HIGH', status: 'OPEN', value: null });
    expect(read.evidence).toMatchObject({ feature: 'premium.sso', code: 'FEATURE_NOT_ENTITLED' });
    expect(await violation(t, api.id)).toMatchObject({ kind: 'API_OVERAGE', value: 200, limit: 100, peakValue: 200 });
    expect(await t.errorCode(ViolationDocument, { id: elsewhere.licenseId })).toBe('NOT_FOUND');
    const elsewhereViolation = (await violationsOf(t, { licenseId: elsewhere.licenseId }))[0]!;
    expect(await t.errorCode(ViolationDocument, { id: elsewhereViolation.id }, reader.secret)).toBe('NOT_FOUND');

    // The compliance log of a violation, in order.
    const log1 = await eventLog(t, { violationId: storage1.id }, reader.secret);
    expect(log1.map((e) => [e.type, e.violation.status, e.violation.occurrences])).toEqual([
      ['OPENED', 'OPEN', 1],
      ['UPDATED', 'OPEN', 2],
      ['ACKNOWLEDGED', 'ACKNOWLEDGED', 2],
    ]);
    expect(ascending(log1.map((e) => e.id))).toBe(true);
    expect((await eventLog(t, { violationId: storage2.id }, reader.secret)).map((e) => e.type)).toEqual(['OPENED', 'RESOLVED']);
    const opened = await eventLog(t, { licenseId: l1.licenseId, types: ['OPENED'] }, reader.secret);
    expect(opened.map((e) => e.violation.id)).toEqual([storage1.id, api.id, sso.id, unknown.id]);
    const firstPage = await t.ok(ComplianceEventLogDocument, { filter: { licenseId: l1.licenseId }, first: 2 }, reader.secret);
    expect(firstPage.complianceEventLog.nodes.map((e) => e.type)).toEqual(['OPENED', 'UPDATED']);
    expect(firstPage.complianceEventLog.pageInfo.hasNextPage).toBe(true);
  });

  it('SUSPEND_LICENSE suspends the license, ends its live leases, and says and audits what it did', async () => {
    const t = server();
    const l = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 2 }, overage: { policy: 'ALWAYS' } });
    const manager = await namedToken(t, 'LICENSE_MANAGER', l.organizationId);
    const leaseIds: string[] = [];
    for (const fingerprint of ['a', 'b', 'c']) {
      const { checkoutSeat } = await t.ok(CheckoutSeatDocument, { key: l.key, fingerprint }, null);
      expect(checkoutSeat.outcome).toBe('GRANTED');
      leaseIds.push(checkoutSeat.lease!.id);
    }
    const [v] = await violationsOf(t, { licenseId: l.licenseId });
    expect(v).toMatchObject({ kind: 'CONCURRENCY_OVERAGE', status: 'OPEN', value: 3, limit: 2 });

    const result = (
      await t.ok(
        RemediateViolationDocument,
        { input: { violationId: v!.id, action: 'SUSPEND_LICENSE', reason: 'Over the licensed sessions again.' } },
        manager.secret,
      )
    ).remediateViolation;
    // It answered `leasesEnded: []` once, though it ended all three.
    expect(result).toMatchObject({ action: 'SUSPEND_LICENSE', licenseStatus: 'SUSPENDED', seatsReleased: [] });
    expect([...result.leasesEnded].sort()).toEqual([...leaseIds].sort());
    expect(result.summary).toBe(
      'Suspended the license (it was ACTIVE); ended 3 live leases: a, b, c. Reason: Over the licensed sessions again.',
    );
    expect(result.violation.remediations).toEqual([
      { action: 'SUSPEND_LICENSE', summary: result.summary, at: expect.any(String), by: manager.name },
    ]);

    const license = (await t.ok(LicenseDocument, { id: l.licenseId })).license;
    expect(license).toMatchObject({ status: 'SUSPENDED', statusReason: 'Over the licensed sessions again.' });
    const leases = (await t.ok(LeasesDocument, { filter: { licenseId: l.licenseId } })).leases.nodes;
    expect(leases).toHaveLength(3);
    expect(leases.every((x) => !x.live && x.releaseReason === 'LICENSE_INACTIVE')).toBe(true);
    // With no session left, the overage is over.
    expect(await violation(t, v!.id)).toMatchObject({ status: 'RESOLVED', resolvedBy: 'SYSTEM' });

    const suspension = await audited(t, { objectType: 'License', objectId: l.licenseId, action: 'license.suspend' });
    expect(suspension).toHaveLength(1);
    expect(suspension[0]).toMatchObject({
      actor: { type: 'API_TOKEN', id: manager.id },
      before: { status: 'ACTIVE' },
      after: { status: 'SUSPENDED', statusReason: 'Over the licensed sessions again.' },
    });
    const remediated = await audited(t, { objectId: v!.id, action: 'violation.remediate' });
    expect(remediated).toHaveLength(1);
    expect(remediated[0]).toMatchObject({
      actor: { type: 'API_TOKEN', id: manager.id },
      after: { remediations: 1, remediation: { action: 'SUSPEND_LICENSE', summary: result.summary, by: manager.name } },
    });
  });

  it('SUSPEND_LICENSE of a USER license says nothing of sessions, for it has none to end', async () => {
    const t = server();
    const l = await licensed(t, 'USER', { limits: { namedUsers: 1 }, overage: { policy: 'ALWAYS' } });
    for (const userId of ['ada', 'grace']) await t.ok(AssignSeatDocument, { licenseId: l.licenseId, userId });
    const [v] = await violationsOf(t, { licenseId: l.licenseId });
    const result = (await t.ok(RemediateViolationDocument, { input: { violationId: v!.id, action: 'SUSPEND_LICENSE', reason: 'Unpaid.' } }))
      .remediateViolation;
    // It said "its live sessions ended" once.
    expect(result).toMatchObject({ licenseStatus: 'SUSPENDED', seatsReleased: [], leasesEnded: [] });
    expect(result.summary).toBe('Suspended the license (it was ACTIVE). Reason: Unpaid.');
    expect(result.violation.remediations.map((r) => r.summary)).toEqual([result.summary]);
    // Suspension keeps named seats.
    expect((await t.ok(SeatsDocument, { filter: { licenseId: l.licenseId, live: true } })).seats.nodes).toHaveLength(2);
  });

  it('RELEASE_INACTIVE_SEATS releases the seats of the users inactive longest, which resolves the seat overage', async () => {
    const t = server();
    const l = await licensed(t, 'USER', { limits: { namedUsers: 3 }, overage: { policy: 'ALWAYS' } });
    const manager = await namedToken(t, 'LICENSE_MANAGER', l.organizationId);
    const users = Array.from({ length: 6 }, (_, i) => `user-${i}@example.com`);
    for (const userId of users) {
      expect((await t.ok(AssignSeatDocument, { licenseId: l.licenseId, userId })).assignSeat.outcome).toBe('ASSIGNED');
    }
    const [v] = await violationsOf(t, { licenseId: l.licenseId });
    expect(v).toMatchObject({ kind: 'SEAT_OVERAGE', status: 'OPEN', occurrences: 3, value: 6, limit: 3 });

    // Users 0, 3 and 4 use the product; 1, 2 and 5 never did since they got their seats.
    await t.clock.advance(5);
    for (const user of [users[3]!, users[0]!, users[4]!]) {
      expect((await t.ok(ValidateLicenseDocument, { key: l.key, user }, null)).validateLicense.valid).toBe(true);
    }
    const seatIds = new Map(
      (await t.ok(SeatsDocument, { filter: { licenseId: l.licenseId }, first: 10 })).seats.nodes.map((s) => [s.userId, s.id]),
    );

    const result = (
      await t.ok(RemediateViolationDocument, { input: { violationId: v!.id, action: 'RELEASE_INACTIVE_SEATS' } }, manager.secret)
    ).remediateViolation;
    expect(result).toMatchObject({ action: 'RELEASE_INACTIVE_SEATS', licenseStatus: 'ACTIVE', leasesEnded: [] });
    expect(result.seatsReleased).toEqual([users[1], users[2], users[5]]);
    expect(result.summary).toContain('Released 3 seats');
    expect(result.violation).toMatchObject({ id: v!.id, status: 'RESOLVED', resolvedBy: 'SYSTEM' });
    expect(result.violation.resolution).toContain('3 of 3');
    expect(result.violation.remediations).toMatchObject([{ action: 'RELEASE_INACTIVE_SEATS', by: manager.name, summary: result.summary }]);

    const live = (await t.ok(SeatsDocument, { filter: { licenseId: l.licenseId, live: true }, first: 10 })).seats.nodes;
    expect(live.map((s) => s.userId).sort()).toEqual([users[0], users[3], users[4]].sort());
    // Released as inactive: not by an administrator's releaseSeat, not by a migration.
    const released = (await t.ok(SeatsDocument, { filter: { licenseId: l.licenseId, live: false }, first: 10 })).seats.nodes;
    expect(released.map((s) => [s.userId, s.releaseReason]).sort()).toEqual([users[1], users[2], users[5]].map((u) => [u, 'INACTIVE']));

    const releases = await audited(t, { organizationId: l.organizationId, action: 'seat.release' });
    expect(releases.map((e) => e.objectId)).toEqual([users[1]!, users[2]!, users[5]!].map((u) => seatIds.get(u)));
    expect(releases.every((e) => e.actor.id === manager.id && e.after?.releasedAt !== null && e.after?.releaseReason === 'INACTIVE')).toBe(
      true,
    );
    expect((await audited(t, { objectId: v!.id, action: 'violation.remediate' })).map((e) => e.actor.id)).toEqual([manager.id]);
  });

  it('END_LEASES ends the leases with the oldest heartbeats, which resolves the concurrency overage', async () => {
    const t = server();
    const l = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 2 }, overage: { policy: 'ALWAYS' } });
    const manager = await namedToken(t, 'LICENSE_MANAGER', l.organizationId);
    const lease: Record<string, string> = {};
    for (const fingerprint of ['a', 'b', 'c', 'd']) {
      lease[fingerprint] = (await t.ok(CheckoutSeatDocument, { key: l.key, fingerprint }, null)).checkoutSeat.lease!.id;
    }
    const [v] = await violationsOf(t, { licenseId: l.licenseId });
    expect(v).toMatchObject({ kind: 'CONCURRENCY_OVERAGE', status: 'OPEN', occurrences: 2, value: 4, limit: 2 });

    // a and c beat later; b and d have the oldest heartbeats (d's newer than b's).
    await t.clock.advance(20);
    for (const fingerprint of ['c', 'a']) {
      expect((await t.ok(HeartbeatSeatDocument, { key: l.key, leaseId: lease[fingerprint]! }, null)).heartbeatSeat.outcome).toBe(
        'EXTENDED',
      );
    }

    const result = (await t.ok(RemediateViolationDocument, { input: { violationId: v!.id, action: 'END_LEASES' } }, manager.secret))
      .remediateViolation;
    expect(result).toMatchObject({ action: 'END_LEASES', licenseStatus: 'ACTIVE', seatsReleased: [] });
    expect(result.leasesEnded).toEqual([lease.b, lease.d]);
    expect(result.summary).toContain('Ended 2 leases');
    expect(result.summary).toContain('b, d');
    expect(result.violation).toMatchObject({ id: v!.id, status: 'RESOLVED', resolvedBy: 'SYSTEM' });
    expect(result.violation.resolution).toContain('2 of 2');

    const leases = (await t.ok(LeasesDocument, { filter: { licenseId: l.licenseId } })).leases.nodes;
    const state = Object.fromEntries(leases.map((x) => [x.fingerprint, [x.live, x.releaseReason]]));
    expect(state).toEqual({
      a: [true, null],
      b: [false, 'ENDED_BY_ADMIN'],
      c: [true, null],
      d: [false, 'ENDED_BY_ADMIN'],
    });
    const ends = await audited(t, { organizationId: l.organizationId, action: 'lease.end' });
    expect(ends.map((e) => e.objectId)).toEqual([lease.b, lease.d]);
    expect(ends.every((e) => e.actor.id === manager.id && e.after?.releaseReason === 'ENDED_BY_ADMIN')).toBe(true);
    expect(await audited(t, { objectId: v!.id, action: 'violation.remediate' })).toHaveLength(1);
  });

  it('RAISE_LIMIT raises the limit the violation is over, from what to what, which resolves it', async () => {
    const t = server();
    const l = await storageLicense(t);
    const manager = await namedToken(t, 'LICENSE_MANAGER', l.organizationId);
    await storage(t, l.key, 1500);
    const [v] = await violationsOf(t, { licenseId: l.licenseId });
    expect(v).toMatchObject({ kind: 'STORAGE_OVERAGE', status: 'OPEN' });

    const raise = (limit?: number) => ({ input: { violationId: v!.id, action: 'RAISE_LIMIT' as const, limit } });
    expect(await t.errorCode(RemediateViolationDocument, raise(), manager.secret)).toBe('BAD_USER_INPUT');
    expect(await t.errorCode(RemediateViolationDocument, raise(800), manager.secret)).toBe('BAD_USER_INPUT');
    expect(await violation(t, v!.id)).toEqual(v);

    const result = (await t.ok(RemediateViolationDocument, raise(2000), manager.secret)).remediateViolation;
    expect(result).toMatchObject({ action: 'RAISE_LIMIT', limitBefore: 1000, limitAfter: 2000, licenseStatus: 'ACTIVE' });
    expect(result.summary).toContain('from 1000 to 2000');
    expect(result.violation).toMatchObject({ status: 'RESOLVED', resolvedBy: 'SYSTEM' });
    expect(result.violation.resolution).toContain('1500 of 2000');
    expect((await t.ok(LicenseDocument, { id: l.licenseId })).license.limits.storageBytes).toBe(2000);

    const raised = await audited(t, { objectId: l.licenseId, action: 'license.raiseLimit' });
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({
      actor: { id: manager.id },
      before: { limits: { storageBytes: 1000 } },
      after: { limits: { storageBytes: 2000 } },
    });
    // Noted on the violation, then the license evaluated again: the violation resolves, by the same request.
    const trail = await audited(t, { objectId: v!.id });
    expect(trail.map((e) => e.action)).toEqual(['violation.open', 'violation.remediate', 'violation.resolve']);
    expect(trail[2]!.requestId).toBe(trail[1]!.requestId);
    expect((await eventLog(t, { violationId: v!.id })).map((e) => [e.type, e.violation.status])).toEqual([
      ['OPENED', 'OPEN'],
      ['REMEDIATED', 'OPEN'],
      ['RESOLVED', 'RESOLVED'],
    ]);

    // A resolved violation is not remediated again.
    expect(await t.errorCode(RemediateViolationDocument, raise(3000), manager.secret)).toBe('INVALID_STATE_TRANSITION');
    expect((await t.ok(LicenseDocument, { id: l.licenseId })).license.limits.storageBytes).toBe(2000);
  });

  it('logs a remediation before the resolution it brings about, whatever the action: never a resolved violation remediated', async () => {
    const t = server();
    const users = await licensed(t, 'USER', { limits: { namedUsers: 1 }, overage: { policy: 'ALWAYS' } });
    for (const userId of ['ada', 'grace']) await t.ok(AssignSeatDocument, { licenseId: users.licenseId, userId });
    const sessions = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 1 }, overage: { policy: 'ALWAYS' } });
    for (const fingerprint of ['a', 'b']) await t.ok(CheckoutSeatDocument, { key: sessions.key, fingerprint }, null);
    const bytes = await storageLicense(t);
    await storage(t, bytes.key, 1500);

    const logs: Record<string, unknown> = {};
    const trails: Record<string, unknown> = {};
    for (const [l, input] of [
      [users, { action: 'RELEASE_INACTIVE_SEATS' }],
      [sessions, { action: 'SUSPEND_LICENSE' }],
      [bytes, { action: 'RAISE_LIMIT', limit: 2000 }],
    ] as const) {
      const [v] = await violationsOf(t, { licenseId: l.licenseId });
      const result = (await t.ok(RemediateViolationDocument, { input: { violationId: v!.id, ...input } })).remediateViolation;
      expect(result.violation.status).toBe('RESOLVED');
      logs[input.action] = (await eventLog(t, { violationId: v!.id })).map((e) => `${e.type}:${e.violation.status}`);
      trails[input.action] = (await audited(t, { objectId: v!.id })).map((e) => e.action);
    }
    // As the remediation service documents it: the action, noted on the violation, then the license evaluated again.
    const expectedLog = ['OPENED:OPEN', 'REMEDIATED:OPEN', 'RESOLVED:RESOLVED'];
    const expectedTrail = ['violation.open', 'violation.remediate', 'violation.resolve'];
    expect(logs).toEqual({ RELEASE_INACTIVE_SEATS: expectedLog, SUSPEND_LICENSE: expectedLog, RAISE_LIMIT: expectedLog });
    expect(trails).toEqual({ RELEASE_INACTIVE_SEATS: expectedTrail, SUSPEND_LICENSE: expectedTrail, RAISE_LIMIT: expectedTrail });
  });

  it('refuses an action that does not remedy the violation’s kind, changing nothing', async () => {
    const t = server();
    const l = await storageLicense(t);
    await storage(t, l.key, 1500);
    await t.ok(ValidateLicenseDocument, { key: l.key, feature: 'premium.sso' }, null);
    const [overage, feature] = await violationsOf(t, { licenseId: l.licenseId });
    expect([overage!.kind, feature!.kind]).toEqual(['STORAGE_OVERAGE', 'UNLICENSED_FEATURE']);

    for (const [violationId, action] of [
      [overage!.id, 'RELEASE_INACTIVE_SEATS'],
      [overage!.id, 'END_LEASES'],
      [feature!.id, 'RAISE_LIMIT'],
      [feature!.id, 'RELEASE_INACTIVE_SEATS'],
    ] as const) {
      const answer = await t.request(RemediateViolationDocument, { input: { violationId, action, limit: 5000, count: 1 } });
      expect(answer.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(answer.errors?.[0]?.extensions?.field).toBe('action');
    }
    expect(await violation(t, overage!.id)).toEqual(overage);
    expect(await violation(t, feature!.id)).toEqual(feature);
    expect((await t.ok(LicenseDocument, { id: l.licenseId })).license).toMatchObject({ status: 'ACTIVE', limits: { storageBytes: 1000 } });
    expect(await audited(t, { organizationId: l.organizationId, action: 'violation.remediate' })).toEqual([]);
    expect(await audited(t, { organizationId: l.organizationId, action: 'license.raiseLimit' })).toEqual([]);
  });

  it('previewRemediation names the seats RELEASE_INACTIVE_SEATS then releases, changing nothing, for a reader', async () => {
    const t = server();
    const l = await licensed(t, 'USER', { limits: { namedUsers: 2 }, overage: { policy: 'ALWAYS' } });
    const users = ['u0', 'u1', 'u2', 'u3', 'u4'];
    for (const userId of users) await t.ok(AssignSeatDocument, { licenseId: l.licenseId, userId });
    await t.clock.advance(5);
    for (const user of ['u2', 'u0'])
      expect((await t.ok(ValidateLicenseDocument, { key: l.key, user }, null)).validateLicense.valid).toBe(true);
    const [v] = await violationsOf(t, { licenseId: l.licenseId });
    const auditor = await issueToken(t, 'AUDITOR', l.organizationId);
    const seatsBefore = (await t.ok(SeatsDocument, { filter: { licenseId: l.licenseId } })).seats.nodes;
    const trailBefore = await audited(t, { organizationId: l.organizationId });

    const input = { violationId: v!.id, action: 'RELEASE_INACTIVE_SEATS' as const };
    const preview = (await t.ok(PreviewRemediationDocument, { input }, auditor.secret)).previewRemediation;
    // Three over the limit of 2: the three users never active since assigned, in the order assigned.
    expect(preview).toMatchObject({
      action: 'RELEASE_INACTIVE_SEATS',
      licenseStatus: 'ACTIVE',
      leasesToEnd: [],
      limitBefore: 2,
      limitAfter: 2,
    });
    expect(preview.violation).toEqual(await violation(t, v!.id));
    const byId = new Map(seatsBefore.map((s) => [s.id, s]));
    expect(preview.seatsToRelease.map((s) => s.userId)).toEqual(['u1', 'u3', 'u4']);
    for (const s of preview.seatsToRelease)
      expect(byId.get(s.id)).toMatchObject({ userId: s.userId, lastActiveAt: s.lastActiveAt, live: true });
    // A preview changes nothing: the same seats, the same audit trail, the same violation; asked again, the same answer.
    expect((await t.ok(SeatsDocument, { filter: { licenseId: l.licenseId } })).seats.nodes).toEqual(seatsBefore);
    expect(await audited(t, { organizationId: l.organizationId })).toEqual(trailBefore);
    expect((await t.ok(PreviewRemediationDocument, { input })).previewRemediation).toEqual(preview);
    // The auditor may look, not act.
    expect(await t.errorCode(RemediateViolationDocument, { input }, auditor.secret)).toBe('FORBIDDEN');

    const result = (await t.ok(RemediateViolationDocument, { input })).remediateViolation;
    expect(result.seatsReleased).toEqual(preview.seatsToRelease.map((s) => s.userId));
    const released = (await t.ok(SeatsDocument, { filter: { licenseId: l.licenseId, live: false } })).seats.nodes;
    expect(released.map((s) => s.id).sort()).toEqual(preview.seatsToRelease.map((s) => s.id).sort());
  });

  it('previewRemediation names the leases END_LEASES and SUSPEND_LICENSE then end, and the limit RAISE_LIMIT sets', async () => {
    const t = server();
    const l = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 2 }, overage: { policy: 'ALWAYS' } });
    const lease: Record<string, string> = {};
    for (const fingerprint of ['a', 'b', 'c', 'd', 'e']) {
      lease[fingerprint] = (await t.ok(CheckoutSeatDocument, { key: l.key, fingerprint, user: `${fingerprint}@example.com` }, null))
        .checkoutSeat.lease!.id;
    }
    await t.clock.advance(20);
    for (const fingerprint of ['a', 'c']) await t.ok(HeartbeatSeatDocument, { key: l.key, leaseId: lease[fingerprint]! }, null);
    const [v] = await violationsOf(t, { licenseId: l.licenseId });
    const leasesBefore = (await t.ok(LeasesDocument, { filter: { licenseId: l.licenseId } })).leases.nodes;
    const beat = new Map(leasesBefore.map((x) => [x.id, x.lastHeartbeatAt]));

    const ending = { violationId: v!.id, action: 'END_LEASES' as const, count: 2 };
    const endPreview = (await t.ok(PreviewRemediationDocument, { input: ending })).previewRemediation;
    expect(endPreview.leasesToEnd).toEqual(
      ['b', 'd'].map((f) => ({ id: lease[f], fingerprint: f, userId: `${f}@example.com`, lastHeartbeatAt: beat.get(lease[f]!) })),
    );
    expect(endPreview).toMatchObject({ licenseStatus: 'ACTIVE', seatsToRelease: [], limitBefore: 2, limitAfter: 2 });
    expect((await t.ok(LeasesDocument, { filter: { licenseId: l.licenseId } })).leases.nodes).toEqual(leasesBefore);
    const ended = (await t.ok(RemediateViolationDocument, { input: ending })).remediateViolation;
    expect(ended.leasesEnded).toEqual(endPreview.leasesToEnd.map((x) => x.id));

    const raising = { violationId: v!.id, action: 'RAISE_LIMIT' as const, limit: 5 };
    expect((await t.ok(PreviewRemediationDocument, { input: raising })).previewRemediation).toMatchObject({
      licenseStatus: 'ACTIVE',
      limitBefore: 2,
      limitAfter: 5,
      seatsToRelease: [],
      leasesToEnd: [],
    });
    expect((await t.ok(LicenseDocument, { id: l.licenseId })).license.limits.concurrentSessions).toBe(2);

    const suspending = { violationId: v!.id, action: 'SUSPEND_LICENSE' as const };
    const suspendPreview = (await t.ok(PreviewRemediationDocument, { input: suspending })).previewRemediation;
    expect(suspendPreview).toMatchObject({ licenseStatus: 'SUSPENDED', limitBefore: 2, limitAfter: 2 });
    expect(suspendPreview.leasesToEnd.map((x) => x.fingerprint).sort()).toEqual(['a', 'c', 'e']);
    expect((await t.ok(LicenseDocument, { id: l.licenseId })).license.status).toBe('ACTIVE');
    const suspended = (await t.ok(RemediateViolationDocument, { input: suspending })).remediateViolation;
    expect(suspended.licenseStatus).toBe('SUSPENDED');
    expect([...suspended.leasesEnded].sort()).toEqual(suspendPreview.leasesToEnd.map((x) => x.id).sort());
  });

  it('previewRemediation refuses what remediateViolation refuses, with the same code, message and field', async () => {
    const t = server();
    const bytes = await storageLicense(t);
    await storage(t, bytes.key, 1500);
    await t.ok(ValidateLicenseDocument, { key: bytes.key, feature: 'premium.sso' }, null);
    const [overage, feature] = await violationsOf(t, { licenseId: bytes.licenseId });
    const users = await licensed(t, 'USER', { limits: { namedUsers: 2 }, overage: { policy: 'ALWAYS' } });
    for (const userId of ['ada', 'bob', 'cy']) await t.ok(AssignSeatDocument, { licenseId: users.licenseId, userId });
    const [resolved] = await violationsOf(t, { licenseId: users.licenseId });
    await t.ok(ResolveViolationDocument, { id: resolved!.id, reason: 'settled' });
    const sessions = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 1 }, overage: { policy: 'ALWAYS' } });
    for (const fingerprint of ['a', 'b']) await t.ok(CheckoutSeatDocument, { key: sessions.key, fingerprint }, null);
    const [concurrency] = await violationsOf(t, { licenseId: sessions.licenseId });
    const suspendedLicense = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 1 }, overage: { policy: 'ALWAYS' } });
    for (const fingerprint of ['a', 'b']) await t.ok(CheckoutSeatDocument, { key: suspendedLicense.key, fingerprint }, null);
    const [onSuspended] = await violationsOf(t, { licenseId: suspendedLicense.licenseId });
    await t.ok(WaiveViolationDocument, { input: { id: onSuspended!.id, reason: 'Until the renewal.' } });
    await t.ok(SuspendLicenseDocument, { id: suspendedLicense.licenseId });

    const inputs = [
      { violationId: '00000000-0000-0000-0000-000000000000', action: 'SUSPEND_LICENSE' as const },
      { violationId: resolved!.id, action: 'RAISE_LIMIT' as const, limit: 5 },
      { violationId: overage!.id, action: 'RELEASE_INACTIVE_SEATS' as const },
      { violationId: overage!.id, action: 'END_LEASES' as const },
      { violationId: feature!.id, action: 'RAISE_LIMIT' as const, limit: 5000 },
      { violationId: overage!.id, action: 'RAISE_LIMIT' as const },
      { violationId: overage!.id, action: 'RAISE_LIMIT' as const, limit: 800 },
      { violationId: overage!.id, action: 'RAISE_LIMIT' as const, limit: 1000 },
      { violationId: concurrency!.id, action: 'RELEASE_INACTIVE_SEATS' as const },
      { violationId: onSuspended!.id, action: 'SUSPEND_LICENSE' as const },
      { violationId: onSuspended!.id, action: 'END_LEASES' as const },
    ];
    const errorOf = (answer: { errors?: { message: string; extensions?: Record<string, unknown> }[] }) => {
      const [error] = answer.errors ?? [];
      return { code: error?.extensions?.code, message: error?.message, field: error?.extensions?.field ?? null };
    };
    const expected: string[] = [];
    for (const input of inputs) {
      const previewed = errorOf(await t.request(PreviewRemediationDocument, { input }));
      const done = errorOf(await t.request(RemediateViolationDocument, { input }));
      expect(previewed.code, JSON.stringify(input)).toBeDefined();
      expect(previewed, JSON.stringify(input)).toEqual(done);
      expected.push(`${previewed.code} ${previewed.field}`);
    }
    expect(expected).toEqual([
      'NOT_FOUND null',
      'INVALID_STATE_TRANSITION null',
      'BAD_USER_INPUT action',
      'BAD_USER_INPUT action',
      'BAD_USER_INPUT action',
      'BAD_USER_INPUT limit',
      'BAD_USER_INPUT limit',
      'BAD_USER_INPUT limit',
      'BAD_USER_INPUT action',
      'INVALID_STATE_TRANSITION null',
      'BAD_USER_INPUT count',
    ]);
    // Nothing changed by any of them.
    for (const v of [resolved, overage, feature, concurrency, onSuspended]) {
      expect(await audited(t, { objectId: v!.id, action: 'violation.remediate' })).toEqual([]);
    }
    expect((await t.ok(LicenseDocument, { id: bytes.licenseId })).license.limits.storageBytes).toBe(1000);
  });
});
