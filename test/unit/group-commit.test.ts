import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupCommit, MAX_BATCH, type WriteConnection } from '../../src/db/group-commit';

/** A pool of the one write connection, as the ORM's is: one borrower at a time, the others queued in order. */
class OneConnectionPool implements WriteConnection {
  maxWaitMs = 5_000;
  private busy = false;
  private readonly waiting: ((db: Database) => void)[] = [];

  constructor(private readonly db: Database) {}

  acquire(): Promise<Database> {
    if (!this.busy) {
      this.busy = true;
      return Promise.resolve(this.db);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async release(): Promise<void> {
    const next = this.waiting.shift();
    if (next) next(this.db);
    else this.busy = false;
  }

  othersWaiting(): boolean {
    return this.waiting.length > 0;
  }
}

describe('group commit (SQLite)', () => {
  let dir: string;
  let writer: Database;
  let reader: Database;
  let pool: OneConnectionPool;
  let commits: GroupCommit;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'group-commit-'));
    const path = join(dir, 'db.sqlite');
    writer = new BetterSqlite3(path);
    writer.pragma('journal_mode = wal');
    writer.pragma('foreign_keys = on');
    writer.exec(`create table item (n integer primary key);
      create table parent (id integer primary key);
      create table child (id integer primary key, parent_id integer references parent (id) deferrable initially deferred);`);
    reader = new BetterSqlite3(path, { readonly: true });
    pool = new OneConnectionPool(writer);
    commits = new GroupCommit(pool);
  });

  afterEach(() => {
    reader.close();
    writer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const committedItems = () => (reader.prepare('select n from item order by n').pluck().all() as number[]).map(Number);
  const insert = (n: number, after: () => void = () => undefined) =>
    commits.write(async (db) => {
      db.prepare('insert into item (n) values (?)').run(n);
      return { result: n, committed: after };
    });

  it('commits writes that come together once, and settles none of them before that commit', async () => {
    const seenWhenSettled: number[][] = [];
    await Promise.all([1, 2, 3, 4, 5].map((n) => insert(n).then(() => seenWhenSettled.push(committedItems()))));
    // Each write, once settled, is committed; and so are the four others: they shared its commit.
    expect(seenWhenSettled).toEqual(Array.from({ length: 5 }, () => [1, 2, 3, 4, 5]));
  });

  it('takes into a batch the writes that come before the event loop turns, and no more than the cap', async () => {
    const first = insert(1);
    // Added by I/O of the same turn of the loop (here: a macrotask queued before the batch's turn ends).
    const later = new Promise<number>((resolve) => setImmediate(() => void insert(2).then(resolve)));
    await first;
    expect(committedItems()).toEqual([1, 2]);
    await later;

    const many = Array.from({ length: MAX_BATCH + 8 }, (_, i) => 100 + i);
    const seenByFirst: number[] = [];
    await Promise.all(
      many.map((n, i) =>
        insert(n).then(() => {
          if (i === 0) seenByFirst.push(...committedItems());
        }),
      ),
    );
    expect(seenByFirst.filter((n) => n >= 100)).toEqual(many.slice(0, MAX_BATCH));
    expect(committedItems()).toHaveLength(2 + many.length);
  });

  it('tells how many writes wait for a batch (the metrics count them as waiting for the database)', async () => {
    const writes = [1, 2, 3].map((n) => insert(n));
    expect(commits.waiting).toBe(3);
    await Promise.all(writes);
    expect(commits.waiting).toBe(0);
  });

  it('refuses a write that waited for its batch longer than a call may wait for a connection, without running it', async () => {
    pool.maxWaitMs = 20;
    const slow = commits.write(async (db) => {
      db.prepare('insert into item (n) values (1)').run();
      await new Promise((resolve) => setTimeout(resolve, 60));
      return { result: 1, committed: () => undefined };
    });
    const late = insert(2);
    const results = await Promise.allSettled([slow, late]);
    expect(results[0].status).toBe('fulfilled');
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { code: 'SERVICE_UNAVAILABLE', extensions: { retryAfter: 1 } } });
    expect(committedItems()).toEqual([1]);
  });

  it('undoes a failed write and only it: the others of its batch commit', async () => {
    const failing = commits.write(async (db) => {
      db.prepare('insert into item (n) values (?)').run(2);
      throw new Error('refused after writing');
    });
    const results = await Promise.allSettled([insert(1), failing, insert(3), insert(1)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
    expect(((results[1] as PromiseRejectedResult).reason as Error).message).toBe('refused after writing');
    expect(String((results[3] as PromiseRejectedResult).reason)).toMatch(/UNIQUE constraint failed/);
    expect(committedItems()).toEqual([1, 3]);
  });

  it('fails every write of a batch whose commit fails, and keeps none of them', async () => {
    const orphan = commits.write(async (db) => {
      // Checked at the commit (a deferred foreign key): the statement passes, the batch's commit fails.
      db.prepare('insert into child (id, parent_id) values (1, 42)').run();
      return { result: 'orphan', committed: () => undefined };
    });
    const results = await Promise.allSettled([insert(1), orphan, insert(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/FOREIGN KEY constraint failed/);
    expect(committedItems()).toEqual([]);
    expect(writer.inTransaction).toBe(false);
    // The next batch is a batch like any other.
    await insert(7);
    expect(committedItems()).toEqual([7]);
  });

  it("runs each write's after-commit work once it is committed, in the order the writes ran", async () => {
    const told: string[] = [];
    await Promise.all([
      insert(1, () => told.push(`1 after commit, committed: ${committedItems().join(',')}`)),
      insert(2, () => told.push(`2 after commit, committed: ${committedItems().join(',')}`)),
    ]);
    expect(told).toEqual(['1 after commit, committed: 1,2', '2 after commit, committed: 1,2']);
  });

  it('lends the connection to someone else waiting for it between two batches, however many writes follow', async () => {
    let stop = false;
    let written = 0;
    const writeOnAndOn = async (from: number) => {
      for (let n = from; !stop; n += 4) {
        await insert(n);
        written++;
      }
    };
    const writers = [1, 2, 3, 4].map((from) => writeOnAndOn(from));
    await new Promise((resolve) => setImmediate(resolve));
    // The ORM asks for the connection while writes keep coming: it gets it after the batch in progress.
    const db = await pool.acquire();
    const writtenBefore = written;
    db.prepare('insert into item (n) values (0)').run();
    await pool.release();
    stop = true;
    await Promise.all(writers);
    expect(writtenBefore).toBeGreaterThan(0);
    expect(written).toBeGreaterThan(writtenBefore);
    expect(committedItems()).toContain(0);
  });
});
