import { expect, it } from 'vitest';
import {
  AssignSeatDocument,
  AuditLogDocument,
  CheckinSeatDocument,
  CheckoutSeatDocument,
  CheckQuotaDocument,
  type IssueLicenseInput,
  LicenseUsageDocument,
  type LicenseType,
  type OveragePolicy,
  RecordUsageDocument,
  ViolationsDocument,
} from './generated/graphql';
import { DEFAULT_DATABASE_LIMITS } from '../src/config';
import { licensed, type Licensed } from './support/factories';
import { describeEachDatabase, type TestServer } from './support/server';

/** One limit, driven to its edge and then past it by concurrent requests. */
interface Limit {
  name: string;
  type: LicenseType;
  kind: string;
  limit: number;
  /** Brings the license to one short of its limit. */
  fill(t: TestServer, l: Licensed): Promise<void>;
  /** One request for one more; says whether it was allowed. */
  take(t: TestServer, l: Licensed, i: number): Promise<boolean>;
  /** What the license has now. */
  used(t: TestServer, l: Licensed): Promise<number>;
  terms(limit: number): Partial<IssueLicenseInput>;
}

const usageOf = async (t: TestServer, l: Licensed, metric: string) =>
  (await t.ok(LicenseUsageDocument, { licenseId: l.licenseId })).licenseUsage.find((u) => u.metric === metric)!.value;

const recorded = async (t: TestServer, l: Licensed, metric: 'STORAGE_BYTES' | 'API_CALLS', amount: number) => {
  const result = await t.request(RecordUsageDocument, { key: l.key, metric, amount }, null);
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return result.data!.recordUsage.outcome === 'RECORDED';
};

const LIMITS: Limit[] = [
  {
    name: 'named users (assignSeat)',
    type: 'USER',
    kind: 'SEAT_OVERAGE',
    limit: 10,
    terms: (limit) => ({ limits: { namedUsers: limit } }),
    async fill(t, l) {
      for (let i = 0; i < 9; i++) await t.ok(AssignSeatDocument, { licenseId: l.licenseId, userId: `fill-${i}@example.com` });
    },
    async take(t, l, i) {
      const result = await t.request(AssignSeatDocument, { licenseId: l.licenseId, userId: `user-${i}@example.com` });
      if (result.errors) throw new Error(JSON.stringify(result.errors));
      return result.data!.assignSeat.outcome === 'ASSIGNED';
    },
    used: (t, l) => usageOf(t, l, 'ACTIVE_USERS'),
  },
  {
    name: 'concurrent sessions (checkoutSeat)',
    type: 'CONCURRENT',
    kind: 'CONCURRENCY_OVERAGE',
    limit: 10,
    terms: (limit) => ({ limits: { concurrentSessions: limit } }),
    async fill(t, l) {
      for (let i = 0; i < 9; i++) await t.ok(CheckoutSeatDocument, { key: l.key, fingerprint: `fill-${i}` }, null);
    },
    async take(t, l, i) {
      const result = await t.request(CheckoutSeatDocument, { key: l.key, fingerprint: `machine-${i}` }, null);
      if (result.errors) throw new Error(JSON.stringify(result.errors));
      return result.data!.checkoutSeat.outcome === 'GRANTED';
    },
    used: (t, l) => usageOf(t, l, 'CONCURRENT_SESSIONS'),
  },
  {
    name: 'storage (recordUsage)',
    type: 'SUBSCRIPTION',
    kind: 'STORAGE_OVERAGE',
    limit: 1000,
    terms: (limit) => ({ limits: { storageBytes: limit, apiCallsPerPeriod: null } }),
    async fill(t, l) {
      await t.ok(RecordUsageDocument, { key: l.key, metric: 'STORAGE_BYTES', value: 999 }, null);
    },
    take: (t, l) => recorded(t, l, 'STORAGE_BYTES', 1),
    used: (t, l) => usageOf(t, l, 'STORAGE_BYTES'),
  },
  {
    name: 'API calls (recordUsage)',
    type: 'SUBSCRIPTION',
    kind: 'API_OVERAGE',
    limit: 1000,
    terms: (limit) => ({ limits: { apiCallsPerPeriod: limit, storageBytes: null, apiCallPeriod: 'MONTH' } }),
    async fill(t, l) {
      await t.ok(RecordUsageDocument, { key: l.key, metric: 'API_CALLS', amount: 999 }, null);
    },
    take: (t, l) => recorded(t, l, 'API_CALLS', 1),
    used: (t, l) => usageOf(t, l, 'API_CALLS'),
  },
];

