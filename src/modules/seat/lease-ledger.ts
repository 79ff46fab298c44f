import { Lock, type Read, type SqlFragment, type Tx } from '../../db/transaction';
import { AuditAction } from '../audit/audit-actions';
import type { Actor } from '../../auth/principal';
import { checkClientArguments } from '../../common/input';
import { newId } from '../../db/ids';
import type { Turns } from '../../db/row-turns';
import { type SqlGateway, type SqlRunner, toDate, toDateOrNull } from '../../db/sql';
import { AppError } from '../../errors';
import type { AuditService } from '../audit/audit.service';
import type { EndedLease } from '../license/license.service';
import type { BesideColumn, KeyedLicense, LicenseCredentials } from '../license/license-credentials';
import { Permission } from '../../auth/roles';
import { type BreachRecorder, overageBreach } from '../../kernel/breach';
import type { DemandRecorder } from '../../kernel/demand';
import type { GrantLookup } from '../usage/demand-log';
import { checkBreaches } from '../license/validation-breaches';
import { decide } from '../../kernel/enforcement';
import { LicenseStatus, LicenseType } from '../../kernel/license.enums';
import { clockCheck } from '../license/validation';
import type { ValidationCheck } from '../license/validation.types';
import type { ManagementCall } from './seat-ledger';
import type { UsageObserver } from '../usage/usage-signals';
import { UsageMetric } from '../usage/usage.types';
import { graceEndsAt } from '../license/validation';
import { LeaseReleaseReason } from './seat.enums';
import type { Enforcement } from '../../kernel/enforcement.types';
import {
  CheckinOutcome,
  type CheckinResult,
  CheckoutOutcome,
  type CheckoutResult,
  HeartbeatOutcome,
  type HeartbeatResult,
  LeaseNode,
} from './seat.types';
import type { Clock } from '../../common/clock';

interface LeaseRow {
  id: string;
  license_id: string;
  organization_id: string;
  fingerprint: string;
  user_id: string | null;
  checked_out_at: unknown;
  last_heartbeat_at: unknown;
  expires_at: unknown;
  borrowed_until: unknown;
  released_at: unknown;
  release_reason: LeaseReleaseReason | null;
  client_clock_at: unknown;
}

const LEASE_COLUMNS =
  'id, license_id, organization_id, fingerprint, user_id, checked_out_at, last_heartbeat_at, expires_at, borrowed_until, released_at, release_reason, client_clock_at';

/** Keys remembered as freed at most (see `LeaseLedger.freedHere`): a few hundred kilobytes. */
const MAX_FREED_KEYS = 10_000;

/** The longest a seat may be borrowed (FlexNet's ceiling), and the shortest. */
export const BORROW_MAX_DAYS = 180;
const BORROW_MIN_MS = 3_600_000;
const DAY_MS = 86_400_000;

const latest = (a: Date, b: Date) => (a > b ? a : b);

export function leaseNodeOf(row: LeaseRow): LeaseNode {
  return Object.assign(new LeaseNode(), {
    id: row.id,
    licenseId: row.license_id,
    organizationId: row.organization_id,
    fingerprint: row.fingerprint,
    userId: row.user_id,
    checkedOutAt: toDate(row.checked_out_at),
    lastHeartbeatAt: toDate(row.last_heartbeat_at),
    expiresAt: toDate(row.expires_at),
    borrowedUntil: toDateOrNull(row.borrowed_until),
    releasedAt: toDateOrNull(row.released_at),
    releaseReason: row.release_reason,
  });
}

const leaseSnapshot = (lease: LeaseNode) => ({
  fingerprint: lease.fingerprint,
  userId: lease.userId,
  expiresAt: lease.expiresAt,
  releasedAt: lease.releasedAt,
  releaseReason: lease.releaseReason,
});

/** A license's sessions, as one statement saw them. */
interface Sessions {
  live: number;
  /** Leases past their TTL that nothing has ended yet. */
  dead: number;
  /** The fingerprint's live lease. */
  liveLeaseId: string | null;
  /** The last client clock the fingerprint's unreleased leases saw. */
  previousClock: Date | null;
}

const termsOf = (license: KeyedLicense) => ({
  limit: license.concurrentSessions ?? 0,
  policy: license.overagePolicy,
  percent: license.overagePercent,
});

function withinTerm(license: KeyedLicense, now: Date): boolean {
  const graceEnd = graceEndsAt(license.expiresAt, license.gracePeriodDays);
  return now >= license.startsAt && !(graceEnd && now >= graceEnd);
}

/** A checkout refused: nothing changed, so nothing is written. */
function refusal(
  license: KeyedLicense,
  outcome: CheckoutOutcome,
  seatsInUse: number,
  detail: string,
  enforcement: Enforcement | null,
  clock: ValidationCheck | null,
): CheckoutResult {
  return { outcome, lease: null, reused: false, seatsInUse, seatLimit: license.concurrentSessions ?? 0, detail, enforcement, clock };
}

