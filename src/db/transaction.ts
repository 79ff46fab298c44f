import { AdvisoryLock } from './advisory-locks';
import type { SqlRunner } from './sql';

/**
 * The locks a write transaction may take, in the one order every transaction takes them: a transaction holding a
 * lock may take another of the same or a later kind, never one of an earlier kind (but for a row it holds
 * already), and license rows in ascending id order. Two transactions that each follow the order can never wait for each other in a circle.
 *
 * - `JOB`: the advisory lock of a whole pass (a compliance scan, the first token): taken first, alone.
 * - `LICENSE`: a license's row; its seats, leases, usage and terms hang off it, so every change to those takes it.
 * - `MIGRATION`: a scheduled license migration's row, taken after its license's.
 * - `LOG`: the order lock of the cursor logs (alerts, compliance events; see CommitOrderedIds).
 * - `VIOLATION`: a violation's row, taken under the log lock that every change of a violation takes first.
 */
export enum Lock {
  JOB = 0,
  LICENSE = 1,
  MIGRATION = 2,
  LOG = 3,
  VIOLATION = 4,
}

/** The advisory locks, by the place each takes in the order. */
const ADVISORY_ORDER: Record<AdvisoryLock, Lock> = {
  [AdvisoryLock.COMPLIANCE_SCAN]: Lock.JOB,
  [AdvisoryLock.BOOTSTRAP]: Lock.JOB,
  [AdvisoryLock.AUDIT_CHAIN]: Lock.JOB,
  [AdvisoryLock.LOG_ORDER]: Lock.LOG,
  // Taken on a connection of its own at start-up, never inside a transaction.
  [AdvisoryLock.MIGRATIONS]: Lock.JOB,
};

/** A transaction asked for a lock out of order: a fault of the code, which a test run finds before a deadlock does. */
export class LockOrderError extends Error {
  override readonly name = 'LockOrderError';
}

/**
 * The one way to write: a transaction that runs plain SQL and takes its locks through itself, so that the order of
 * `Lock` is enforced by code. On PostgreSQL a row lock is `for update` on the select that reads the row; SQLite's
 * write transaction already excludes every other writer, so there the clause is empty, but the order is checked all
 * the same: a test on SQLite finds a transaction that would deadlock on PostgreSQL.
 */
export interface Tx extends SqlRunner {
  readonly dialect: 'sqlite' | 'postgresql';
  /**
   * Notes that the next select locks a row of `kind` (with its id when known) and returns the clause that makes it
   * lock: `for update` on PostgreSQL, nothing on SQLite.
   */
  forUpdate(kind: Lock.LICENSE | Lock.MIGRATION | Lock.VIOLATION, id?: string): string;
  /** Locks a license's row until the transaction ends. */
  lockLicense(id: string): Promise<void>;
  /** Takes an advisory lock until the transaction ends (PostgreSQL; SQLite's writer excludes already). */
  advisoryLock(lock: AdvisoryLock): Promise<void>;
  /** Takes an advisory lock if it is free; false when another transaction holds it. Always true on SQLite. */
  tryAdvisoryLock(lock: AdvisoryLock): Promise<boolean>;
}

/** Tracks the locks a transaction holds and refuses one out of order. */
class LockOrder {
  private highest = -1;
  private lastLicense: string | null = null;
  private readonly held = new Set<string>();

  take(kind: Lock, id = ''): void {
    const key = `${kind}:${id}`;
    // A lock already held is held: asking again waits for nothing.
    if (this.held.has(key)) return;
    if (kind < this.highest) {
      throw new LockOrderError(`A ${Lock[kind]} lock was asked for while holding a ${Lock[this.highest]} lock.`);
    }
    if (kind === Lock.LICENSE && id) {
      if (this.lastLicense !== null && id < this.lastLicense) {
        throw new LockOrderError(`License ${id} was locked after license ${this.lastLicense}: license rows lock in id order.`);
      }
      this.lastLicense = id;
    }
    this.held.add(key);
    this.highest = kind;
  }
}

/** Makes a transaction of a runner inside an open transaction (its methods are closures, free of `this`). */
export function transactionOver(sql: SqlRunner, dialect: Tx['dialect']): Tx {
  const order = new LockOrder();
  const rowLocks = dialect === 'postgresql';
  const forUpdate = (kind: Lock, id?: string) => {
    order.take(kind, id);
    return rowLocks ? 'for update' : '';
  };
  return {
    ...sql,
    dialect,
    forUpdate,
    async lockLicense(id) {
      const clause = forUpdate(Lock.LICENSE, id);
      if (clause) await sql.get(`select id from license where id = ? ${clause}`, [id]);
    },
    async advisoryLock(lock) {
      order.take(ADVISORY_ORDER[lock], String(lock));
      if (rowLocks) await sql.get('select pg_advisory_xact_lock(?)', [lock]);
    },
    async tryAdvisoryLock(lock) {
      order.take(ADVISORY_ORDER[lock], String(lock));
      if (!rowLocks) return true;
      const row = await sql.get<{ locked: boolean }>('select pg_try_advisory_xact_lock(?) as locked', [lock]);
      return row?.locked === true;
    },
  };
}
