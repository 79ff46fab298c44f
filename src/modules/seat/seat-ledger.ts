import type { Actor, Principal } from '../../auth/principal';
import { AuditAction } from '../audit/audit-actions';
import { Permission } from '../../auth/roles';
import { newId } from '../../db/ids';
import { type SqlGateway, type SqlRunner, toDate, toDateOrNull } from '../../db/sql';
import { AppError } from '../../errors';
import type { AuditService } from '../audit/audit.service';
import { type BreachRecorder, overageBreach } from '../../kernel/breach';
import type { DemandRecorder } from '../../kernel/demand';
import type { GrantLookup } from '../usage/demand-log';
import { decide } from '../../kernel/enforcement';
import type { HeldSeat } from '../license/validation.service';
import { LicenseStatus, LicenseType, type OveragePolicy } from '../../kernel/license.enums';
import type { UsageObserver } from '../usage/usage-signals';
import { UsageMetric } from '../usage/usage.types';
import { SeatReleaseReason } from './seat.enums';
import { AssignSeatOutcome, type AssignSeatResult, ReleaseSeatOutcome, type ReleaseSeatResult, SeatNode } from './seat.types';
import { Lock, type Tx } from '../../db/transaction';
import type { Clock } from '../../common/clock';

interface SeatRow {
  id: string;
  license_id: string;
  organization_id: string;
  user_id: string;
  assigned_at: unknown;
  last_active_at: unknown;
  released_at: unknown;
  release_reason: SeatReleaseReason | null;
}

const SEAT_COLUMNS = 'id, license_id, organization_id, user_id, assigned_at, last_active_at, released_at, release_reason';

/** Users inactive longest first; a user never active since assigned counts from the assignment. */
const LEAST_ACTIVE_FIRST = 'order by coalesce(last_active_at, assigned_at), id';

export function seatNodeOf(row: SeatRow): SeatNode {
  return Object.assign(new SeatNode(), {
    id: row.id,
    licenseId: row.license_id,
    organizationId: row.organization_id,
    userId: row.user_id,
    assignedAt: toDate(row.assigned_at),
    lastActiveAt: toDate(row.last_active_at ?? row.assigned_at),
    releasedAt: toDateOrNull(row.released_at),
    releaseReason: row.release_reason,
  });
}

const seatSnapshot = (seat: SeatNode) => ({
  licenseId: seat.licenseId,
  userId: seat.userId,
  releasedAt: seat.releasedAt,
  releaseReason: seat.releaseReason,
});

export interface ManagementCall {
  principal: Principal;
  requestId: string;
}

/** Seats assigned by user: an assignment refused and then made for the same user was a retry. */
export const SEAT_GRANTS: GrantLookup = {
  async grantsSince(sql, licenseId, clients, since) {
    const rows = await sql.all<{ user_id: string; assigned_at: unknown }>(
      `select user_id, assigned_at from seat where license_id = ? and assigned_at > ? and user_id in (${clients.map(() => '?').join(', ')})`,
      [licenseId, since, ...clients],
    );
    return rows.map((r) => ({ client: r.user_id, at: toDate(r.assigned_at) }));
  },
};

/**
 * Responsible for named seats of USER licenses: assignment and release. Like the lease ledger it counts and
 * assigns inside one write transaction with the license row locked, so that concurrent assignments can never
 * exceed the licensed number of users.
 */
export class SeatLedger {
  constructor(
    private readonly db: SqlGateway,
    private readonly audit: AuditService,
    private readonly usage: UsageObserver,
    private readonly breaches: BreachRecorder,
    private readonly demand: DemandRecorder,
    private readonly clock: Clock,
  ) {}

  /** Tells the usage observer how many named users a license has now. */
  private async observeUsers(
    sql: Tx,
    license: { licenseId: string; organizationId: string; planId: string; limit: number | null; requestId: string },
    now: Date,
  ): Promise<void> {
    const value = await this.countLive(sql, license.licenseId);
    await this.usage.observe(sql, { ...license, metric: UsageMetric.ACTIVE_USERS, value }, now);
  }