/** New leases by fingerprint: a checkout refused and then granted to the same machine was a retry. */
export const LEASE_GRANTS: GrantLookup = {
  async grantsSince(sql, licenseId, clients, since) {
    const rows = await sql.all<{ fingerprint: string; checked_out_at: unknown }>(
      `select fingerprint, checked_out_at from lease where license_id = ? and checked_out_at > ? and fingerprint in (${clients.map(() => '?').join(', ')})`,
      [licenseId, since, ...clients],
    );
    return rows.map((r) => ({ client: r.fingerprint, at: toDate(r.checked_out_at) }));
  },
};

/** Told the outcome of every checkout (borrows included), for the server's metrics. */
export type CheckoutObserver = (outcome: CheckoutOutcome) => void;

export interface ClientCall {
  requestId: string;
  now?: Date;
}

/** What a checkout takes a lease with: its new end, the client's clock, the sessions live before it, who and when. */
interface Taking {
  expiresAt: Date;
  /** A borrow's end (which is then `expiresAt`), or null. */
  borrowedUntil: Date | null;
  clientTime: Date | null;
  seatsInUse: number;
  clock: ValidationCheck | null;
  actor: Actor;
  call: ClientCall;
  now: Date;
}

/**
 * Responsible for concurrent leases: checkout, heartbeat, checkin and expiry. Client applications call it on
 * every session, so it runs plain SQL in one short write transaction per call; the license row is locked
 * (PostgreSQL) or the database is (SQLite) while seats are counted, so a license is never over-allocated.
 */
export class LeaseLedger {
  /**
   * Keys (normalized) a checkin in this process has just freed a seat of, until the next checkout takes its turn: it
   * takes the lock without reading first, where a read would most likely find the seat free (another instance may
   * have taken it meanwhile: the lock decides either way).
   */
  private readonly freedHere = new Set<string>();

  constructor(
    private readonly db: SqlGateway,
    private readonly credentials: LicenseCredentials,
    private readonly audit: AuditService,
    private readonly usage: UsageObserver,
    private readonly breaches: BreachRecorder,
    private readonly turns: Turns,
    private readonly demand: DemandRecorder,
    private readonly clock: Clock,
    private readonly checkouts: CheckoutObserver = () => undefined,
  ) {}

  /** Live leases, online (kept alive by heartbeats) and borrowed, in one grouped count (the server's metrics). */
  async liveCounts(): Promise<Record<'ONLINE' | 'BORROWED', number>> {
    const rows = await this.db.read((sql) =>
      sql.all<{ borrowed: unknown; count: unknown }>(
        `select case when borrowed_until is null then 0 else 1 end as borrowed, count(*) as count
           from lease where released_at is null and expires_at > ? group by case when borrowed_until is null then 0 else 1 end`,
        [this.clock.now()],
      ),
    );
    const counts = { ONLINE: 0, BORROWED: 0 };
    for (const row of rows) counts[Number(row.borrowed) ? 'BORROWED' : 'ONLINE'] = Number(row.count);
    return counts;
  }

  /** A checkout refused for want of a seat: nothing is written, but the demand log is told who went without. */
  private noSeat(
    license: KeyedLicense,
    fingerprint: string,
    seatsInUse: number,
    enforcement: Enforcement,
    clock: ValidationCheck | null,
    now: Date,
  ): CheckoutResult {
    this.demand.denied({
      licenseId: license.id,
      organizationId: license.organizationId,
      subject: UsageMetric.CONCURRENT_SESSIONS,
      client: fingerprint,
      at: now,
    });
    const detail = `All ${license.concurrentSessions ?? 0} concurrent seats are in use. ${enforcement.detail}`;
    return refusal(license, CheckoutOutcome.NO_SEAT_AVAILABLE, seatsInUse, detail, enforcement, clock);
  }

  /** Records a clock the check found tampered with, inside the caller's transaction. */
  private async recordClock(
    sql: SqlRunner,
    license: KeyedLicense,
    clock: ValidationCheck | null,
    clientTime: Date | null,
    actor: Actor,
    call: ClientCall,
    now: Date,
    fingerprint: string,
  ): Promise<void> {
    if (!clock) return;
    for (const breach of checkBreaches(license, { clientTime, fingerprint }, [clock], now)) {
      await this.breaches.record(sql, breach, actor, call.requestId, now);
    }
  }

  /** Tells the usage observer how many sessions a license has now. */
  private async observeSessions(
    sql: Tx,
    license: Pick<KeyedLicense, 'id' | 'organizationId' | 'planId' | 'concurrentSessions'>,
    sessions: number,
    now: Date,
    requestId: string | null,
  ): Promise<void> {
    await this.usage.observe(
      sql,
      {
        licenseId: license.id,
        organizationId: license.organizationId,
        planId: license.planId,
        metric: UsageMetric.CONCURRENT_SESSIONS,
        value: sessions,
        limit: license.concurrentSessions,
        requestId,
      },
      now,
    );
  }

