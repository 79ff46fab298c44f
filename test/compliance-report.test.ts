import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import {
  ComplianceReportPageDocument,
  AcknowledgeViolationDocument,
  AssignSeatDocument,
  CheckFeatureDocument,
  CheckinSeatDocument,
  CheckoutSeatDocument,
  ComplianceReportDocument,
  type ComplianceReportQuery,
  ComplianceReportWaiversDocument,
  LicenseDocument,
  RecordUsageDocument,
  ReleaseSeatDocument,
  RemediateViolationDocument,
  ResumeLicenseDocument,
  SuspendLicenseDocument,
  ViolationsDocument,
  WaiveViolationDocument,
} from './generated/graphql';
import { issueToken, licensed, organization } from './support/factories';
import { describeEachDatabase, type TestServer } from './support/server';

const DAY = 86_400_000;

type Report = ComplianceReportQuery['complianceReport'];

/** A moment strictly between what happened before it and what happens after it. */
async function moment(t: TestServer): Promise<Date> {
  await t.clock.advance(25);
  const at = t.clock.now();
  await t.clock.advance(25);
  return at;
}

const report = async (t: TestServer, organizationId: string, asOf?: Date, token?: string): Promise<Report> =>
  (await t.ok(ComplianceReportDocument, { organizationId, asOf: asOf?.toISOString() ?? null }, token)).complianceReport;

const assignSeat = async (t: TestServer, licenseId: string, user: string) => {
  const { assignSeat } = await t.ok(AssignSeatDocument, { licenseId, userId: `${user}@example.com` });
  expect(assignSeat.outcome).toBe('ASSIGNED');
  return assignSeat.seat!.id;
};

const checkout = async (t: TestServer, key: string, fingerprint: string) => {
  const { checkoutSeat } = await t.ok(CheckoutSeatDocument, { key, fingerprint }, null);
  expect(checkoutSeat.outcome).toBe('GRANTED');
  return checkoutSeat.lease!.id;
};

const violationsOf = async (t: TestServer, licenseId: string) =>
  (await t.ok(ViolationsDocument, { filter: { licenseId }, first: 200 })).violations.nodes;