const REQUESTS = 500;

/** What each policy lets through of 500 requests for one more, one short of a limit: PERCENT at 20 %. */
function expected(policy: OveragePolicy, limit: number) {
  switch (policy) {
    case 'NONE':
      return { allowed: 1, final: limit, occurrences: 0 };
    case 'PERCENT': {
      const ceiling = limit + Math.floor(limit * 0.2);
      return { allowed: ceiling - (limit - 1), final: ceiling, occurrences: ceiling - limit };
    }
    case 'ALWAYS':
      return { allowed: REQUESTS, final: limit - 1 + REQUESTS, occurrences: limit - 1 + REQUESTS - limit };
  }
}

describeEachDatabase(
  'enforcement at the limit',
  (server) => {
    for (const limit of LIMITS) {
      for (const policy of ['NONE', 'PERCENT', 'ALWAYS'] as const) {
        it(`${limit.name}: ${REQUESTS} concurrent requests at the edge under ${policy}`, async () => {
          const t = server();
          const overage = policy === 'PERCENT' ? { policy, percent: 20 } : { policy };
          const l = await licensed(t, limit.type, { ...limit.terms(limit.limit), overage });
          await limit.fill(t, l);
          expect(await limit.used(t, l)).toBe(limit.limit - 1);

          const answers = await Promise.all(Array.from({ length: REQUESTS }, (_, i) => limit.take(t, l, i)));
          const want = expected(policy, limit.limit);
          expect(answers.filter(Boolean)).toHaveLength(want.allowed);
          expect(await limit.used(t, l)).toBe(want.final);

          const violations = (await t.ok(ViolationsDocument, { filter: { licenseId: l.licenseId } })).violations.nodes;
          if (want.occurrences === 0) {
            expect(violations).toEqual([]);
          } else {
            expect(violations).toHaveLength(1);
            expect(violations[0]).toMatchObject({
              kind: limit.kind,
              status: 'OPEN',
              occurrences: want.occurrences,
              limit: limit.limit,
              peakValue: want.final,
            });
          }
        });
      }
    }

    it('checkQuota answers before a write, under each policy, and changes nothing', async () => {
      const t = server();
      for (const [policy, percent, allowed, code, ceiling] of [
        ['NONE', null, false, 'LIMIT_REACHED', 1000],
        ['PERCENT', 10, true, 'OVERAGE_ALLOWED', 1100],
        ['ALWAYS', null, true, 'OVERAGE_ALLOWED', null],
      ] as const) {
        const l = await licensed(t, 'SUBSCRIPTION', { limits: { storageBytes: 1000 }, overage: { policy, percent } });
        await t.ok(RecordUsageDocument, { key: l.key, metric: 'STORAGE_BYTES', value: 950 }, null);
        const within = (await t.ok(CheckQuotaDocument, { key: l.key, metric: 'STORAGE_BYTES', amount: 50 }, null)).checkQuota;
        expect(within).toMatchObject({ allowed: true, code: 'WITHIN_LIMIT', current: 950, value: 1000, limit: 1000 });
        const over = (await t.ok(CheckQuotaDocument, { key: l.key, metric: 'STORAGE_BYTES', amount: 100 }, null)).checkQuota;
        expect(over).toMatchObject({ allowed, code, current: 950, requested: 100, limit: 1000, ceiling, policy });
        expect(await usageOf(t, l, 'STORAGE_BYTES')).toBe(950);
        expect((await t.ok(ViolationsDocument, { filter: { licenseId: l.licenseId } })).violations.nodes).toEqual([]);
      }
      const l = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 2 }, overage: { policy: 'PERCENT', percent: 50 } });
      await t.ok(CheckoutSeatDocument, { key: l.key, fingerprint: 'a' }, null);
      await t.ok(CheckoutSeatDocument, { key: l.key, fingerprint: 'b' }, null);
      expect((await t.ok(CheckQuotaDocument, { key: l.key, metric: 'CONCURRENT_SESSIONS', amount: 1 }, null)).checkQuota).toMatchObject({
        allowed: true,
        code: 'OVERAGE_ALLOWED',
        current: 2,
        ceiling: 3,
      });
      expect((await t.ok(CheckQuotaDocument, { key: l.key, metric: 'CONCURRENT_SESSIONS', amount: 2 }, null)).checkQuota).toMatchObject({
        allowed: false,
        code: 'OVERAGE_LIMIT_REACHED',
      });
      expect(await t.errorCode(CheckQuotaDocument, { key: l.key, metric: 'API_CALLS', amount: 0 }, null)).toBe('BAD_USER_INPUT');
    });

    it('a concurrency overage stays open while a checkin leaves the sessions over, and resolves with the one that brings them back', async () => {
      const t = server();
      const l = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 2 }, overage: { policy: 'PERCENT', percent: 100 } });
      const leases: string[] = [];
      for (const fingerprint of ['m-1', 'm-2', 'm-3', 'm-4']) {
        const answer = (await t.ok(CheckoutSeatDocument, { key: l.key, fingerprint }, null)).checkoutSeat;
        expect(answer.outcome).toBe('GRANTED');
        leases.push(answer.lease!.id);
      }
      const violation = async () => (await t.ok(ViolationsDocument, { filter: { licenseId: l.licenseId } })).violations.nodes;
      expect(await violation()).toMatchObject([{ kind: 'CONCURRENCY_OVERAGE', status: 'OPEN', value: 4, limit: 2, occurrences: 2 }]);
      const checkin = async (leaseId: string) =>
        expect((await t.ok(CheckinSeatDocument, { key: l.key, leaseId }, null)).checkinSeat.outcome).toBe('RELEASED');
      // 3 of 2: still over.
      await checkin(leases[0]!);
      expect(await violation()).toMatchObject([{ status: 'OPEN' }]);
      // 2 of 2: back within the limit, resolved by the checkin itself.
      await checkin(leases[1]!);
      const [resolved] = await violation();
      expect(resolved).toMatchObject({
        status: 'RESOLVED',
        resolvedBy: 'SYSTEM',
        resolution: 'CONCURRENT_SESSIONS is back within its limit: 2 of 2.',
      });
    });

    it('a storage total reported over the limit is recorded, with a violation, whatever the policy', async () => {
      const t = server();
      const l = await licensed(t, 'SUBSCRIPTION', { limits: { storageBytes: 1000 }, overage: { policy: 'NONE' } });
      const over = (await t.ok(RecordUsageDocument, { key: l.key, metric: 'STORAGE_BYTES', value: 1300 }, null)).recordUsage;
      expect(over).toMatchObject({
        outcome: 'RECORDED',
        usage: { value: 1300 },
        enforcement: { allowed: true, code: 'OVER_LIMIT_REPORTED' },
      });
      const [violation] = (await t.ok(ViolationsDocument, { filter: { licenseId: l.licenseId } })).violations.nodes;
      expect(violation).toMatchObject({ kind: 'STORAGE_OVERAGE', severity: 'HIGH', value: 1300, limit: 1000, occurrences: 1 });
      // Removing bytes is never refused; back within the limit, the violation resolves itself.
      const freed = (await t.ok(RecordUsageDocument, { key: l.key, metric: 'STORAGE_BYTES', amount: -400 }, null)).recordUsage;
      expect(freed).toMatchObject({ outcome: 'RECORDED', usage: { value: 900 } });
      const [resolved] = (await t.ok(ViolationsDocument, { filter: { licenseId: l.licenseId } })).violations.nodes;
      expect(resolved).toMatchObject({ status: 'RESOLVED', resolvedBy: 'SYSTEM' });
      expect(resolved!.resolution).toContain('900 of 1000');
      // The resolution is attributed to the request whose report cleared it.
      const events = (await t.ok(AuditLogDocument, { filter: { organizationId: l.organizationId }, first: 200 })).auditLog.nodes;
      const resolution = events.find((e) => e.action === 'violation.resolve')!;
      const report = events.filter((e) => e.action === 'usage.record').at(-1)!;
      expect(resolution.requestId).toBe(report.requestId);
      expect(resolution.actor).toMatchObject({ type: 'SYSTEM', label: 'compliance' });
    });
  },
  // These cases are about allocation, not latency: on a busy machine 500 calls of one license may wait longer than
  // the default 5 s for their turn, which answers SERVICE_UNAVAILABLE (tested where that is the point).
  { databaseLimits: { ...DEFAULT_DATABASE_LIMITS, poolTimeoutMs: 60_000 } },
);