  private actorOf(license: KeyedLicense, fingerprint?: string): Actor {
    return {
      type: 'LICENSE_KEY',
      id: license.id,
      label: `license key …${license.keyHint}${fingerprint ? ` on ${fingerprint.slice(0, 100)}` : ''}`,
    };
  }

  /** Ends the leases of a license whose TTL ran out; returns them, as they are now. */
  private async expireDead(sql: Tx, licenseId: string | null, now: Date, call: ClientCall, actor: Actor | null): Promise<LeaseNode[]> {
    const rows = await sql.all<LeaseRow>(
      `update lease set released_at = ?, release_reason = ?
        where released_at is null and expires_at <= ? ${licenseId ? 'and license_id = ?' : ''}
        returning ${LEASE_COLUMNS}`,
      licenseId ? [now, LeaseReleaseReason.EXPIRED, now, licenseId] : [now, LeaseReleaseReason.EXPIRED, now],
    );
    const leases = rows.map(leaseNodeOf);
    for (const lease of leases) {
      await this.audit.record(sql, {
        actor: actor ?? { type: 'SYSTEM', id: null, label: 'lease reaper' },
        requestId: call.requestId,
        at: now,
        organizationId: lease.organizationId,
        action: AuditAction.LEASE_EXPIRE,
        objectType: 'Lease',
        objectId: lease.id,
        before: { ...leaseSnapshot(lease), releasedAt: null, releaseReason: null },
        after: leaseSnapshot(lease),
      });
    }
    return leases;
  }

  async checkout(
    key: string,
    fingerprint: string,
    userId: string | null,
    call: ClientCall,
    clientTime: Date | null = null,
    borrowUntil: Date | null = null,
  ): Promise<CheckoutResult> {
    checkClientArguments({ fingerprint, user: userId });
    const normalized = this.credentials.normalized(key);
    const result = await this.turns.run(normalized, async (waited) => {
      // In a burst most callers find the license full: a read says so without waiting for the license's lock (a
      // refusal changes nothing). The first in line, the first after a checkin here freed a seat, and any caller a
      // read cannot answer, take the lock. (On SQLite calls take no turns: each decides under the writer, in a batch
      // with the others.)
      const read = waited && !this.freedHere.delete(normalized);
      const refused = read ? await this.db.read((sql) => this.refusalOnRead(sql, key, fingerprint, call, clientTime)) : null;
      return refused ?? this.db.write((sql) => this.checkoutLocked(sql, key, fingerprint, userId, call, clientTime, borrowUntil));
    });
    this.checkouts(result.outcome);
    return result;
  }

  /**
   * Borrows a seat: a lease held offline until `until` (at most BORROW_MAX_DAYS ahead, and never past the license's
   * term and grace period), counted against the limit meanwhile, without heartbeats; the reaper leaves it alone until
   * then, and `checkin` returns it early. The machine's live lease, if it holds one, is the one borrowed.
   */
  borrow(key: string, fingerprint: string, until: Date, userId: string | null, call: ClientCall): Promise<CheckoutResult> {
    const now = call.now ?? this.clock.now();
    if (
      Number.isNaN(until.getTime()) ||
      until.getTime() < now.getTime() + BORROW_MIN_MS ||
      until.getTime() > now.getTime() + BORROW_MAX_DAYS * DAY_MS
    ) {
      throw AppError.badInput(`\`until\` is from an hour to ${BORROW_MAX_DAYS} days ahead.`, 'until');
    }
    return this.checkout(key, fingerprint, userId, { ...call, now }, null, until);
  }

  /**
   * A license's sessions as one statement sees them: live leases, leases past their TTL but not yet ended, the live
   * lease of a fingerprint, and the last client clock its unreleased leases saw.
   */
  private sessionsRead(license: SqlFragment, fingerprint: string, now: Date): Read {
    return {
      sql: `select sum(case when expires_at > ? then 1 else 0 end) as live, sum(case when expires_at <= ? then 1 else 0 end) as dead,
              max(case when fingerprint = ? and expires_at > ? then id end) as live_id,
              max(case when fingerprint = ? then client_clock_at end) as previous_clock
         from lease where license_id = ${license.sql} and released_at is null`,
      params: [now, now, fingerprint, now, fingerprint, ...license.params],
    };
  }

  private sessionsOf(rows: unknown[] | undefined): Sessions {
    const row = rows?.[0] as { live: unknown; dead: unknown; live_id: string | null; previous_clock: unknown } | undefined;
    return {
      live: Number(row?.live ?? 0),
      dead: Number(row?.dead ?? 0),
      liveLeaseId: row?.live_id ?? null,
      previousClock: toDateOrNull(row?.previous_clock),
    };
  }

