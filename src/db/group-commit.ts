import type { Database, Statement } from 'better-sqlite3';
import { AppError } from '../errors';

/** What a write did inside its batch: its result, and what must run once it is committed. */
export interface Written<T> {
  result: T;
  committed: () => void;
}

/** A write waiting for its place in a batch. */
interface Waiting<T = unknown> {
  run: (db: Database) => Promise<Written<T>>;
  /** When it was asked for (`performance.now()`). */
  since: number;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

/** Where the batches get the one write connection. */
export interface WriteConnection {
  acquire(): Promise<Database>;
  release(db: Database): Promise<void>;
  /** Whether someone else (the ORM) waits for the connection: it gets it between two batches. */
  othersWaiting(): boolean;
  /** The longest a write may wait for its batch, as long as a call may wait for a connection; past it, it is refused. */
  maxWaitMs: number;
}

type BatchStatements = Record<'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'undo', Statement>;

/** The most writes a batch holds: its first write waits for the last before anyone hears of either. */
export const MAX_BATCH = 32;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Group commit for SQLite's one writer. A commit costs the pages it changed, each written to the WAL by a system
 * call, whether one write changed them or twenty; and writes that follow each other change the same pages (the last
 * leaf of every table and index they append to, the counters they update). So writes that come while a batch is open
 * join it: each runs in a savepoint of the batch's transaction, so that its failure undoes its own changes and
 * no one else's, and the batch commits once no write waits, after the I/O of the event loop's current turn has had
 * its chance to add more (or once it holds {@link MAX_BATCH}). Nobody hears of a write before the commit that stores
 * it: a write's promise settles, and its after-commit work runs, only once its batch has committed; when the commit
 * fails, every write of the batch fails with it, none of them acknowledged. A write that waited for its batch
 * longer than a call may wait for a connection is refused (SERVICE_UNAVAILABLE, retry in a second) without running.
 */
export class GroupCommit {
  private readonly queue: Waiting[] = [];
  private draining = false;
  private readonly statements = new WeakMap<Database, BatchStatements>();

  constructor(private readonly connection: WriteConnection) {}

  /** Writes waiting for a batch to take them. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Runs `run` in a batch; settles with its result once the batch has committed, after its `committed` work. */
  write<T>(run: (db: Database) => Promise<Written<T>>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, since: performance.now(), resolve, reject } as Waiting);
      if (!this.draining) void this.drain();
    });
  }

  /** Runs batches while writes wait, borrowing the connection for as many batches as no one else waits for it. */
  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        let db: Database;
        try {
          db = await this.connection.acquire();
        } catch (error) {
          for (const waiting of this.queue.splice(0)) waiting.reject(error);
          break;
        }
        try {
          do await this.batch(db);
          while (this.queue.length > 0 && !this.connection.othersWaiting());
        } finally {
          await this.connection.release(db).catch(() => undefined);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private statementsOf(db: Database): BatchStatements {
    let statements = this.statements.get(db);
    if (!statements) {
      statements = {
        begin: db.prepare('begin immediate'),
        commit: db.prepare('commit'),
        rollback: db.prepare('rollback'),
        savepoint: db.prepare('savepoint batched_write'),
        release: db.prepare('release batched_write'),
        undo: db.prepare('rollback to batched_write'),
      };
      this.statements.set(db, statements);
    }
    return statements;
  }

  /** One transaction: the writes waiting now and those that come before the loop's next turn, then its commit. */
  private async batch(db: Database): Promise<void> {
    const sql = this.statementsOf(db);
    const ran: { waiting: Waiting; written: Written<unknown> }[] = [];
    const failAll = (error: unknown) => {
      for (const member of ran) member.waiting.reject(error);
    };
    try {
      sql.begin.run();
    } catch (error) {
      for (const waiting of this.queue.splice(0)) waiting.reject(error);
      return;
    }
    let turnWaited = false;
    while (ran.length < MAX_BATCH) {
      let waiting = this.queue.shift();
      if (!waiting && !turnWaited) {
        turnWaited = true;
        await nextTurn();
        waiting = this.queue.shift();
      }
      if (!waiting) break;
      if (performance.now() - waiting.since > this.connection.maxWaitMs) {
        waiting.reject(AppError.serviceUnavailable('The database is too busy to take this write now.', 1));
        continue;
      }
      try {
        sql.savepoint.run();
        const written = await waiting.run(db);
        sql.release.run();
        ran.push({ waiting, written });
      } catch (error) {
        waiting.reject(error);
        // Its own changes are undone and the batch goes on, unless the failure ended the whole transaction.
        if (!this.undo(db, sql)) return failAll(error);
      }
    }
    try {
      sql.commit.run();
    } catch (error) {
      try {
        if (db.inTransaction) sql.rollback.run();
      } catch {
        // the connection is broken: the pool replaces it
      }
      return failAll(error);
    }
    for (const { waiting, written } of ran) {
      try {
        written.committed();
        waiting.resolve(written.result);
      } catch (error) {
        waiting.reject(error);
      }
    }
  }

  /** Undoes the changes of the write that failed; false when the transaction itself is over. */
  private undo(db: Database, sql: BatchStatements): boolean {
    if (!db.inTransaction) return false;
    try {
      sql.undo.run();
      sql.release.run();
      return true;
    } catch {
      try {
        if (db.inTransaction) sql.rollback.run();
      } catch {
        // the connection is broken: the pool replaces it
      }
      return false;
    }
  }
}
