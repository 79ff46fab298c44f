import { expect, it } from 'vitest';
import {
  AssignSeatDocument,
  CheckinSeatDocument,
  CheckoutSeatDocument,
  HeartbeatSeatDocument,
  LeasesDocument,
  LicenseDocument,
  MigrateLicenseDocument,
  ReleaseSeatDocument,
  SeatsDocument,
  SuspendLicenseDocument,
  ValidateLicenseDocument,
} from './generated/graphql';
import { licensed } from './support/factories';
import { describeEachDatabase } from './support/server';

describeEachDatabase('named seats', (server) => {
  it('assigns a seat to a user, once, and releases it', async () => {
    const t = server();
    const { licenseId } = await licensed(t, 'USER', { limits: { namedUsers: 2 } });
    const first = (await t.ok(AssignSeatDocument, { licenseId, userId: 'ada@example.com' })).assignSeat;
    expect(first).toMatchObject({ outcome: 'ASSIGNED', seatsInUse: 1, seatLimit: 2, seat: { userId: 'ada@example.com', live: true } });
    const again = (await t.ok(AssignSeatDocument, { licenseId, userId: 'ada@example.com' })).assignSeat;
    expect(again).toMatchObject({ outcome: 'ALREADY_ASSIGNED', seatsInUse: 1, seat: { id: first.seat!.id } });

    const released = (await t.ok(ReleaseSeatDocument, { seatId: first.seat!.id })).releaseSeat;
    expect(released).toMatchObject({ outcome: 'RELEASED', seat: { live: false } });
    expect((await t.ok(ReleaseSeatDocument, { seatId: first.seat!.id })).releaseSeat.outcome).toBe('ALREADY_RELEASED');
    const seats = (await t.ok(SeatsDocument, { filter: { licenseId, live: true } })).seats.nodes;
    expect(seats).toEqual([]);
  });

  it('answers NO_SEAT_AVAILABLE when every named seat is taken', async () => {
    const t = server();
    const { licenseId } = await licensed(t, 'USER', { limits: { namedUsers: 1 } });
    await t.ok(AssignSeatDocument, { licenseId, userId: 'ada' });
    const refused = (await t.ok(AssignSeatDocument, { licenseId, userId: 'grace' })).assignSeat;
    expect(refused).toMatchObject({ outcome: 'NO_SEAT_AVAILABLE', seat: null, seatsInUse: 1, seatLimit: 1 });
    expect(refused.enforcement).toMatchObject({
      allowed: false,
      code: 'LIMIT_REACHED',
      current: 1,
      requested: 1,
      value: 1,
      limit: 1,
      policy: 'NONE',
    });
  });

  it('never assigns more users than the license allows under 200 concurrent assignments', async () => {
    const t = server();
    const { licenseId } = await licensed(t, 'USER', { limits: { namedUsers: 20 } });
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => t.request(AssignSeatDocument, { licenseId, userId: `user-${i}@example.com` })),
    );
    expect(results.filter((r) => r.errors)).toEqual([]);
    const outcomes = results.map((r) => r.data!.assignSeat.outcome);
    expect(outcomes.filter((o) => o === 'ASSIGNED')).toHaveLength(20);
    expect(outcomes.filter((o) => o === 'NO_SEAT_AVAILABLE')).toHaveLength(180);
    const seats = (await t.ok(SeatsDocument, { filter: { licenseId, live: true }, first: 200 })).seats.nodes;
    expect(seats).toHaveLength(20);
    expect((await t.ok(LicenseDocument, { id: licenseId })).license.seatsInUse).toBe(20);
  });

  // Before seats kept why they were released, `Seat` had neither `lastActiveAt` nor `releaseReason`.
  it('says when each seat’s user was last active, and why a released seat was released', async () => {
    const t = server();
    const { licenseId, key } = await licensed(t, 'USER', { limits: { namedUsers: 3 } });
    const ada = (await t.ok(AssignSeatDocument, { licenseId, userId: 'ada' })).assignSeat.seat!;
    const grace = (await t.ok(AssignSeatDocument, { licenseId, userId: 'grace' })).assignSeat.seat!;
    // Never active since assigned: the assignment is when its user was last active.
    expect(ada).toMatchObject({ lastActiveAt: ada.assignedAt, releasedAt: null, releaseReason: null, live: true });
    await t.clock.advance(5);
    expect((await t.ok(ValidateLicenseDocument, { key, user: 'ada' }, null)).validateLicense.valid).toBe(true);
    const live = (await t.ok(SeatsDocument, { filter: { licenseId } })).seats.nodes;
    const adaNow = live.find((s) => s.id === ada.id)!;
    expect(Date.parse(adaNow.lastActiveAt)).toBeGreaterThan(Date.parse(ada.assignedAt));
    expect(live.find((s) => s.id === grace.id)).toMatchObject({ lastActiveAt: grace.assignedAt, releaseReason: null });

    const released = (await t.ok(ReleaseSeatDocument, { seatId: grace.id })).releaseSeat.seat;
    expect(released).toMatchObject({ live: false, releaseReason: 'RELEASED_BY_ADMIN', lastActiveAt: grace.assignedAt });
    const [listed] = (await t.ok(SeatsDocument, { filter: { licenseId, live: false } })).seats.nodes;
    expect(listed).toEqual(released);
    expect((await t.ok(SeatsDocument, { filter: { licenseId, live: true } })).seats.nodes).toEqual([adaNow]);
  });

  it('marks the seats a migration to fewer users releases as LICENSE_MIGRATED, least active first as it previewed', async () => {
    const t = server();
    const { licenseId, key } = await licensed(t, 'USER', { limits: { namedUsers: 3 } });
    for (const userId of ['ada', 'bob', 'cy']) await t.ok(AssignSeatDocument, { licenseId, userId });
    await t.clock.advance(5);
    expect((await t.ok(ValidateLicenseDocument, { key, user: 'ada' }, null)).validateLicense.valid).toBe(true);
    const { migrateLicense } = await t.ok(MigrateLicenseDocument, {
      licenseId,
      target: { limits: { namedUsers: 1 } },
      onConflict: { strategy: 'RELEASE_LEAST_ACTIVE' },
    });
    expect(migrateLicense.outcome).toBe('APPLIED');
    const seats = (await t.ok(SeatsDocument, { filter: { licenseId } })).seats.nodes;
    const released = seats.filter((s) => !s.live);
    expect(released.map((s) => s.userId).sort()).toEqual(['bob', 'cy']);
    expect(released.every((s) => s.releaseReason === 'LICENSE_MIGRATED')).toBe(true);
    // The seat's lastActiveAt is the one the migration ordered its seats by.
    expect(migrateLicense.preview.seatsReleased.map((s) => [s.seatId, s.lastActiveAt])).toEqual(
      released.sort((a, b) => a.lastActiveAt.localeCompare(b.lastActiveAt) || a.id.localeCompare(b.id)).map((s) => [s.id, s.lastActiveAt]),
    );
    expect(seats.filter((s) => s.live)).toMatchObject([{ userId: 'ada', releaseReason: null }]);
  });

  it('refuses seats on licenses that have none', async () => {
    const t = server();
    const { licenseId } = await licensed(t, 'CONCURRENT');
    expect(await t.errorCode(AssignSeatDocument, { licenseId, userId: 'ada' })).toBe('UNSUPPORTED_LICENSE_TYPE');
  });
});