  /**
   * The refusal a checkout would get for a license that is full, decided on committed data without its lock; null
   * when the locked path must decide (a seat may be free, the machine holds a lease, the license is not active, a
   * clock breach must be recorded).
   */
  private async refusalOnRead(
    sql: SqlRunner,
    key: string,
    fingerprint: string,
    call: ClientCall,
    clientTime: Date | null,
  ): Promise<CheckoutResult | null> {
    const now = call.now ?? this.clock.now();
    // The license and its sessions in one statement: most callers in a burst end here.
    const { license, beside } = await this.credentials.authenticateWith(
      sql,
      key,
      this.sessionsBeside(fingerprint, now),
      '',
      call.requestId,
    );
    if (license.type !== LicenseType.CONCURRENT || license.status !== LicenseStatus.ACTIVE || !withinTerm(license, now)) return null;
    const live = Number(beside.live_sessions ?? 0);
    const clock = clientTime ? clockCheck(clientTime, now, toDateOrNull(beside.previous_clock)) : null;
    if (beside.live_lease != null || (clock && checkBreaches(license, { clientTime, fingerprint }, [clock], now).length > 0)) return null;
    const { enforcement } = decide(UsageMetric.CONCURRENT_SESSIONS, termsOf(license), live, 1);
    return enforcement.allowed ? null : this.noSeat(license, fingerprint, live, enforcement, clock, now);
  }

  private async checkoutLocked(
    sql: Tx,
    key: string,
    fingerprint: string,
    userId: string | null,
    call: ClientCall,
    clientTime: Date | null,
    borrowUntil: Date | null,
  ): Promise<CheckoutResult> {
    const now = call.now ?? this.clock.now();
    // The license locked and its sessions read after the lock, in one round trip.
    const { license, rows } = await this.credentials.authenticateLocked(sql, key, call.requestId, (of) => [
      this.sessionsRead(of, fingerprint, now),
    ]);
    if (license.type !== LicenseType.CONCURRENT) {
      throw AppError.unsupportedLicenseType('checkoutSeat', license.type, [LicenseType.CONCURRENT]);
    }
    const actor = this.actorOf(license, fingerprint);
    const sessions = this.sessionsOf(rows[0]);
    // A machine taking its live lease back must not set its clock behind the one its lease last saw.
    const clock = clientTime ? clockCheck(clientTime, now, sessions.previousClock) : null;
    // The license row is locked: the compliance log's lock comes after it, as everywhere.
    await this.recordClock(sql, license, clock, clientTime, actor, call, now, fingerprint);
    // A refusal changes nothing, so it writes nothing: a client retrying for a busy seat must not grow the audit
    // log with every try. Refusals belong to usage and compliance records, not to the log of changes.
    if (license.status !== LicenseStatus.ACTIVE) {
      return refusal(license, CheckoutOutcome.LICENSE_INACTIVE, 0, `The license is ${license.status}.`, null, clock);
    }
    if (!withinTerm(license, now)) {
      return refusal(license, CheckoutOutcome.LICENSE_EXPIRED, 0, 'The license is outside its term and grace period.', null, clock);
    }

    const ended = sessions.dead > 0 ? await this.expireDead(sql, license.id, now, call, actor) : [];
    if (borrowUntil) await this.checkBorrowPolicy(sql, license, borrowUntil, now);
    // A borrow ends by its date, or with the term and its grace period if they end first.
    const graceEnd = graceEndsAt(license.expiresAt, license.gracePeriodDays);
    const borrowedUntil = borrowUntil && graceEnd && graceEnd < borrowUntil ? graceEnd : borrowUntil;
    const expiresAt = borrowedUntil ?? new Date(now.getTime() + license.leaseTtlSeconds * 1000);
    const seatsInUse = sessions.live;
    // The same machine checking out again gets its live lease back, extended, never a second seat.
    const existing = sessions.liveLeaseId
      ? await sql.get<LeaseRow>(`select ${LEASE_COLUMNS} from lease where id = ?`, [sessions.liveLeaseId])
      : undefined;
    const taking = { expiresAt, borrowedUntil, clientTime, seatsInUse, clock, actor, call, now };
    if (existing) return this.extend(sql, license, existing, taking, ended.length > 0);
    return this.grant(sql, license, fingerprint, userId, taking);
  }

  /** A borrow within the plan's `borrowMaxDays` (0: none). */
  private async checkBorrowPolicy(sql: Tx, license: KeyedLicense, until: Date, now: Date): Promise<void> {
    const plan = await sql.get<{ borrow_max_days: unknown }>('select borrow_max_days from plan where id = ?', [license.planId]);
    const days = Number(plan?.borrow_max_days ?? 0);
    if (days === 0) throw AppError.badInput("The license's plan allows no borrowing.", 'until');
    if (until.getTime() > now.getTime() + days * DAY_MS)
      throw AppError.badInput(`\`until\` is at most ${days} days ahead (the plan's).`, 'until');
  }