  private async lockLicense(sql: Tx, call: ManagementCall, licenseId: string) {
    // The right first: a caller without it learns nothing of which licenses exist.
    call.principal.require(Permission.SEAT_MANAGE);
    const license = await sql.get<{
      organization_id: string;
      plan_id: string;
      type: LicenseType;
      status: LicenseStatus;
      named_users: number | null;
      overage_policy: OveragePolicy;
      overage_percent: number | null;
    }>(
      `select organization_id, plan_id, type, status, named_users, overage_policy, overage_percent from license where id = ? ${sql.forUpdate(Lock.LICENSE, licenseId)}`,
      [licenseId],
    );
    if (!license) throw AppError.notFound('License', licenseId);
    call.principal.requireObject(Permission.SEAT_MANAGE, license.organization_id, 'License', licenseId);
    return license;
  }

  /** The user's live seat of a license, if any, and how many live seats the license has. */
  private async seatsHeld(sql: SqlRunner, licenseId: string, user: string): Promise<{ existing: SeatRow | undefined; seatsInUse: number }> {
    const existing = await sql.get<SeatRow>(
      `select ${SEAT_COLUMNS} from seat where license_id = ? and user_id = ? and released_at is null`,
      [licenseId, user],
    );
    const count = await sql.get<{ n: number | string }>('select count(*) as n from seat where license_id = ? and released_at is null', [
      licenseId,
    ]);
    return { existing, seatsInUse: Number(count?.n ?? 0) };
  }

  async assign(call: ManagementCall, licenseId: string, userId: string): Promise<AssignSeatResult> {
    const user = userId.trim();
    if (!user) throw AppError.badInput('A seat is assigned to a user: `userId` is empty.', 'userId');
    return this.db.write(async (sql) => {
      const now = this.clock.now();
      const license = await this.lockLicense(sql, call, licenseId);
      if (license.type !== LicenseType.USER) throw AppError.unsupportedLicenseType('assignSeat', license.type, [LicenseType.USER]);
      if (license.status === LicenseStatus.REVOKED) throw AppError.invalidTransition('license', 'REVOKED', 'assign a seat on');
      const seatLimit = Number(license.named_users ?? 0);
      const { existing, seatsInUse } = await this.seatsHeld(sql, licenseId, user);
      if (existing) {
        return { outcome: AssignSeatOutcome.ALREADY_ASSIGNED, seat: seatNodeOf(existing), seatsInUse, seatLimit, enforcement: null };
      }
      const terms = {
        limit: seatLimit,
        policy: license.overage_policy,
        percent: license.overage_percent === null ? null : Number(license.overage_percent),
      };
      const { enforcement, breach } = decide(UsageMetric.ACTIVE_USERS, terms, seatsInUse, 1);
      // A refusal changes nothing and writes nothing (see LeaseLedger.checkout).
      if (!enforcement.allowed) {
        this.demand.denied({
          licenseId,
          organizationId: license.organization_id,
          subject: UsageMetric.ACTIVE_USERS,
          client: user,
          at: now,
        });
        return { outcome: AssignSeatOutcome.NO_SEAT_AVAILABLE, seat: null, seatsInUse, seatLimit, enforcement };
      }
      const seat = Object.assign(new SeatNode(), {
        id: newId(now.getTime()),
        licenseId,
        organizationId: license.organization_id,
        userId: user,
        assignedAt: now,
        lastActiveAt: now,
        releasedAt: null,
        releaseReason: null,
      });
      await sql.run('insert into seat (id, license_id, organization_id, user_id, assigned_at) values (?, ?, ?, ?, ?)', [
        seat.id,
        licenseId,
        seat.organizationId,
        user,
        now,
      ]);
      await this.audit.record(sql, {
        actor: call.principal.requireActor(),
        requestId: call.requestId,
        at: now,
        organizationId: seat.organizationId,
        action: AuditAction.SEAT_ASSIGN,
        objectType: 'Seat',
        objectId: seat.id,
        after: seatSnapshot(seat),
      });
      await this.observeUsers(
        sql,
        { licenseId, organizationId: seat.organizationId, planId: license.plan_id, limit: seatLimit, requestId: call.requestId },
        now,
      );
      if (breach) {
        await this.breaches.record(
          sql,
          overageBreach({ id: licenseId, organizationId: seat.organizationId }, enforcement),
          call.principal.requireActor(),
          call.requestId,
          now,
        );
      }
      return { outcome: AssignSeatOutcome.ASSIGNED, seat, seatsInUse: seatsInUse + 1, seatLimit, enforcement };
    });
  }

