import { AdvisoryLock } from './advisory-locks';
import type { SqlRunner, SqlValue } from './sql';

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
  /**
   * Queues a write whose result nobody reads (an `insert`, an upsert): it runs before the transaction's next
   * statement, or before its commit, and on PostgreSQL together with the writes queued beside it, in one statement
   * and one round trip. Writes queued together run as parts of one statement do: none sees what another changed, so
   * they must not depend on each other nor change the same row; a failure fails the statement that flushed them.
   * The ORM's own statements (in `withEntities`) do not run them first: what the ORM reads must not be queued.
   */
  queue(sql: string, params: readonly SqlValue[]): void;
  /** Runs what is queued now (the gateway does before it commits). */
  flush(): Promise<void>;
  /**
   * Selects that depend on none of each other, read together: on PostgreSQL in one statement and one round trip
   * (each as a JSON array, the queued writes travelling with it when every read is `besideQueued`), so their rows
   * hold what JSON holds (timestamps as ISO text, numbers as numbers) in no promised order; on SQLite one after the
   * other, as `all`.
   */
  readTogether(reads: readonly Read[]): Promise<unknown[][]>;
  /**
   * Reads with `lock` (a select that locks what it reads: `forUpdate`'s clause), then each of `reads`, which see
   * what the lock's last holder committed: on PostgreSQL in one round trip where their values allow (a message of
   * several statements, each reading with a snapshot taken when the one before it is done), with the transaction's
   * `begin` when they are its first; elsewhere one after the other. The rows of each, in order.
   */
  lockThenRead(lock: Read, reads: readonly Read[]): Promise<unknown[][]>;
}

/** A runner that sends several statements in one round trip, each seeing what those before it did (see `lockThenRead`). */
export interface SequenceRunner extends SqlRunner {
  sequence?(statements: readonly Queued[]): Promise<unknown[][]>;
}

/** A piece of SQL with the values of its `?` placeholders, in order: a statement, or a part of one. */
export interface SqlFragment {
  sql: string;
  params: readonly SqlValue[];
}

/** A select to read with others (see `Tx.readTogether`). */
export interface Read extends SqlFragment {
  /** It depends on nothing queued (see ReadOptions.besideQueued). */
  besideQueued?: boolean;
}

/** A statement queued, or as a flush runs it. */
export type Queued = SqlFragment;

/**
 * Queued writes as one PostgreSQL statement: all but the last as data-modifying `with` queries, which run exactly
 * once whether or not anything reads them, the last as the statement itself. Its `?` placeholders and its values
 * keep their order.
 */
function combinedWrites(writes: readonly Queued[]): Queued {
  if (writes.length === 1) return writes[0]!;
  return withQueued(writes.slice(0, -1), writes[writes.length - 1]!);
}

/** `statement` with `writes` run as data-modifying `with` queries before it, in one statement. */
function withQueued(writes: readonly Queued[], statement: Queued): Queued {
  const parts = writes.map((write, i) => `queued_${i} as (${write.sql})`);
  return { sql: `with ${parts.join(', ')} ${statement.sql}`, params: [...writes.flatMap((write) => write.params), ...statement.params] };
}

const WITH = /^\s*with\b/i;

/**
 * Whether writes can run as parts of one statement: no text twice (it may change one row twice), and none with `with`
 * queries of its own (a data-modifying `with` query must stand at the top of its statement).
 */
const combinable = (writes: readonly Queued[]) =>
  writes.length < 2 || (new Set(writes.map((write) => write.sql)).size === writes.length && !writes.some((write) => WITH.test(write.sql)));

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

/** A transaction's handle for whoever ends it: the transaction, and its queued writes taken as the statements that run them. */
export interface OpenTransaction {
  tx: Tx;
  /**
   * Takes what is queued, as the statements that flush would run, in order (on PostgreSQL, writes grouped into as few
   * as may run together): the owner runs them before its commit, the last one with it where it can.
   */
  takeQueued(): Queued[];
}