  /** The same machine checking out again: its live lease, extended (the sessions counted again if dead ones ended). */
  private async extend(sql: Tx, license: KeyedLicense, existing: LeaseRow, taking: Taking, endedDead: boolean): Promise<CheckoutResult> {
    const { clientTime, seatsInUse, clock, actor, call, now } = taking;
    const before = leaseNodeOf(existing);
    // Taken back, a lease is never shortened: a borrowed one keeps its date (a borrow moves it later, or earlier).
    const expiresAt = taking.borrowedUntil ?? latest(before.expiresAt, taking.expiresAt);
    const borrowedUntil = taking.borrowedUntil ?? before.borrowedUntil;
    await sql.run(
      'update lease set expires_at = ?, borrowed_until = ?, last_heartbeat_at = ?, client_clock_at = coalesce(?, client_clock_at) where id = ?',
      [expiresAt, borrowedUntil, now, clientTime, existing.id],
    );
    const lease = Object.assign(leaseNodeOf(existing), { expiresAt, borrowedUntil, lastHeartbeatAt: now });
    await this.audit.record(sql, {
      actor,
      requestId: call.requestId,
      at: now,
      organizationId: license.organizationId,
      action: AuditAction.LEASE_CHECKOUT_REUSED,
      objectType: 'Lease',
      objectId: lease.id,
      before: leaseSnapshot(before),
      after: leaseSnapshot(lease),
    });
    if (endedDead) await this.observeSessions(sql, license, seatsInUse, now, call.requestId);
    return {
      outcome: CheckoutOutcome.GRANTED,
      lease,
      reused: true,
      seatsInUse,
      seatLimit: license.concurrentSessions ?? 0,
      detail: 'The fingerprint holds this lease already; it was extended.',
      enforcement: null,
      clock,
    };
  }