  async release(call: ManagementCall, seatId: string): Promise<ReleaseSeatResult> {
    return this.db.write(async (sql) => this.releaseIn(sql, call, seatId, SeatReleaseReason.RELEASED_BY_ADMIN, this.clock.now()));
  }

  private async releaseIn(sql: Tx, call: ManagementCall, seatId: string, reason: SeatReleaseReason, now: Date): Promise<ReleaseSeatResult> {
    call.principal.require(Permission.SEAT_MANAGE);
    // The seat with its license's plan and limit, which the usage observer needs once the seat is released.
    const row = await sql.get<SeatRow & { named_users: number | null; plan_id: string }>(
      `select ${SEAT_COLUMNS}, (select named_users from license where license.id = seat.license_id) as named_users,
         (select plan_id from license where license.id = seat.license_id) as plan_id from seat where id = ?`,
      [seatId],
    );
    if (!row) throw AppError.notFound('Seat', seatId);
    call.principal.requireObject(Permission.SEAT_MANAGE, row.organization_id, 'Seat', seatId);
    const before = seatNodeOf(row);
    if (before.releasedAt) return { outcome: ReleaseSeatOutcome.ALREADY_RELEASED, seat: before };
    // Locked like an assignment's, so that the count observed after the release is the count at commit.
    await sql.lockLicense(row.license_id);
    await sql.run('update seat set released_at = ?, release_reason = ? where id = ? and released_at is null', [now, reason, seatId]);
    const seat = Object.assign(seatNodeOf(row), { releasedAt: now, releaseReason: reason });
    const limit = row.named_users === null ? null : Number(row.named_users);
    await this.observeUsers(
      sql,
      { licenseId: seat.licenseId, organizationId: seat.organizationId, planId: row.plan_id, limit, requestId: call.requestId },
      now,
    );
    await this.audit.record(sql, {
      actor: call.principal.requireActor(),
      requestId: call.requestId,
      at: now,
      organizationId: seat.organizationId,
      action: AuditAction.SEAT_RELEASE,
      objectType: 'Seat',
      objectId: seat.id,
      before: seatSnapshot(before),
      after: seatSnapshot(seat),
    });
    return { outcome: ReleaseSeatOutcome.RELEASED, seat };
  }

  /**
   * The live seats of a license, their users inactive longest first (never active: since assigned); the first `count`
   * of them, or all. Which seats a remediation releases, and which its preview names.
   */
  async leastActive(sql: SqlRunner, licenseId: string, count: number | null): Promise<SeatNode[]> {
    const rows = await sql.all<SeatRow>(
      `select ${SEAT_COLUMNS} from seat where license_id = ? and released_at is null ${LEAST_ACTIVE_FIRST}${count === null ? '' : ' limit ?'}`,
      count === null ? [licenseId] : [licenseId, count],
    );
    return rows.map(seatNodeOf);
  }

  /**
   * Releases the live seats of a license whose users were inactive longest, `count` of them (see `leastActive`);
   * returns them released, as INACTIVE. Each release is audited and observed one by one.
   * `first` runs in the same transaction before any is released, told which will be (a remediation notes itself).
   */
  async releaseLeastActive(
    call: ManagementCall,
    licenseId: string,
    count: number,
    first: (sql: Tx, seats: SeatNode[]) => Promise<unknown>,
  ): Promise<SeatNode[]> {
    return this.db.write(async (sql) => {
      const now = this.clock.now();
      await this.lockLicense(sql, call, licenseId);
      const seats = await this.leastActive(sql, licenseId, count);
      await first(sql, seats);
      const released: SeatNode[] = [];
      for (const { id } of seats) released.push((await this.releaseIn(sql, call, id, SeatReleaseReason.INACTIVE, now)).seat);
      return released;
    });
  }