describeEachDatabase('compliance report', (server) => {
  it('ACCEPTANCE: an organization with mixed licenses, license by license and in summary; now and as of a moment before changes', async () => {
    const t = server();
    const org = await organization(t);
    const beforeAnyLicense = await moment(t);

    // A: a USER license within its limit.
    const a = await licensed(t, 'USER', { organizationId: org.id, limits: { namedUsers: 5 } });
    for (const user of ['a1', 'a2', 'a3']) await assignSeat(t, a.licenseId, user);
    // B: a USER license over its limit under ALWAYS: SEAT_OVERAGE, HIGH at 3 of 2, CRITICAL at 4 of 2.
    const b = await licensed(t, 'USER', { organizationId: org.id, limits: { namedUsers: 2 }, overage: { policy: 'ALWAYS' } });
    const bSeats = [await assignSeat(t, b.licenseId, 'b1'), await assignSeat(t, b.licenseId, 'b2'), await assignSeat(t, b.licenseId, 'b3')];
    const atThreeOfTwo = await moment(t);
    bSeats.push(await assignSeat(t, b.licenseId, 'b4'));
    // C: a CONCURRENT license at its limit; a third machine is refused, which is no violation.
    const c = await licensed(t, 'CONCURRENT', { organizationId: org.id, limits: { concurrentSessions: 2 } });
    await checkout(t, c.key, 'c1');
    const cSecond = await checkout(t, c.key, 'c2');
    expect((await t.ok(CheckoutSeatDocument, { key: c.key, fingerprint: 'c3' }, null)).checkoutSeat.outcome).toBe('NO_SEAT_AVAILABLE');
    // D: a SUBSCRIPTION license with storage reported over its limit (5 % over, but past what NONE allows: HIGH),
    // acknowledged, which keeps it open; and 40 of 100 API calls this month.
    const d = await licensed(t, 'SUBSCRIPTION', {
      organizationId: org.id,
      limits: { storageBytes: 1000, apiCallsPerPeriod: 100, apiCallPeriod: 'MONTH' },
    });
    const stored = (await t.ok(RecordUsageDocument, { key: d.key, metric: 'STORAGE_BYTES', value: 1050 }, null)).recordUsage;
    expect([stored.outcome, stored.enforcement?.code]).toEqual(['RECORDED', 'OVER_LIMIT_REPORTED']);
    await t.ok(RecordUsageDocument, { key: d.key, metric: 'API_CALLS', amount: 40 }, null);
    const [dStorage] = await violationsOf(t, d.licenseId);
    await t.ok(AcknowledgeViolationDocument, { id: dStorage!.id });
    // E: a FEATURE license asked twice for a premium feature it lacks (HIGH), and once for one that does not exist (LOW).
    const e = await licensed(t, 'FEATURE', { organizationId: org.id });
    for (const feature of ['premium.sso', 'premium.sso', 'labs.unknown']) {
      expect((await t.ok(CheckFeatureDocument, { key: e.key, feature }, null)).checkFeature.allowed).toBe(false);
    }
    const [eSso, eUnknown] = await violationsOf(t, e.licenseId);
    // F: a CONCURRENT license whose overage was waived, and is within its limit again: compliant despite the waiver.
    const f = await licensed(t, 'CONCURRENT', { organizationId: org.id, limits: { concurrentSessions: 1 }, overage: { policy: 'ALWAYS' } });
    await checkout(t, f.key, 'f1');
    const fSecond = await checkout(t, f.key, 'f2');
    const [fOverage] = await violationsOf(t, f.licenseId);
    await t.ok(WaiveViolationDocument, { input: { id: fOverage!.id, reason: 'Burst during the migration weekend' } });
    await t.ok(CheckinSeatDocument, { key: f.key, leaseId: fSecond }, null);
    // G: a SUSPENDED license.
    const g = await licensed(t, 'USER', { organizationId: org.id, limits: { namedUsers: 5 } });
    await assignSeat(t, g.licenseId, 'g1');
    await t.ok(SuspendLicenseDocument, { id: g.licenseId, reason: 'Unpaid invoice' });

    // Worked out by hand from the above.
    const before: Report = {
      organizationId: org.id,
      asOf: expect.any(String) as unknown as string,
      licenses: [
        {
          licenseId: a.licenseId,
          type: 'USER',
          status: 'ACTIVE',
          compliant: true,
          utilization: [{ metric: 'ACTIVE_USERS', value: 3, limit: 5, utilization: 0.6, ceiling: 5, overLimit: false }],
          openViolations: [],
        },
        {
          licenseId: b.licenseId,
          type: 'USER',
          status: 'ACTIVE',
          compliant: false,
          utilization: [{ metric: 'ACTIVE_USERS', value: 4, limit: 2, utilization: 2, ceiling: null, overLimit: true }],
          openViolations: [
            {
              id: (await violationsOf(t, b.licenseId))[0]!.id,
              kind: 'SEAT_OVERAGE',
              subject: null,
              severity: 'CRITICAL',
              status: 'OPEN',
              occurrences: 2,
            },
          ],
        },
        {
          licenseId: c.licenseId,
          type: 'CONCURRENT',
          status: 'ACTIVE',
          compliant: true,
          utilization: [{ metric: 'CONCURRENT_SESSIONS', value: 2, limit: 2, utilization: 1, ceiling: 2, overLimit: false }],
          openViolations: [],
        },
        {
          licenseId: d.licenseId,
          type: 'SUBSCRIPTION',
          status: 'ACTIVE',
          compliant: false,
          utilization: [
            { metric: 'STORAGE_BYTES', value: 1050, limit: 1000, utilization: 1.05, ceiling: 1000, overLimit: true },
            { metric: 'API_CALLS', value: 40, limit: 100, utilization: 0.4, ceiling: 100, overLimit: false },
          ],
          openViolations: [
            { id: dStorage!.id, kind: 'STORAGE_OVERAGE', subject: null, severity: 'HIGH', status: 'ACKNOWLEDGED', occurrences: 1 },
          ],
        },
        {
          licenseId: e.licenseId,
          type: 'FEATURE',
          status: 'ACTIVE',
          compliant: false,
          utilization: [],
          openViolations: [
            { id: eSso!.id, kind: 'UNLICENSED_FEATURE', subject: 'premium.sso', severity: 'HIGH', status: 'OPEN', occurrences: 2 },
            { id: eUnknown!.id, kind: 'UNLICENSED_FEATURE', subject: 'labs.unknown', severity: 'LOW', status: 'OPEN', occurrences: 1 },
          ],
        },
        {
          licenseId: f.licenseId,
          type: 'CONCURRENT',
          status: 'ACTIVE',
          compliant: true,
          utilization: [{ metric: 'CONCURRENT_SESSIONS', value: 1, limit: 1, utilization: 1, ceiling: null, overLimit: false }],
          openViolations: [],
        },
        {
          licenseId: g.licenseId,
          type: 'USER',
          status: 'SUSPENDED',
          compliant: true,
          utilization: [{ metric: 'ACTIVE_USERS', value: 1, limit: 5, utilization: 0.2, ceiling: 5, overLimit: false }],
          openViolations: [],
        },
      ],
      summary: {
        licenses: 7,
        compliant: 4,
        nonCompliant: 3,
        openViolations: 4,
        bySeverity: [
          { severity: 'CRITICAL', count: 1 },
          { severity: 'HIGH', count: 2 },
          { severity: 'LOW', count: 1 },
        ],
        byKind: [
          { kind: 'SEAT_OVERAGE', count: 1 },
          { kind: 'STORAGE_OVERAGE', count: 1 },
          { kind: 'UNLICENSED_FEATURE', count: 2 },
        ],
      },
    };
    const requested = t.clock.now().getTime();
    const now = await report(t, org.id);
    expect(now).toEqual(before);
    expect(Math.abs(Date.parse(now.asOf) - requested)).toBeLessThan(5_000);
    // The organization's own auditor reads the same.
    const auditor = await issueToken(t, 'AUDITOR', org.id);
    expect(await report(t, org.id, undefined, auditor.secret)).toEqual(before);

    // Then things change.
    const beforeChanges = await moment(t);
    await assignSeat(t, a.licenseId, 'a4');
    for (const seatId of bSeats.slice(2)) await t.ok(ReleaseSeatDocument, { seatId });
    await t.ok(CheckinSeatDocument, { key: c.key, leaseId: cSecond }, null);
    const raised = (await t.ok(RemediateViolationDocument, { input: { violationId: dStorage!.id, action: 'RAISE_LIMIT', limit: 2000 } }))
      .remediateViolation;
    expect([raised.limitBefore, raised.limitAfter, raised.violation.status]).toEqual([1000, 2000, 'RESOLVED']);
    await t.ok(ResumeLicenseDocument, { id: g.licenseId });
    expect((await violationsOf(t, b.licenseId)).map((v) => v.status)).toEqual(['RESOLVED']);

    const after: Report = {
      organizationId: org.id,
      asOf: expect.any(String) as unknown as string,
      licenses: [
        {
          licenseId: a.licenseId,
          type: 'USER',
          status: 'ACTIVE',
          compliant: true,
          utilization: [{ metric: 'ACTIVE_USERS', value: 4, limit: 5, utilization: 0.8, ceiling: 5, overLimit: false }],
          openViolations: [],
        },
        {
          licenseId: b.licenseId,
          type: 'USER',
          status: 'ACTIVE',
          compliant: true,
          utilization: [{ metric: 'ACTIVE_USERS', value: 2, limit: 2, utilization: 1, ceiling: null, overLimit: false }],
          openViolations: [],
        },
        {
          licenseId: c.licenseId,
          type: 'CONCURRENT',
          status: 'ACTIVE',
          compliant: true,
          utilization: [{ metric: 'CONCURRENT_SESSIONS', value: 1, limit: 2, utilization: 0.5, ceiling: 2, overLimit: false }],
          openViolations: [],
        },
        {
          licenseId: d.licenseId,
          type: 'SUBSCRIPTION',
          status: 'ACTIVE',
          compliant: true,
          utilization: [
            { metric: 'STORAGE_BYTES', value: 1050, limit: 2000, utilization: 0.525, ceiling: 2000, overLimit: false },
            { metric: 'API_CALLS', value: 40, limit: 100, utilization: 0.4, ceiling: 100, overLimit: false },
          ],
          openViolations: [],
        },
        before.licenses[4]!,
        before.licenses[5]!,
        {
          licenseId: g.licenseId,
          type: 'USER',
          status: 'ACTIVE',
          compliant: true,
          utilization: [{ metric: 'ACTIVE_USERS', value: 1, limit: 5, utilization: 0.2, ceiling: 5, overLimit: false }],
          openViolations: [],
        },
      ],
      summary: {
        licenses: 7,
        compliant: 6,
        nonCompliant: 1,
        openViolations: 2,
        bySeverity: [
          { severity: 'HIGH', count: 1 },
          { severity: 'LOW', count: 1 },
        ],
        byKind: [{ kind: 'UNLICENSED_FEATURE', count: 2 }],
      },
    };
    expect(await report(t, org.id)).toEqual(after);

    // As of the moment before the changes: seats, sessions, limits, status and violations as they were then.
    const then = await report(t, org.id, beforeChanges);
    expect(then).toEqual(before);
    expect(then.asOf).toBe(beforeChanges.toISOString());
    // Earlier still: B at 3 of 2, its violation HIGH with one occurrence; C, D... not issued yet.
    const earlier = await report(t, org.id, atThreeOfTwo);
    expect(earlier.licenses.map((l) => l.licenseId)).toEqual([a.licenseId, b.licenseId]);
    expect(earlier.licenses[1]).toEqual({
      licenseId: b.licenseId,
      type: 'USER',
      status: 'ACTIVE',
      compliant: false,
      utilization: [{ metric: 'ACTIVE_USERS', value: 3, limit: 2, utilization: 1.5, ceiling: null, overLimit: true }],
      openViolations: [
        {
          id: before.licenses[1]!.openViolations[0]!.id,
          kind: 'SEAT_OVERAGE',
          subject: null,
          severity: 'HIGH',
          status: 'OPEN',
          occurrences: 1,
        },
      ],
    });
    expect(earlier.summary).toEqual({
      licenses: 2,
      compliant: 1,
      nonCompliant: 1,
      openViolations: 1,
      bySeverity: [{ severity: 'HIGH', count: 1 }],
      byKind: [{ kind: 'SEAT_OVERAGE', count: 1 }],
    });
    // Before any license was issued: an empty report.
    expect(await report(t, org.id, beforeAnyLicense)).toEqual({
      organizationId: org.id,
      asOf: beforeAnyLicense.toISOString(),
      licenses: [],
      summary: { licenses: 0, compliant: 0, nonCompliant: 0, openViolations: 0, bySeverity: [], byKind: [] },
    });
  });

  it('refuses an asOf in the future, another organization, and an unknown one', async () => {
    const t = server();
    const { organizationId } = await licensed(t, 'USER', { limits: { namedUsers: 2 } });
    const other = await organization(t);
    const future = new Date(Date.now() + DAY).toISOString();
    expect(await t.errorCode(ComplianceReportDocument, { organizationId, asOf: future })).toBe('BAD_USER_INPUT');

    for (const role of ['AUDITOR', 'LICENSE_MANAGER', 'ORG_ADMIN'] as const) {
      const stranger = await issueToken(t, role, other.id);
      expect(await t.errorCode(ComplianceReportDocument, { organizationId }, stranger.secret)).toBe('FORBIDDEN');
      expect(await t.errorCode(ComplianceReportDocument, { organizationId, asOf: new Date().toISOString() }, stranger.secret)).toBe(
        'FORBIDDEN',
      );
      // Its own organization it may read.
      expect((await report(t, other.id, undefined, stranger.secret)).summary.licenses).toBe(0);
    }
    expect(await t.errorCode(ComplianceReportDocument, { organizationId: randomUUID() })).toBe('NOT_FOUND');
    expect(await t.errorCode(ComplianceReportDocument, { organizationId }, null)).toBe('UNAUTHENTICATED');
  });

  it('as of a moment after a license expired: EXPIRED, with the limits it had', async () => {
    const t = server();
    const org = await organization(t);
    const l = await licensed(t, 'USER', {
      organizationId: org.id,
      limits: { namedUsers: 3 },
      startsAt: new Date(Date.now() - 30 * DAY).toISOString(),
      expiresAt: new Date(Date.now() - 10 * DAY).toISOString(),
      gracePeriodDays: 1,
    });
    await assignSeat(t, l.licenseId, 'x1');
    await t.server.services.expiryWatch.scan('compliance-report-test', new Date());
    expect((await t.ok(LicenseDocument, { id: l.licenseId })).license.status).toBe('EXPIRED');
    const expected = {
      licenseId: l.licenseId,
      type: 'USER',
      status: 'EXPIRED',
      compliant: true,
      utilization: [{ metric: 'ACTIVE_USERS', value: 1, limit: 3, utilization: 1 / 3, ceiling: 3, overLimit: false }],
      openViolations: [],
    };
    expect((await report(t, org.id)).licenses).toEqual([expected]);
    const afterExpiry = await moment(t);
    expect((await report(t, org.id, afterExpiry)).licenses).toEqual([expected]);
  });

  it('answers the licenses of a report a page at a time, the summary counting them all', async () => {
    const t = server();
    const org = await organization(t);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await licensed(t, 'SUBSCRIPTION', { organizationId: org.id })).licenseId);
    const page = async (first?: number, after?: string) =>
      (await t.ok(ComplianceReportPageDocument, { organizationId: org.id, first, after })).complianceReport;
    const all = await page();
    expect(all.licenses.map((l) => l.licenseId)).toEqual(ids);
    const first = await page(2);
    expect([first.licenses.map((l) => l.licenseId), first.summary.licenses]).toEqual([ids.slice(0, 2), 5]);
    expect((await page(2, ids[1])).licenses.map((l) => l.licenseId)).toEqual(ids.slice(2, 4));
    expect((await page(2, ids[3])).licenses.map((l) => l.licenseId)).toEqual(ids.slice(4));
    for (const [first, after] of [
      [0, undefined],
      [1_001, undefined],
      [2, '01900000-0000-7000-8000-000000000000'],
    ] as const) {
      expect(await t.errorCode(ComplianceReportPageDocument, { organizationId: org.id, first, after })).toBe('BAD_USER_INPUT');
    }
  });

  // A waived overage still over its limit counted as non-compliance once, and waived violations were not listed.
  it('shows a license whose only active violations are waived as compliant with waivers, its waived violations apart', async () => {
    const t = server();
    const org = await organization(t);
    // W: over its seat limit, the overage waived.
    const w = await licensed(t, 'USER', { organizationId: org.id, limits: { namedUsers: 1 }, overage: { policy: 'ALWAYS' } });
    for (const user of ['w1', 'w2']) await assignSeat(t, w.licenseId, user);
    const [wOverage] = await violationsOf(t, w.licenseId);
    // X: a waived storage overage beside an open feature violation: still non-compliant.
    const x = await licensed(t, 'SUBSCRIPTION', { organizationId: org.id, limits: { storageBytes: 1000 } });
    await t.ok(RecordUsageDocument, { key: x.key, metric: 'STORAGE_BYTES', value: 1500 }, null);
    expect((await t.ok(CheckFeatureDocument, { key: x.key, feature: 'premium.sso' }, null)).checkFeature.allowed).toBe(false);
    const [xStorage, xFeature] = await violationsOf(t, x.licenseId);
    // Y: within its limits, nothing active.
    const y = await licensed(t, 'USER', { organizationId: org.id, limits: { namedUsers: 5 } });
    await assignSeat(t, y.licenseId, 'y1');

    const waivers = async (asOf?: Date) =>
      (await t.ok(ComplianceReportWaiversDocument, { organizationId: org.id, asOf: asOf?.toISOString() ?? null })).complianceReport;
    const beforeWaivers = await waivers();
    expect(beforeWaivers.licenses.map((l) => [l.complianceStatus, l.compliant])).toEqual([
      ['NON_COMPLIANT', false],
      ['NON_COMPLIANT', false],
      ['COMPLIANT', true],
    ]);
    const beforeWaiving = await moment(t);
    for (const v of [wOverage, xStorage]) await t.ok(WaiveViolationDocument, { input: { id: v!.id, reason: 'Agreed with the customer' } });

    const expected = {
      licenses: [
        {
          licenseId: w.licenseId,
          compliant: true,
          complianceStatus: 'COMPLIANT_WITH_WAIVERS',
          utilization: [{ metric: 'ACTIVE_USERS', overLimit: true, waived: true }],
          openViolations: [],
          waivedViolations: [{ id: wOverage!.id, kind: 'SEAT_OVERAGE', status: 'WAIVED' }],
        },
        {
          licenseId: x.licenseId,
          compliant: false,
          complianceStatus: 'NON_COMPLIANT',
          utilization: [
            { metric: 'STORAGE_BYTES', overLimit: true, waived: true },
            { metric: 'API_CALLS', overLimit: false, waived: false },
          ],
          openViolations: [{ id: xFeature!.id, status: 'OPEN' }],
          waivedViolations: [{ id: xStorage!.id, kind: 'STORAGE_OVERAGE', status: 'WAIVED' }],
        },
        {
          licenseId: y.licenseId,
          compliant: true,
          complianceStatus: 'COMPLIANT',
          utilization: [{ metric: 'ACTIVE_USERS', overLimit: false, waived: false }],
          openViolations: [],
          waivedViolations: [],
        },
      ],
      // licenses = compliant + nonCompliant; of the compliant, one only by its waiver; waived violations counted apart.
      summary: { licenses: 3, compliant: 2, compliantWithWaivers: 1, nonCompliant: 1, openViolations: 1, waivedViolations: 2 },
    };
    expect(await waivers()).toEqual(expected);
    // The report of the open ones counts only the open one by severity and kind.
    expect((await report(t, org.id)).summary).toMatchObject({ openViolations: 1, byKind: [{ kind: 'UNLICENSED_FEATURE', count: 1 }] });
    // As of a moment after the waivers, the same; before them, as it was.
    expect(await waivers(await moment(t))).toEqual(expected);
    expect(await waivers(beforeWaiving)).toEqual(beforeWaivers);
  });
});