  /** A new lease, if the limit and the overage policy allow one more session (a breach past the limit is recorded). */
  private async grant(sql: Tx, license: KeyedLicense, fingerprint: string, userId: string | null, taking: Taking): Promise<CheckoutResult> {
    const { expiresAt, clientTime, seatsInUse, clock, actor, call, now } = taking;
    const { enforcement, breach } = decide(UsageMetric.CONCURRENT_SESSIONS, termsOf(license), seatsInUse, 1);
    if (!enforcement.allowed) return this.noSeat(license, fingerprint, seatsInUse, enforcement, clock, now);
    const lease = Object.assign(new LeaseNode(), {
      id: newId(now.getTime()),
      licenseId: license.id,
      organizationId: license.organizationId,
      fingerprint,
      userId,
      checkedOutAt: now,
      lastHeartbeatAt: now,
      expiresAt,
      borrowedUntil: taking.borrowedUntil,
      releasedAt: null,
      releaseReason: null,
    });
    sql.queue(
      `insert into lease (id, license_id, organization_id, fingerprint, user_id, checked_out_at, last_heartbeat_at, expires_at, borrowed_until, client_clock_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [lease.id, license.id, license.organizationId, fingerprint, userId, now, now, expiresAt, taking.borrowedUntil, clientTime],
    );
    await this.audit.record(sql, {
      actor,
      requestId: call.requestId,
      at: now,
      organizationId: license.organizationId,
      action: AuditAction.LEASE_CHECKOUT,
      objectType: 'Lease',
      objectId: lease.id,
      after: leaseSnapshot(lease),
    });
    await this.observeSessions(sql, license, seatsInUse + 1, now, call.requestId);
    if (breach) await this.breaches.record(sql, overageBreach(license, enforcement), actor, call.requestId, now);
    return {
      outcome: CheckoutOutcome.GRANTED,
      lease,
      reused: false,
      seatsInUse: seatsInUse + 1,
      seatLimit: license.concurrentSessions ?? 0,
      detail: breach ? `A seat was checked out over the limit. ${enforcement.detail}` : 'A seat was checked out.',
      enforcement,
      clock,
    };
  }

  /** A lease of the key's license, or NOT_FOUND: a key reaches no other license's leases. */
  private async leaseOf(sql: SqlRunner, license: KeyedLicense, leaseId: string): Promise<LeaseRow> {
    const row = await sql.get<LeaseRow>(`select ${LEASE_COLUMNS} from lease where id = ? and license_id = ?`, [leaseId, license.id]);
    if (!row) throw AppError.notFound('Lease', leaseId);
    return row;
  }

  /**
   * As `leaseOf`'s select, with the license's live sessions counted in the same statement (`live_sessions`); the
   * license named by `license` (its id, or a select of it).
   */
  private leaseAmongLiveRead(license: SqlFragment, leaseId: string, now: Date): Read {
    return {
      sql: `select ${LEASE_COLUMNS},
              (select count(*) from lease live where live.license_id = ${license.sql} and live.released_at is null and live.expires_at > ?) as live_sessions
         from lease where id = ? and license_id = ${license.sql}`,
      params: [...license.params, now, leaseId, ...license.params],
    };
  }

  /** The lease `leaseAmongLiveRead` found; NOT_FOUND without one. Async: the step a checkin awaits once it has counted (a test holds it there). */
  private async leaseAmongLive(rows: unknown[] | undefined, leaseId: string): Promise<LeaseRow & { live_sessions: unknown }> {
    const row = rows?.[0] as (LeaseRow & { live_sessions: unknown }) | undefined;
    if (!row) throw AppError.notFound('Lease', leaseId);
    return row;
  }

  async heartbeat(key: string, leaseId: string, call: ClientCall, clientTime: Date | null = null): Promise<HeartbeatResult> {
    return this.db.write(async (sql) => {
      const now = call.now ?? this.clock.now();
      const license = await this.credentials.authenticate(sql, key, '', call.requestId);
      const row = await this.leaseOf(sql, license, leaseId);
      const clock = clientTime ? clockCheck(clientTime, now, toDateOrNull(row.client_clock_at)) : null;
      const result = await this.keepAlive(sql, license, row, call, now, clientTime);
      // Last: the paths above may lock the license row, which comes before the compliance log's lock.
      await this.recordClock(sql, license, clock, clientTime, this.actorOf(license, row.fingerprint), call, now, row.fingerprint);
      return { ...result, clock };
    });
  }

  private async keepAlive(
    sql: Tx,
    license: KeyedLicense,
    row: LeaseRow,
    call: ClientCall,
    now: Date,
    clientTime: Date | null,
  ): Promise<Omit<HeartbeatResult, 'clock'>> {
    const before = leaseNodeOf(row);
    const actor = this.actorOf(license, before.fingerprint);
    if (before.releasedAt) return { outcome: HeartbeatOutcome.LEASE_ENDED, lease: before };
    if (before.expiresAt <= now) {
      await sql.lockLicense(license.id);
      const [expired] = await this.expireDead(sql, license.id, now, call, actor);
      await this.observeSessions(sql, license, await this.countLive(sql, license.id, now), now, call.requestId);
      return { outcome: HeartbeatOutcome.LEASE_ENDED, lease: expired ?? before };
    }
    if (license.status !== LicenseStatus.ACTIVE) {
      // A suspended or revoked license ends its sessions at their next heartbeat.
      await sql.lockLicense(license.id);
      const ended = await this.release(sql, before, LeaseReleaseReason.LICENSE_INACTIVE, actor, call, now);
      await this.observeSessions(sql, license, await this.countLive(sql, license.id, now), now, call.requestId);
      return { outcome: HeartbeatOutcome.LEASE_ENDED, lease: ended };
    }
    // A heartbeat never shortens a lease: a borrowed one stays borrowed until its date.
    const expiresAt = latest(before.expiresAt, new Date(now.getTime() + license.leaseTtlSeconds * 1000));
    await sql.run('update lease set expires_at = ?, last_heartbeat_at = ?, client_clock_at = coalesce(?, client_clock_at) where id = ?', [
      expiresAt,
      now,
      clientTime,
      before.id,
    ]);
    const lease = Object.assign(leaseNodeOf(row), { expiresAt, lastHeartbeatAt: now });
    await this.audit.record(sql, {
      actor,
      requestId: call.requestId,
      at: now,
      organizationId: license.organizationId,
      action: AuditAction.LEASE_HEARTBEAT,
      objectType: 'Lease',
      objectId: lease.id,
      before: leaseSnapshot(before),
      after: leaseSnapshot(lease),
    });
    return { outcome: HeartbeatOutcome.EXTENDED, lease };
  }

  async checkin(key: string, leaseId: string, call: ClientCall): Promise<CheckinResult> {
    const normalized = this.credentials.normalized(key);
    return this.turns.run(normalized, () =>
      this.db.write(async (sql) => {
        const now = call.now ?? this.clock.now();
        // Locked like a checkout's, so that the count observed after the release is the count at commit.
        const { license, rows } = await this.credentials.authenticateLocked(sql, key, call.requestId, (of) => [
          this.leaseAmongLiveRead(of, leaseId, now),
        ]);
        const row = await this.leaseAmongLive(rows[0], leaseId);
        const before = leaseNodeOf(row);
        if (before.releasedAt) return { outcome: CheckinOutcome.ALREADY_RELEASED, lease: before };
        const lease = await this.release(sql, before, LeaseReleaseReason.CHECKED_IN, this.actorOf(license, before.fingerprint), call, now);
        // Counted under the license's lock, with the lease: one fewer now if it was among them.
        const live = Number(row.live_sessions) - (before.expiresAt > now ? 1 : 0);
        await this.observeSessions(sql, license, live, now, call.requestId);
        // Once committed, before the next in line takes its turn: that checkout would most likely find the seat free.
        sql.afterCommit(() => {
          if (this.freedHere.size >= MAX_FREED_KEYS) this.freedHere.clear();
          this.freedHere.add(normalized);
        });
        return { outcome: CheckinOutcome.RELEASED, lease };
      }),
    );
  }

  private async release(
    sql: Tx,
    before: LeaseNode,
    reason: LeaseReleaseReason,
    actor: Actor,
    call: ClientCall,
    now: Date,
  ): Promise<LeaseNode> {
    sql.queue('update lease set released_at = ?, release_reason = ? where id = ? and released_at is null', [now, reason, before.id]);
    const lease = Object.assign(new LeaseNode(), before, { releasedAt: now, releaseReason: reason });
    await this.audit.record(sql, {
      actor,
      requestId: call.requestId,
      at: now,
      organizationId: lease.organizationId,
      action: reason === LeaseReleaseReason.CHECKED_IN ? AuditAction.LEASE_CHECKIN : AuditAction.LEASE_END,
      objectType: 'Lease',
      objectId: lease.id,
      before: leaseSnapshot(before),
      after: leaseSnapshot(lease),
    });
    return lease;
  }

  /**
   * The live leases of a license, oldest heartbeat first; the first `count` of them, or all. Which leases a
   * remediation ends, and which its preview names.
   */
  async oldestHeartbeats(sql: SqlRunner, licenseId: string, now: Date, count: number | null): Promise<LeaseNode[]> {
    const rows = await sql.all<LeaseRow>(
      `select ${LEASE_COLUMNS} from lease where license_id = ? and released_at is null and expires_at > ?
        order by last_heartbeat_at, id${count === null ? '' : ' limit ?'}`,
      count === null ? [licenseId, now] : [licenseId, now, count],
    );
    return rows.map(leaseNodeOf);
  }

  /**
   * Ends `count` live leases of a license, those whose heartbeats are oldest first (see `oldestHeartbeats`), for an
   * administrator (remediating a concurrency overage); returns them ended. Each end is audited; the session count is
   * observed once after. `first` runs in the same transaction before any ends, told which will (a remediation notes
   * itself).
   */
  async endLeases(
    call: ManagementCall,
    licenseId: string,
    count: number,
    first: (sql: Tx, leases: LeaseNode[]) => Promise<unknown>,
  ): Promise<LeaseNode[]> {
    call.principal.require(Permission.SEAT_MANAGE);
    return this.db.write(async (sql) => {
      const now = this.clock.now();
      const license = await sql.get<{ organization_id: string }>(
        `select organization_id from license where id = ? ${sql.forUpdate(Lock.LICENSE, licenseId)}`,
        [licenseId],
      );
      if (!license) throw AppError.notFound('License', licenseId);
      call.principal.requireObject(Permission.SEAT_MANAGE, license.organization_id, 'License', licenseId);
      const leases = await this.oldestHeartbeats(sql, licenseId, now, count);
      const actor = call.principal.requireActor();
      await first(sql, leases);
      const ended: LeaseNode[] = [];
      for (const lease of leases) ended.push(await this.release(sql, lease, LeaseReleaseReason.ENDED_BY_ADMIN, actor, call, now));
      await this.recountIn(sql, licenseId, now, call.requestId);
      return ended;
    });
  }

  /** The live leases of a license, oldest heartbeat first. */
  async liveLeases(
    sql: SqlRunner,
    licenseId: string,
    now: Date,
  ): Promise<{ id: string; fingerprint: string; userId: string | null; lastHeartbeatAt: Date }[]> {
    return (await this.oldestHeartbeats(sql, licenseId, now, null)).map(({ id, fingerprint, userId, lastHeartbeatAt }) => ({
      id,
      fingerprint,
      userId,
      lastHeartbeatAt,
    }));
  }

  /**
   * Ends leases inside the caller's transaction (a migration), each audited; the caller observes the new count once,
   * against the license's new limit.
   */
  async endIn(sql: Tx, leaseIds: readonly string[], reason: LeaseReleaseReason, actor: Actor, requestId: string, now: Date): Promise<void> {
    for (const id of leaseIds) {
      const row = await sql.get<LeaseRow>(`select ${LEASE_COLUMNS} from lease where id = ? and released_at is null`, [id]);
      if (row) await this.release(sql, leaseNodeOf(row), reason, actor, { requestId }, now);
    }
  }

  /** How many leases are live (not released, not past their expiry); usage asks this. */
  async countLive(sql: SqlRunner, licenseId: string, now: Date): Promise<number> {
    const row = await sql.get<{ n: number | string }>(
      'select count(*) as n from lease where license_id = ? and released_at is null and expires_at > ?',
      [licenseId, now],
    );
    return Number(row?.n ?? 0);
  }

  /**
   * A license's sessions as `sessionsRead` reads them, beside the license, for a decision on committed data (never
   * under its lock, where they are read after it): `live_sessions`, `live_lease` (the machine's) and `previous_clock`.
   */
  private sessionsBeside(fingerprint: string, now: Date): BesideColumn[] {
    return [
      {
        expression:
          '(select count(*) from lease where lease.license_id = license.id and lease.released_at is null and lease.expires_at > ?)',
        params: [now],
        as: 'live_sessions',
      },
      this.liveLeaseBeside(fingerprint, now, 'live_lease'),
      {
        expression:
          '(select max(lease.client_clock_at) from lease where lease.license_id = license.id and lease.fingerprint = ? and lease.released_at is null)',
        params: [fingerprint],
        as: 'previous_clock',
      },
    ];
  }

  /** Whether a machine holds a live lease, read beside its license (validation asks): the lease's id, or null. */
  liveLeaseBeside(fingerprint: string, now: Date, as: string): BesideColumn {
    return {
      expression:
        '(select lease.id from lease where lease.license_id = license.id and lease.fingerprint = ? and lease.released_at is null and lease.expires_at > ?)',
      params: [fingerprint, now],
      as,
    };
  }

  /** The live lease a machine holds on a license, if any. */
  async liveLease(sql: SqlRunner, licenseId: string, fingerprint: string, now: Date): Promise<{ id: string } | null> {
    const row = await sql.get<{ id: string }>(
      'select id from lease where license_id = ? and fingerprint = ? and released_at is null and expires_at > ?',
      [licenseId, fingerprint, now],
    );
    return row ?? null;
  }

  /** Counts a license's live sessions again and tells the usage observer: after leases ended elsewhere. */
  recount(licenseId: string, requestId: string | null = null, now = this.clock.now()): Promise<void> {
    return this.db.write((sql) => this.recountIn(sql, licenseId, now, requestId));
  }

  private async recountIn(sql: Tx, licenseId: string, now: Date, requestId: string | null): Promise<void> {
    const license = await sql.get<{ organization_id: string; plan_id: string; concurrent_sessions: number | null }>(
      `select organization_id, plan_id, concurrent_sessions from license where id = ? ${sql.forUpdate(Lock.LICENSE, licenseId)}`,
      [licenseId],
    );
    if (!license) return;
    const limit = license.concurrent_sessions === null ? null : Number(license.concurrent_sessions);
    const observed = { id: licenseId, organizationId: license.organization_id, planId: license.plan_id, concurrentSessions: limit };
    await this.observeSessions(sql, observed, await this.countLive(sql, licenseId, now), now, requestId);
  }

  /** Ends every lease whose heartbeats stopped, in every license; the reaper job calls this. */
  async reap(requestId: string, now = this.clock.now()): Promise<number> {
    return this.db.write(async (sql) => {
      // The licenses whose leases it ends are locked first, in id order (as checkouts lock one), so that the counts
      // it observes are the counts at commit.
      const lock = sql.forUpdate(Lock.LICENSE);
      if (lock) {
        await sql.all(
          `select id from license where id in (select license_id from lease where released_at is null and expires_at <= ?) order by id ${lock}`,
          [now],
        );
      }
      const expired = await this.expireDead(sql, null, now, { requestId, now }, null);
      for (const licenseId of new Set(expired.map((lease) => lease.licenseId))) await this.recountIn(sql, licenseId, now, requestId);
      return expired.length;
    });
  }

  /**
   * Ends the live leases of a license inside the caller's transaction (suspension, revocation), which holds the
   * license's lock; returns those it ended, in the order checked out. Their audit events are the caller's license
   * event, which names the count. Leases already past their expiry end as what they are, expired, at their expiry,
   * and are not among those returned: they were no live sessions.
   */
  async endAllOf(tx: Tx, licenseId: string, now: Date): Promise<EndedLease[]> {
    await tx.run(
      'update lease set released_at = expires_at, release_reason = ? where license_id = ? and released_at is null and expires_at <= ?',
      [LeaseReleaseReason.EXPIRED, licenseId, now],
    );
    const ended = await tx.all<EndedLease>('select id, fingerprint from lease where license_id = ? and released_at is null order by id', [
      licenseId,
    ]);
    if (ended.length > 0) {
      await tx.run('update lease set released_at = ?, release_reason = ? where license_id = ? and released_at is null', [
        now,
        LeaseReleaseReason.LICENSE_INACTIVE,
        licenseId,
      ]);
    }
    return ended;
  }
}