  /** The live seats of a license, their users least recently active first (never active: since assigned). */
  async liveSeats(sql: SqlRunner, licenseId: string): Promise<{ id: string; userId: string; lastActiveAt: Date }[]> {
    return (await this.leastActive(sql, licenseId, null)).map(({ id, userId, lastActiveAt }) => ({ id, userId, lastActiveAt }));
  }

  /**
   * Releases seats inside the caller's transaction (a migration), each audited with the reason; the caller observes
   * the new count once, against the license's new limit.
   */
  async releaseSeats(
    sql: Tx,
    seatIds: readonly string[],
    reason: SeatReleaseReason,
    actor: Actor,
    requestId: string,
    now: Date,
  ): Promise<void> {
    for (const id of seatIds) {
      const row = await sql.get<SeatRow>(`select ${SEAT_COLUMNS} from seat where id = ? and released_at is null`, [id]);
      if (!row) continue;
      await sql.run('update seat set released_at = ?, release_reason = ? where id = ?', [now, reason, id]);
      const before = seatNodeOf(row);
      const after = Object.assign(seatNodeOf(row), { releasedAt: now, releaseReason: reason });
      await this.audit.record(sql, {
        actor,
        requestId,
        at: now,
        organizationId: row.organization_id,
        action: AuditAction.SEAT_RELEASE,
        objectType: 'Seat',
        objectId: id,
        before: seatSnapshot(before),
        after: seatSnapshot(after),
      });
    }
  }

  /**
   * Gives users named seats inside the caller's transaction (a migration to USER), each audited, with when each user
   * was last active (so that the seats inactive longest are still known as such).
   */
  async assignSeats(
    sql: Tx,
    license: { id: string; organizationId: string },
    users: readonly { userId: string; lastActiveAt: Date | null }[],
    actor: Actor,
    requestId: string,
    now: Date,
  ): Promise<void> {
    for (const { userId, lastActiveAt } of users) {
      const seat = Object.assign(new SeatNode(), {
        id: newId(now.getTime()),
        licenseId: license.id,
        organizationId: license.organizationId,
        userId,
        assignedAt: now,
        lastActiveAt: lastActiveAt ?? now,
        releasedAt: null,
        releaseReason: null,
      });
      await sql.run('insert into seat (id, license_id, organization_id, user_id, assigned_at, last_active_at) values (?, ?, ?, ?, ?, ?)', [
        seat.id,
        license.id,
        license.organizationId,
        userId,
        now,
        lastActiveAt,
      ]);
      await this.audit.record(sql, {
        actor,
        requestId,
        at: now,
        organizationId: license.organizationId,
        action: AuditAction.SEAT_ASSIGN,
        objectType: 'Seat',
        objectId: seat.id,
        after: seatSnapshot(seat),
      });
    }
  }

  /** How many named users hold a seat; usage asks this. */
  async countLive(sql: SqlRunner, licenseId: string): Promise<number> {
    const row = await sql.get<{ n: number | string }>('select count(*) as n from seat where license_id = ? and released_at is null', [
      licenseId,
    ]);
    return Number(row?.n ?? 0);
  }

  /**
   * A named user's live seat, with how many live seats the license has; validation asks this. Where the license is
   * over its limit, also the seat's rank among them in the order assigned, which decides whether it is within.
   */
  async seatOf(sql: SqlRunner, licenseId: string, userId: string, limit: number | null): Promise<HeldSeat | null> {
    const row = await sql.get<{ id: string; last_active_at: unknown; total: number | string }>(
      `select id, last_active_at, (select count(*) from seat o where o.license_id = seat.license_id and o.released_at is null) as total
         from seat where license_id = ? and user_id = ? and released_at is null`,
      [licenseId, userId.trim()],
    );
    if (!row) return null;
    const total = Number(row.total);
    let rank = total;
    if (limit !== null && total > limit) {
      const ranked = await sql.get<{ n: number | string }>(
        'select count(*) as n from seat where license_id = ? and released_at is null and id <= ?',
        [licenseId, row.id],
      );
      rank = Number(ranked?.n ?? total);
    }
    return { id: row.id, rank, total, lastActiveAt: toDateOrNull(row.last_active_at) };
  }

  async touch(sql: SqlRunner, seatId: string, now: Date): Promise<void> {
    await sql.run('update seat set last_active_at = ? where id = ?', [now, seatId]);
  }
}
