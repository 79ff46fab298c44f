import type { EntityManager, FilterQuery } from '@mikro-orm/knex';
import { Permission } from '../../auth/roles';
import type { Operation } from '../../common/operation';
import { findPage, type Page, type PageArgs } from '../../common/pagination';
import { Lease } from './lease.entity';
import { Seat } from './seat.entity';
import { LeaseNode, type LeaseFilter, type SeatFilter, SeatNode } from './seat.types';
import type { Clock } from '../../common/clock';

export const seatNodeFromEntity = (s: Seat): SeatNode =>
  Object.assign(new SeatNode(), {
    id: s.id,
    licenseId: s.license.id,
    organizationId: s.organization.id,
    userId: s.userId,
    assignedAt: s.assignedAt,
    lastActiveAt: s.lastActiveAt ?? s.assignedAt,
    releasedAt: s.releasedAt ?? null,
    releaseReason: s.releaseReason ?? null,
  });

export const leaseNodeFromEntity = (l: Lease): LeaseNode =>
  Object.assign(new LeaseNode(), {
    id: l.id,
    licenseId: l.license.id,
    organizationId: l.organization.id,
    fingerprint: l.fingerprint,
    userId: l.userId ?? null,
    checkedOutAt: l.checkedOutAt,
    lastHeartbeatAt: l.lastHeartbeatAt,
    expiresAt: l.expiresAt,
    borrowedUntil: l.borrowedUntil ?? null,
    releasedAt: l.releasedAt ?? null,
    releaseReason: l.releaseReason ?? null,
  });

/** Responsible for reading seats and leases for management; the ledgers change them. */
export class SeatService {
  constructor(private readonly clock: Clock) {}

  listSeats(op: Operation, filter: SeatFilter, page: PageArgs): Promise<Page<SeatNode>> {
    op.principal.require(Permission.LICENSE_READ);
    const organizationId = op.principal.scopeOrganization(filter.organizationId);
    const where: FilterQuery<Seat> = {};
    if (organizationId) where.organization = organizationId;
    if (filter.licenseId) where.license = filter.licenseId;
    if (filter.userId) where.userId = filter.userId;
    if (filter.live === true) where.releasedAt = null;
    if (filter.live === false) where.releasedAt = { $ne: null };
    return findPage(op.em, Seat, where, page, seatNodeFromEntity);
  }

  listLeases(op: Operation, filter: LeaseFilter, page: PageArgs): Promise<Page<LeaseNode>> {
    op.principal.require(Permission.LICENSE_READ);
    const organizationId = op.principal.scopeOrganization(filter.organizationId);
    const where: FilterQuery<Lease> = {};
    if (organizationId) where.organization = organizationId;
    if (filter.licenseId) where.license = filter.licenseId;
    if (filter.fingerprint) where.fingerprint = filter.fingerprint;
    const now = this.clock.now();
    if (filter.live === true) Object.assign(where, { releasedAt: null, expiresAt: { $gt: now } });
    if (filter.live === false) where.$or = [{ releasedAt: { $ne: null } }, { expiresAt: { $lte: now } }];
    return findPage(op.em, Lease, where, page, leaseNodeFromEntity);
  }

  /** Seats (USER) and live leases (CONCURRENT) in use per license, in one query for any number of licenses. */
  async seatsInUse(em: EntityManager, licenseIds: readonly string[]): Promise<Map<string, number>> {
    const ids = [...licenseIds];
    const counts = new Map<string, number>(ids.map((id) => [id, 0]));
    const marks = ids.map(() => '?').join(', ');
    const rows = await em.execute<{ license_id: string; n: number | string }[]>(
      `select license_id, count(*) as n from seat where released_at is null and license_id in (${marks}) group by license_id
       union all
       select license_id, count(*) as n from lease where released_at is null and expires_at > ? and license_id in (${marks}) group by license_id`,
      [...ids, this.clock.now(), ...ids],
    );
    for (const row of rows) counts.set(row.license_id, (counts.get(row.license_id) ?? 0) + Number(row.n));
    return counts;
  }
}