/** Makes a transaction of a runner inside an open transaction (its methods are closures, free of `this`). */
export function transactionOver(sql: SequenceRunner, dialect: Tx['dialect']): Tx {
  return openTransaction(sql, dialect).tx;
}

export function openTransaction(sql: SequenceRunner, dialect: Tx['dialect']): OpenTransaction {
  const order = new LockOrder();
  const rowLocks = dialect === 'postgresql';
  const forUpdate = (kind: Lock, id?: string) => {
    order.take(kind, id);
    return rowLocks ? 'for update' : '';
  };
  let queued: Queued[] = [];
  const takeQueued = (): Queued[] => {
    const writes = queued;
    queued = [];
    // SQLite runs a statement without a round trip: each on its own, as if it had not waited.
    if (dialect === 'sqlite') return writes;
    // A text queued twice may change one row twice (an upsert of the same bucket), which one statement must not.
    const statements: Queued[] = [];
    let group: Queued[] = [];
    for (const write of writes) {
      if (!combinable([...group, write])) {
        statements.push(combinedWrites(group));
        group = [];
      }
      group.push(write);
    }
    if (group.length > 0) statements.push(combinedWrites(group));
    return statements;
  };
  const flush = async () => {
    for (const statement of takeQueued()) await sql.run(statement.sql, statement.params);
  };
  const all = async <T>(text: string, params: readonly SqlValue[] = [], options?: { besideQueued?: boolean }): Promise<T[]> => {
    // A read that depends on nothing queued takes the queued writes along in its statement (PostgreSQL).
    if (options?.besideQueued && dialect === 'postgresql' && queued.length > 0 && combinable([...queued, { sql: text, params }])) {
      const combined = withQueued(queued, { sql: text, params });
      queued = [];
      return sql.all<T>(combined.sql, combined.params);
    }
    await flush();
    return sql.all<T>(text, params);
  };
  const tx: Tx = {
    dialect,
    afterCommit: sql.afterCommit,
    all,
    async readTogether(reads) {
      if (dialect === 'sqlite' || reads.length < 2) {
        const rows: unknown[][] = [];
        for (const read of reads) rows.push(await all(read.sql, read.params, read));
        return rows;
      }
      const columns = reads.map((read, i) => `(select coalesce(json_agg(q), '[]') from (${read.sql}) q) as r${i}`);
      const [row] = await all<Record<string, unknown>>(
        `select ${columns.join(', ')}`,
        reads.flatMap((read) => read.params),
        {
          besideQueued: reads.every((read) => read.besideQueued),
        },
      );
      return reads.map((_, i) => {
        const value = row?.[`r${i}`];
        return (typeof value === 'string' ? JSON.parse(value) : value) as unknown[];
      });
    },
    async lockThenRead(lock, reads) {
      await flush();
      const statements = [lock, ...reads];
      if (sql.sequence) return sql.sequence(statements);
      const rows: unknown[][] = [];
      for (const statement of statements) rows.push(await sql.all(statement.sql, statement.params));
      return rows;
    },
    async get(text, params) {
      await flush();
      return sql.get(text, params);
    },
    async run(text, params) {
      await flush();
      return sql.run(text, params);
    },
    queue(text, params) {
      queued.push({ sql: text, params });
    },
    flush,
    forUpdate,
    async lockLicense(id) {
      const clause = forUpdate(Lock.LICENSE, id);
      if (clause) {
        await flush();
        await sql.get(`select id from license where id = ? ${clause}`, [id]);
      }
    },
    async advisoryLock(lock) {
      order.take(ADVISORY_ORDER[lock], String(lock));
      await flush();
      if (rowLocks) await sql.get('select pg_advisory_xact_lock(?)', [lock]);
    },
    async tryAdvisoryLock(lock) {
      order.take(ADVISORY_ORDER[lock], String(lock));
      await flush();
      if (!rowLocks) return true;
      const row = await sql.get<{ locked: boolean }>('select pg_try_advisory_xact_lock(?) as locked', [lock]);
      return row?.locked === true;
    },
  };
  return { tx, takeQueued };
}
