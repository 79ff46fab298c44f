import { randomUUID } from 'node:crypto';
import { print } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import { afterEach, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  AssignSeatDocument,
  CheckinSeatDocument,
  CheckoutSeatDocument,
  HeartbeatSeatDocument,
  LicenseUsageChangedDocument,
  type LicenseUsageChangedSubscription,
  LicenseUsageDocument,
  RecordUsageDocument,
  ReleaseSeatDocument,
  SuspendLicenseDocument,
  type UsageMetric,
} from './generated/graphql';
import { issueToken, licensed } from './support/factories';
import { describeEachDatabase, type TestServer } from './support/server';

type Change = LicenseUsageChangedSubscription['licenseUsageChanged'];
/** What a subscriber learns of one metric: [metric, value, limit, utilization]. */
type Reading = [UsageMetric, number, number | null, number | null];

const HOUR_MS = 3_600_000;
/** How long to keep listening after the expected events, to see that nothing else follows. */
const QUIET_MS = 250;

const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const readingOf = (change: Change): Reading => [change.usage.metric, change.usage.value, change.usage.limit, change.usage.utilization];

/** A graphql-ws subscriber to `licenseUsageChanged`, collecting what it receives. */
function watch(t: TestServer, licenseId: string, token: string = t.admin) {
  const client = createClient({
    url: t.url.replace('http', 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
  });
  clients.push(client);
  const received: Change[] = [];
  const errors: { message: string; extensions?: { code?: unknown } }[] = [];
  let completed = false;
  client.subscribe<LicenseUsageChangedSubscription>(
    { query: print(LicenseUsageChangedDocument), variables: { licenseId } },
    {
      next: (result) => {
        if (result.data) received.push(result.data.licenseUsageChanged);
        if (result.errors) errors.push(...result.errors);
      },
      error: (error) => errors.push(...(Array.isArray(error) ? error : [{ message: String(error) }])),
      complete: () => {
        completed = true;
      },
    },
  );
  /** Waits (up to a deadline) for `count` changes in all. */
  const until = async (count: number, ms = 10_000) => {
    const deadline = Date.now() + ms;
    while (received.length < count && Date.now() < deadline) await pause(20);
    return received.map(readingOf);
  };
  /** Waits for `count` changes, then a moment longer, and gives back every change received by then. */
  const settled = async (count: number) => {
    await until(count);
    await pause(QUIET_MS);
    return received.map(readingOf);
  };
  /** Waits for the snapshot (the four metrics as they are): once it is in, every later change is sent. */
  const ready = async () => {
    await until(4);
    expect(received).toHaveLength(4);
    return received.map(readingOf);
  };
  /** Waits (up to a deadline) for the subscription to end. */
  const ended = async (ms = 10_000) => {
    const deadline = Date.now() + ms;
    while (!completed && errors.length === 0 && Date.now() < deadline) await pause(20);
    await pause(QUIET_MS);
    return { completed, errors };
  };
  return { received, errors, until, settled, ready, ended };
}

const reading = (metric: UsageMetric, value: number, limit: number | null): Reading => [metric, value, limit, limit ? value / limit : null];
const users = (value: number, limit: number | null) => reading('ACTIVE_USERS', value, limit);
const sessions = (value: number, limit: number | null) => reading('CONCURRENT_SESSIONS', value, limit);
const storage = (value: number, limit: number | null) => reading('STORAGE_BYTES', value, limit);
const calls = (value: number, limit: number | null) => reading('API_CALLS', value, limit);

type PerMetric = { users?: number; sessions?: number; storage?: number; calls?: number };
/** The snapshot a subscriber gets first: the four metrics, in this order, as [value, limit] pairs (no limit: null). */
const snapshot = (values: Required<PerMetric>, limits: PerMetric): Reading[] => [
  users(values.users, limits.users ?? null),
  sessions(values.sessions, limits.sessions ?? null),
  storage(values.storage, limits.storage ?? null),
  calls(values.calls, limits.calls ?? null),
];
const NOTHING_USED = { users: 0, sessions: 0, storage: 0, calls: 0 };

/**
 * Holds the next call of a ledger's `countLive` (made inside its write transaction, before the commit) until
 * `resume()`: `counted` settles once it has counted. Later calls run as usual.
 */
/** Holds the next call of a ledger's method that counts live seats or sessions, once it has counted, until resumed. */
function holdNextCount<M extends string>(ledger: object, method: M) {
  const target = ledger as Record<M, (...args: unknown[]) => Promise<unknown>>;
  const count = target[method];
  let resume!: () => void;
  const resumed = new Promise<void>((r) => (resume = r));
  let counted!: () => void;
  const hasCounted = new Promise<void>((r) => (counted = r));
  target[method] = async (...args) => {
    target[method] = count;
    const live = await count.apply(ledger, args);
    counted();
    await resumed;
    return live;
  };
  return {
    counted: hasCounted,
    resume,
    restore: () => {
      target[method] = count;
      resume();
    },
  };
}

/** A CONCURRENT license of `seats` sessions (10-minute leases), with no other limit. */
const concurrent = (t: TestServer, seats: number, organizationId?: string) =>
  licensed(t, 'CONCURRENT', { limits: { concurrentSessions: seats }, leaseTtlSeconds: 600, ...(organizationId ? { organizationId } : {}) });

async function checkout(t: TestServer, key: string, fingerprint: string) {
  return (await t.ok(CheckoutSeatDocument, { key, fingerprint }, null)).checkoutSeat;
}

async function checkin(t: TestServer, key: string, leaseId: string) {
  return (await t.ok(CheckinSeatDocument, { key, leaseId }, null)).checkinSeat.outcome;
}

async function currentUsage(t: TestServer, licenseId: string): Promise<Reading[]> {
  return (await t.ok(LicenseUsageDocument, { licenseId })).licenseUsage.map((u) => [u.metric, u.value, u.limit, u.utilization]);
}

describeEachDatabase('licenseUsageChanged subscriptions', (server) => {
  it('sends every metric of the license as it is, first, and then nothing until something changes', async () => {
    const t = server();
    const { key, licenseId } = await licensed(t, 'CONCURRENT', {
      limits: { namedUsers: 4, concurrentSessions: 2, storageBytes: 1000, apiCallsPerPeriod: 100 },
    });
    await checkout(t, key, 'host-1');
    await t.ok(RecordUsageDocument, { key, metric: 'STORAGE_BYTES', value: 250 }, null);
    await t.ok(RecordUsageDocument, { key, metric: 'API_CALLS', amount: 30 }, null);

    const sub = watch(t, licenseId);
    expect(await sub.settled(4)).toEqual(
      snapshot({ users: 0, sessions: 1, storage: 250, calls: 30 }, { users: 4, sessions: 2, storage: 1000, calls: 100 }),
    );
    expect(sub.received.map(readingOf)).toEqual(await currentUsage(t, licenseId));
    expect(sub.received.every((c) => c.licenseId === licenseId && !Number.isNaN(Date.parse(c.changedAt)))).toBe(true);
    expect(sub.errors).toEqual([]);
  });

  it('sends the session count as leases are checked out and checked in, and nothing for a lease taken again or kept alive', async () => {
    const t = server();
    const { key, licenseId } = await concurrent(t, 2);
    const sub = watch(t, licenseId);
    expect(await sub.ready()).toEqual(snapshot(NOTHING_USED, { sessions: 2 }));

    const first = await checkout(t, key, 'host-1');
    const second = await checkout(t, key, 'host-2');
    expect(await checkout(t, key, 'host-1')).toMatchObject({ outcome: 'GRANTED', reused: true });
    expect((await t.ok(HeartbeatSeatDocument, { key, leaseId: second.lease!.id }, null)).heartbeatSeat.outcome).toBe('EXTENDED');
    expect(await checkin(t, key, first.lease!.id)).toBe('RELEASED');
    expect(await checkin(t, key, first.lease!.id)).toBe('ALREADY_RELEASED');
    expect(await checkin(t, key, second.lease!.id)).toBe('RELEASED');

    expect((await sub.settled(8)).slice(4)).toEqual([sessions(1, 2), sessions(2, 2), sessions(1, 2), sessions(0, 2)]);
    expect(sub.errors).toEqual([]);
  });

  it('sends nothing for a checkout refused because every seat is taken', async () => {
    const t = server();
    const { key, licenseId } = await concurrent(t, 1);
    const sub = watch(t, licenseId);
    expect(await sub.ready()).toEqual(snapshot(NOTHING_USED, { sessions: 1 }));

    const held = await checkout(t, key, 'host-1');
    expect(await sub.until(5)).toHaveLength(5);
    expect(await checkout(t, key, 'host-2')).toMatchObject({ outcome: 'NO_SEAT_AVAILABLE', seatsInUse: 1, seatLimit: 1 });
    expect(await checkout(t, key, 'host-3')).toMatchObject({ outcome: 'NO_SEAT_AVAILABLE' });
    expect(await sub.settled(5)).toHaveLength(5);
    await checkin(t, key, held.lease!.id);

    expect((await sub.settled(6)).slice(4)).toEqual([sessions(1, 1), sessions(0, 1)]);
  });

  it('sends the new count when a heartbeat finds its lease expired and ends it', async () => {
    const t = server();
    const { key, licenseId } = await concurrent(t, 2);
    const sub = watch(t, licenseId);
    expect(await sub.ready()).toEqual(snapshot(NOTHING_USED, { sessions: 2 }));
    const start = t.clock.now().getTime();

    // host-1's lease runs to start + 10 min; host-2's, taken 9 minutes later, to start + 19 min.
    const early = await checkout(t, key, 'host-1');
    t.clock.jumpTo(new Date(start + 9 * 60_000));
    await checkout(t, key, 'host-2');
    // At start + 12 min host-1's heartbeat comes too late: its lease ends and host-2's alone is left.
    t.clock.jumpTo(new Date(start + 12 * 60_000));
    const late = (await t.ok(HeartbeatSeatDocument, { key, leaseId: early.lease!.id }, null)).heartbeatSeat;
    expect(late).toMatchObject({ outcome: 'LEASE_ENDED', lease: { releaseReason: 'EXPIRED' } });

    expect((await sub.settled(7)).slice(4)).toEqual([sessions(1, 2), sessions(2, 2), sessions(1, 2)]);
  });

  it('sends each license its new count when the reaper ends leases past their TTL, and nothing to a license it left alone', async () => {
    const t = server();
    const a = await concurrent(t, 2);
    const b = await concurrent(t, 4);
    const c = await concurrent(t, 2);
    const onA = watch(t, a.licenseId);
    const onB = watch(t, b.licenseId);
    const onC = watch(t, c.licenseId);
    expect(await onA.ready()).toEqual(snapshot(NOTHING_USED, { sessions: 2 }));
    expect(await onB.ready()).toEqual(snapshot(NOTHING_USED, { sessions: 4 }));
    expect(await onC.ready()).toEqual(snapshot(NOTHING_USED, { sessions: 2 }));

    await checkout(t, a.key, 'host-1');
    await checkout(t, a.key, 'host-2');
    await checkout(t, b.key, 'host-1');
    // c's lease is taken 55 minutes from now: at the reaper's hour it has five minutes to go.
    const start = t.clock.now().getTime();
    t.clock.jumpTo(new Date(start + 55 * 60_000));
    await checkout(t, c.key, 'host-1');
    t.clock.jumpTo(new Date(start + HOUR_MS));
    expect(await t.server.services.leaseLedger.reap('test')).toBeGreaterThanOrEqual(3);

    expect((await onA.settled(7)).slice(4)).toEqual([sessions(1, 2), sessions(2, 2), sessions(0, 2)]);
    expect((await onB.settled(6)).slice(4)).toEqual([sessions(1, 4), sessions(0, 4)]);
    expect((await onC.settled(5)).slice(4)).toEqual([sessions(1, 2)]);
  });

  it('sends the named-user count as seats are assigned and released, and nothing for a refused or repeated one', async () => {
    const t = server();
    const { licenseId } = await licensed(t, 'USER', { limits: { namedUsers: 2 } });
    const sub = watch(t, licenseId);
    expect(await sub.ready()).toEqual(snapshot(NOTHING_USED, { users: 2 }));
    const assign = async (userId: string) => (await t.ok(AssignSeatDocument, { licenseId, userId })).assignSeat;
    const release = async (seatId: string) => (await t.ok(ReleaseSeatDocument, { seatId })).releaseSeat.outcome;

    const ada = await assign('ada@example.com');
    await assign('bob@example.com');
    expect((await assign('ada@example.com')).outcome).toBe('ALREADY_ASSIGNED');
    expect((await assign('carol@example.com')).outcome).toBe('NO_SEAT_AVAILABLE');
    expect(await release(ada.seat!.id)).toBe('RELEASED');
    expect(await release(ada.seat!.id)).toBe('ALREADY_RELEASED');

    expect((await sub.settled(7)).slice(4)).toEqual([users(1, 2), users(2, 2), users(1, 2)]);
  });

  it('sends storage as the total reported and API calls as the running count of the period', async () => {
    const t = server();
    const { key, licenseId } = await licensed(t, 'SUBSCRIPTION', { limits: { storageBytes: 1000, apiCallsPerPeriod: 200 } });
    const sub = watch(t, licenseId);
    expect(await sub.ready()).toEqual(snapshot(NOTHING_USED, { storage: 1000, calls: 200 }));

    await t.ok(RecordUsageDocument, { key, metric: 'STORAGE_BYTES', value: 800 }, null);
    await t.ok(RecordUsageDocument, { key, metric: 'STORAGE_BYTES', value: 300 }, null);
    await t.ok(RecordUsageDocument, { key, metric: 'API_CALLS' }, null);
    await t.ok(RecordUsageDocument, { key, metric: 'API_CALLS', amount: 49 }, null);
    // A refused report changes nothing.
    expect(await t.errorCode(RecordUsageDocument, { key, metric: 'STORAGE_BYTES', value: -1 }, null)).toBe('BAD_USER_INPUT');
    expect(await t.errorCode(RecordUsageDocument, { key, metric: 'API_CALLS', amount: 0 }, null)).toBe('BAD_USER_INPUT');

    expect((await sub.settled(8)).slice(4)).toEqual([storage(800, 1000), storage(300, 1000), calls(1, 200), calls(50, 200)]);
  });

  it('refuses a license of another organization with NOT_FOUND and sends its subscriber nothing of it', async () => {
    const t = server();
    const mine = await licensed(t, 'SUBSCRIPTION', { limits: { storageBytes: 1000 } });
    const theirs = await licensed(t, 'SUBSCRIPTION', { limits: { storageBytes: 1000 } });
    const integrator = await issueToken(t, 'INTEGRATOR', mine.organizationId);

    const own = watch(t, mine.licenseId, integrator.secret);
    const foreign = watch(t, theirs.licenseId, integrator.secret);
    await own.ready();
    const { completed, errors } = await foreign.ended();
    expect(errors.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    expect(completed).toBe(true);

    await t.ok(RecordUsageDocument, { key: theirs.key, metric: 'STORAGE_BYTES', value: 900 }, null);
    await t.ok(RecordUsageDocument, { key: mine.key, metric: 'STORAGE_BYTES', value: 100 }, null);
    expect((await own.settled(5)).slice(4)).toEqual([storage(100, 1000)]);
    expect(foreign.received).toEqual([]);
  });

  it('refuses an unknown license with NOT_FOUND', async () => {
    const t = server();
    const sub = watch(t, randomUUID());
    const { completed, errors } = await sub.ended();
    expect(errors.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    expect(completed).toBe(true);
    expect(sub.received).toEqual([]);
  });

  it('sends the subscribers of one license none of another license’s changes', async () => {
    const t = server();
    const watched = await concurrent(t, 2);
    const other = await concurrent(t, 2, watched.organizationId);
    const sub = watch(t, watched.licenseId);
    expect(await sub.ready()).toEqual(snapshot(NOTHING_USED, { sessions: 2 }));

    const lease = await checkout(t, other.key, 'host-1');
    await checkin(t, other.key, lease.lease!.id);
    await t.ok(RecordUsageDocument, { key: other.key, metric: 'API_CALLS', amount: 5 }, null);
    await checkout(t, watched.key, 'host-1');

    expect((await sub.settled(5)).slice(4)).toEqual([sessions(1, 2)]);
    expect(sub.received.every((c) => c.licenseId === watched.licenseId)).toBe(true);
  });

  it('sends changes of licenses raised at the same time each to its own license’s subscribers only', async () => {
    const t = server();
    const a = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 10, storageBytes: 1000 } });
    const b = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 10, storageBytes: 1000 } });
    const onA = [watch(t, a.licenseId), watch(t, a.licenseId)];
    const onB = [watch(t, b.licenseId), watch(t, b.licenseId)];
    for (const sub of [...onA, ...onB]) expect(await sub.ready()).toEqual(snapshot(NOTHING_USED, { sessions: 10, storage: 1000 }));

    const hosts = ['host-1', 'host-2', 'host-3', 'host-4', 'host-5'];
    await Promise.all([
      (async () => {
        for (const host of hosts) await checkout(t, a.key, host);
        await t.ok(RecordUsageDocument, { key: a.key, metric: 'STORAGE_BYTES', value: 100 }, null);
      })(),
      (async () => {
        for (const value of [10, 20, 30, 40, 50]) await t.ok(RecordUsageDocument, { key: b.key, metric: 'STORAGE_BYTES', value }, null);
        await checkout(t, b.key, 'host-1');
      })(),
    ]);

    const expectedA = [sessions(1, 10), sessions(2, 10), sessions(3, 10), sessions(4, 10), sessions(5, 10), storage(100, 1000)];
    const expectedB = [storage(10, 1000), storage(20, 1000), storage(30, 1000), storage(40, 1000), storage(50, 1000), sessions(1, 10)];
    for (const sub of onA) expect((await sub.settled(10)).slice(4)).toEqual(expectedA);
    for (const sub of onB) expect((await sub.settled(10)).slice(4)).toEqual(expectedB);
    for (const sub of onA) expect(sub.received.every((c) => c.licenseId === a.licenseId)).toBe(true);
    for (const sub of onB) expect(sub.received.every((c) => c.licenseId === b.licenseId)).toBe(true);
  });

  it('sends the drop in sessions when suspending a license ends its leases', async () => {
    const t = server();
    const { key, licenseId } = await concurrent(t, 2);
    const sub = watch(t, licenseId);
    expect(await sub.ready()).toEqual(snapshot(NOTHING_USED, { sessions: 2 }));

    await checkout(t, key, 'host-1');
    await checkout(t, key, 'host-2');
    await t.ok(SuspendLicenseDocument, { id: licenseId, reason: 'unpaid invoice' });

    expect((await sub.settled(7)).slice(4)).toEqual([sessions(1, 2), sessions(2, 2), sessions(0, 2)]);
  });

  it('sends the drop in sessions when a machine taking its lease again ends another lease past its TTL', async () => {
    const t = server();
    const { key, licenseId } = await concurrent(t, 2);
    const sub = watch(t, licenseId);
    expect(await sub.ready()).toEqual(snapshot(NOTHING_USED, { sessions: 2 }));
    const start = t.clock.now().getTime();

    // host-1's lease runs to start + 10 min; host-2's, taken 9 minutes later, to start + 19 min.
    await checkout(t, key, 'host-1');
    t.clock.jumpTo(new Date(start + 9 * 60_000));
    await checkout(t, key, 'host-2');
    // At start + 12 min host-2 checks out again: its lease is extended and host-1's, past its TTL, ends.
    t.clock.jumpTo(new Date(start + 12 * 60_000));
    const again = await checkout(t, key, 'host-2');
    expect(again).toMatchObject({ outcome: 'GRANTED', reused: true });

    expect((await sub.settled(7)).slice(4)).toEqual([sessions(1, 2), sessions(2, 2), sessions(1, 2)]);
  });

  it('ends on the true session count when a checkin and a checkout of the license overlap', async () => {
    const t = server();
    const { key, licenseId } = await concurrent(t, 2);
    const sub = watch(t, licenseId);
    expect(await sub.ready()).toEqual(snapshot(NOTHING_USED, { sessions: 2 }));
    const held = await checkout(t, key, 'host-1');

    // The checkin is held after counting the live leases (with the lease it ends), before it commits, while host-2
    // checks out.
    const hold = holdNextCount(t.server.services.leaseLedger, 'leaseAmongLive');
    try {
      const checkingIn = checkin(t, key, held.lease!.id);
      await hold.counted;
      const checkingOut = checkout(t, key, 'host-2');
      // Where the checkout cannot run beside the checkin (SQLite's single writer), it waits for it.
      await Promise.race([checkingOut, pause(500)]);
      hold.resume();
      expect(await checkingIn).toBe('RELEASED');
      expect((await checkingOut).outcome).toBe('GRANTED');
    } finally {
      hold.restore();
    }

    expect((await currentUsage(t, licenseId))[1]).toEqual(sessions(1, 2));
    expect((await sub.settled(7)).slice(4)).toEqual([sessions(1, 2), sessions(0, 2), sessions(1, 2)]);
  });

  it('ends on the true named-user count when a release and an assignment of the license overlap', async () => {
    const t = server();
    const { licenseId } = await licensed(t, 'USER', { limits: { namedUsers: 2 } });
    const sub = watch(t, licenseId);
    expect(await sub.ready()).toEqual(snapshot(NOTHING_USED, { users: 2 }));
    const ada = (await t.ok(AssignSeatDocument, { licenseId, userId: 'ada@example.com' })).assignSeat.seat!;

    // The release is held after counting the seats, before it commits, while bob is given a seat.
    const hold = holdNextCount(t.server.services.seatLedger, 'countLive');
    try {
      const releasing = t.ok(ReleaseSeatDocument, { seatId: ada.id });
      await hold.counted;
      const assigning = t.ok(AssignSeatDocument, { licenseId, userId: 'bob@example.com' });
      // Where the assignment cannot run beside the release (SQLite's single writer), it waits for it.
      await Promise.race([assigning, pause(500)]);
      hold.resume();
      expect((await releasing).releaseSeat.outcome).toBe('RELEASED');
      expect((await assigning).assignSeat.outcome).toBe('ASSIGNED');
    } finally {
      hold.restore();
    }

    expect((await currentUsage(t, licenseId))[0]).toEqual(users(1, 2));
    expect((await sub.settled(7)).slice(4)).toEqual([users(1, 2), users(0, 2), users(1, 2)]);
  });
});