describeEachDatabase(
  'concurrent leases',
  (server) => {
    it('checks a seat out, extends it by heartbeat, and checks it in', async () => {
      const t = server();
      const { key } = await licensed(t, 'CONCURRENT', { leaseTtlSeconds: 60 });
      const out = (await t.ok(CheckoutSeatDocument, { key, fingerprint: 'host-1', user: 'ada' })).checkoutSeat;
      expect(out).toMatchObject({ outcome: 'GRANTED', reused: false, seatsInUse: 1, seatLimit: 3 });
      const lease = out.lease!;
      expect(lease).toMatchObject({ fingerprint: 'host-1', userId: 'ada', live: true, releasedAt: null });
      expect(Date.parse(lease.expiresAt) - Date.parse(lease.checkedOutAt)).toBe(60_000);

      await t.clock.advance(20);
      const beat = (await t.ok(HeartbeatSeatDocument, { key, leaseId: lease.id })).heartbeatSeat;
      expect(beat.outcome).toBe('EXTENDED');
      expect(Date.parse(beat.lease.expiresAt)).toBeGreaterThan(Date.parse(lease.expiresAt));

      const back = (await t.ok(CheckinSeatDocument, { key, leaseId: lease.id })).checkinSeat;
      expect(back).toMatchObject({ outcome: 'RELEASED', lease: { live: false, releaseReason: 'CHECKED_IN' } });
      expect((await t.ok(CheckinSeatDocument, { key, leaseId: lease.id })).checkinSeat.outcome).toBe('ALREADY_RELEASED');
      expect((await t.ok(HeartbeatSeatDocument, { key, leaseId: lease.id })).heartbeatSeat.outcome).toBe('LEASE_ENDED');
    });

    it('gives the same fingerprint its live lease back instead of a second seat', async () => {
      const t = server();
      const { key, licenseId } = await licensed(t, 'CONCURRENT');
      const first = (await t.ok(CheckoutSeatDocument, { key, fingerprint: 'host-1' })).checkoutSeat;
      const second = (await t.ok(CheckoutSeatDocument, { key, fingerprint: 'host-1' })).checkoutSeat;
      expect(second).toMatchObject({ outcome: 'GRANTED', reused: true, seatsInUse: 1, lease: { id: first.lease!.id } });
      const live = (await t.ok(LeasesDocument, { filter: { licenseId, live: true } })).leases.nodes;
      expect(live.map((l) => l.id)).toEqual([first.lease!.id]);
    });

    it('answers NO_SEAT_AVAILABLE when every concurrent seat is in use, and frees one on checkin', async () => {
      const t = server();
      const { key } = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 1 } });
      const held = (await t.ok(CheckoutSeatDocument, { key, fingerprint: 'a' })).checkoutSeat.lease!;
      const refused = (await t.ok(CheckoutSeatDocument, { key, fingerprint: 'b' })).checkoutSeat;
      expect(refused).toMatchObject({ outcome: 'NO_SEAT_AVAILABLE', lease: null, seatsInUse: 1, seatLimit: 1 });
      await t.ok(CheckinSeatDocument, { key, leaseId: held.id });
      expect((await t.ok(CheckoutSeatDocument, { key, fingerprint: 'b' })).checkoutSeat.outcome).toBe('GRANTED');
    });

    it('grants exactly 20 of 200 concurrent checkouts on a 20-seat license', async () => {
      const t = server();
      const { key, licenseId } = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 20 } });
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => t.request(CheckoutSeatDocument, { key, fingerprint: `machine-${i}` })),
      );
      expect(results.filter((r) => r.errors)).toEqual([]);
      const outcomes = results.map((r) => r.data!.checkoutSeat.outcome);
      expect(outcomes.filter((o) => o === 'GRANTED')).toHaveLength(20);
      expect(outcomes.filter((o) => o === 'NO_SEAT_AVAILABLE')).toHaveLength(180);
      const live = (await t.ok(LeasesDocument, { filter: { licenseId, live: true }, first: 200 })).leases.nodes;
      expect(live).toHaveLength(20);
      expect(new Set(live.map((l) => l.fingerprint)).size).toBe(20);
    });

    it('frees the seat of a lease whose heartbeats stop within its TTL plus the reaper interval', async () => {
      const t = server();
      const { key, licenseId } = await licensed(t, 'CONCURRENT', { leaseTtlSeconds: 1, limits: { concurrentSessions: 1 } });
      const lease = (await t.ok(CheckoutSeatDocument, { key, fingerprint: 'crashed-host' })).checkoutSeat.lease!;
      const deadline = Date.parse(lease.expiresAt) + 300; // TTL plus the reaper interval this suite runs with
      await t.clock.advance(Math.max(0, deadline - t.clock.now().getTime()) + 150);
      // Nobody acted: only the reaper can have ended it.
      const ended = (await t.ok(LeasesDocument, { filter: { licenseId }, first: 10 })).leases.nodes;
      expect(ended).toHaveLength(1);
      expect(ended[0]).toMatchObject({ id: lease.id, live: false, releaseReason: 'EXPIRED' });
      expect(Date.parse(ended[0]!.releasedAt!)).toBeLessThanOrEqual(deadline + 100);
      expect((await t.ok(CheckoutSeatDocument, { key, fingerprint: 'new-host' })).checkoutSeat.outcome).toBe('GRANTED');
    });

    it('refuses checkouts on suspended licenses and ends their leases', async () => {
      const t = server();
      const { key, licenseId } = await licensed(t, 'CONCURRENT');
      const lease = (await t.ok(CheckoutSeatDocument, { key, fingerprint: 'a' })).checkoutSeat.lease!;
      await t.ok(SuspendLicenseDocument, { id: licenseId, reason: 'unpaid invoice' });
      const refused = (await t.ok(CheckoutSeatDocument, { key, fingerprint: 'b' })).checkoutSeat;
      expect(refused).toMatchObject({ outcome: 'LICENSE_INACTIVE', lease: null });
      const beat = (await t.ok(HeartbeatSeatDocument, { key, leaseId: lease.id })).heartbeatSeat;
      expect(beat).toMatchObject({ outcome: 'LEASE_ENDED', lease: { releaseReason: 'LICENSE_INACTIVE' } });
      const validation = (await t.ok(ValidateLicenseDocument, { key, fingerprint: 'a' })).validateLicense;
      expect(validation.checks.map((c) => c.code)).toEqual(['SUSPENDED', 'WITHIN_TERM', 'NO_ACTIVE_LEASE']);
    });

    it('refuses leases on licenses that are not concurrent', async () => {
      const t = server();
      const { key } = await licensed(t, 'USER');
      expect(await t.errorCode(CheckoutSeatDocument, { key, fingerprint: 'a' })).toBe('UNSUPPORTED_LICENSE_TYPE');
    });

    it('does not let one key touch another license’s lease', async () => {
      const t = server();
      const mine = await licensed(t, 'CONCURRENT');
      const theirs = await licensed(t, 'CONCURRENT');
      const lease = (await t.ok(CheckoutSeatDocument, { key: theirs.key, fingerprint: 'x' })).checkoutSeat.lease!;
      expect(await t.errorCode(CheckinSeatDocument, { key: mine.key, leaseId: lease.id })).toBe('NOT_FOUND');
      expect(await t.errorCode(HeartbeatSeatDocument, { key: mine.key, leaseId: lease.id })).toBe('NOT_FOUND');
      const still = (await t.ok(LeasesDocument, { filter: { licenseId: theirs.licenseId } })).leases.nodes;
      expect(still[0]).toMatchObject({ id: lease.id, live: true, lastHeartbeatAt: lease.lastHeartbeatAt });
    });
  },
  { leaseReaperIntervalMs: 300 },
);
