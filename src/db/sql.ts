import type { EntityManager, EntityManager as SqlEntityManager, Knex } from '@mikro-orm/knex';
import BetterSqlite3, { type Database, type Statement } from 'better-sqlite3';
import { type DatabaseConfig, DEFAULT_DATABASE_LIMITS } from '../config';
import { BOOKKEEPING, type Orm, type QueryCounter } from './orm';
import { GroupCommit } from './group-commit';
import { escapeLiteral } from 'pg';
import { openTransaction, type Queued, type Tx, transactionOver } from './transaction';

export type SqlValue = string | number | boolean | null | Date;

export interface ReadOptions {
  /**
   * The read depends on nothing the transaction has queued (`Tx.queue`): on PostgreSQL the queued writes travel in
   * its statement, as `with` queries, and it does not see them. Elsewhere the option changes nothing.
   */
  besideQueued?: boolean;
}

/** Runs plain SQL with `?` placeholders; the same text serves SQLite and PostgreSQL. */
export interface SqlRunner {
  all<T>(sql: string, params?: readonly SqlValue[], options?: ReadOptions): Promise<T[]>;
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** Returns the number of rows changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Runs `fn` once the transaction has committed (at once outside one); never when it rolls back. */
  afterCommit(fn: () => void): void;
}

/** Collects what must happen only once a transaction has committed: telling others of what it stored. */
class CommitHooks {
  private readonly hooks: (() => void)[] = [];

  add = (fn: () => void): void => {
    this.hooks.push(fn);
  };

  run(): void {
    for (const hook of this.hooks) hook();
  }
}

const immediately = (fn: () => void) => fn();

/**
 * The server's one way to write, and its plain-SQL reads: prepared statements on the ORM's connections (its
 * transactions and the ORM's never interleave), for the licensing rows that client applications reach on every call
 * (validation, checkout, heartbeat, checkin), where an ORM lookup costs more than ten times a prepared statement, and
 * for everything joined to their transactions. Modules that keep their rows through the ORM write in `withEntities`.
 */
export interface SqlGateway {
  readonly dialect: 'sqlite' | 'postgresql';
  /** Reads committed data outside a transaction. */
  read<T>(fn: (sql: SqlRunner) => Promise<T>): Promise<T>;
  /**
   * A write transaction (`BEGIN IMMEDIATE` on SQLite, so that a read-then-write never fails with SQLITE_BUSY), whose
   * locks are taken through it in the order of `Lock`. On SQLite, writes that come together share one commit, each
   * in a savepoint of its own (see GroupCommit); the promise settles once the write is committed either way.
   */
  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * The same transaction for a module that keeps its rows through the ORM: `fn` gets the entity manager of an ORM
   * transaction and a `Tx` over its connection, so that what it asks of other modules (the audit log, the lease
   * ledger) joins it. The unit of work is flushed before the commit; `afterCommit` hooks run after it.
   */
  withEntities<T>(em: EntityManager, fn: (em: EntityManager, tx: Tx) => Promise<T>): Promise<T>;
  /** Writes waiting for a batch to take them (SQLite; on PostgreSQL a write waits for a pooled connection instead). */
  readonly queuedWrites: number;
  close(): Promise<void>;
}

/**
 * Dates arrive as epoch milliseconds from SQLite, and from PostgreSQL as the text of a timestamptz
 * (`2026-11-28 08:01:51.123+00`: MikroORM keeps pg from parsing them) or as a `Date`.
 */
export function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'string' && !/^\d+$/.test(value)) {
    return new Date(value.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));
  }
  return new Date(Number(value));
}

export function toDateOrNull(value: unknown): Date | null {
  return value === null || value === undefined ? null : toDate(value);
}

/** JSON columns arrive as text from SQLite and parsed from PostgreSQL. */
export function fromJson<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

function knexOf(orm: Orm): Knex {
  return (orm.em as unknown as SqlEntityManager).getConnection().getKnex();
}

/** Statement texts kept prepared per connection (SQLite) or numbered (PostgreSQL), at most. */
const MAX_CACHED_TEXTS = 1_000;

/** A prepared statement, and for one that returns rows, how its row is made of the values it reads. */
interface Prepared {
  statement: Statement;
  row: ((values: unknown[]) => unknown) | null;
}

/**
 * better-sqlite3 makes each row object in C++, name by name, making each column's name a string again for every
 * row: for a row of twenty columns that is most of what reading it costs. Read as plain values instead, a row is made
 * by an object literal compiled once per statement (its columns' names as keys, in order, the last of a repeated
 * name winning as it does in better-sqlite3's), which costs less than half as much.
 */
function rowMaker(statement: Statement): Prepared['row'] {
  const names = statement.columns().map((column) => column.name);
  // A column named so would set the row's prototype in an object literal: such a statement keeps its object rows.
  if (names.includes('__proto__')) return null;
  statement.raw(true);
  const fields = names.map((name, i) => `${JSON.stringify(name)}: values[${i}]`);
  return new Function('values', `return { ${fields.join(', ')} };`) as (values: unknown[]) => unknown;
}

class SqliteGateway implements SqlGateway {
  readonly dialect = 'sqlite' as const;
  private readonly statements = new Map<Database, Map<string, Prepared>>();
  /**
   * Writes run in batches (group commit) on the ORM's single SQLite connection, borrowed from its pool: while it is
   * held, neither the ORM nor another request can run a statement on it, so a transaction here never has a foreign
   * statement inside it. The ORM gets it back between two batches when it waits for it.
   */
  private readonly commits: GroupCommit;

  constructor(
    knex: Knex,
    private readonly counter: QueryCounter,
    /**
     * A read-only connection of its own for reads: in WAL mode it reads the last committed state beside the
     * writer, never waits for it and never sees a transaction in flight, so reads borrow nothing from the pool.
     */
    private readonly reader: Database,
  ) {
    const client = knex.client as {
      acquireConnection(): Promise<Database>;
      releaseConnection(db: Database): Promise<void>;
      pool?: { numPendingAcquires(): number; acquireTimeoutMillis: number };
    };
    this.commits = new GroupCommit({
      acquire: () => client.acquireConnection(),
      release: (db) => client.releaseConnection(db),
      othersWaiting: () => (client.pool?.numPendingAcquires() ?? 0) > 0,
      maxWaitMs: client.pool?.acquireTimeoutMillis ?? DEFAULT_DATABASE_LIMITS.poolTimeoutMs,
    });
  }

  private statement(db: Database, sql: string): Prepared {
    let cache = this.statements.get(db);
    if (!cache) {
      cache = new Map();
      this.statements.set(db, cache);
    }
    let prepared = cache.get(sql);
    if (!prepared) {
      const statement = db.prepare(sql);
      prepared = { statement, row: statement.reader ? rowMaker(statement) : null };
      // Texts made for one occasion (a list of placeholders as long as a list of ids) must not fill memory: past the
      // bound a text is prepared each time it runs.
      if (cache.size < MAX_CACHED_TEXTS) cache.set(sql, prepared);
    }
    return prepared;
  }

  private runner(db: Database, afterCommit: (fn: () => void) => void = immediately): SqlRunner {
    const bind = (params: readonly SqlValue[]) =>
      params.map((p) => (p instanceof Date ? p.getTime() : typeof p === 'boolean' ? (p ? 1 : 0) : p));
    const count = (sql: string) => this.counter.record(sql);
    return {
      all: async <T>(sql: string, params: readonly SqlValue[] = []) => {
        count(sql);
        const { statement, row } = this.statement(db, sql);
        const rows = statement.all(...bind(params)) as unknown[][];
        return (row ? rows.map(row) : rows) as T[];
      },
      get: async <T>(sql: string, params: readonly SqlValue[] = []) => {
        count(sql);
        const { statement, row } = this.statement(db, sql);
        const values = statement.get(...bind(params)) as unknown[] | undefined;
        return (row && values !== undefined ? row(values) : values) as T | undefined;
      },
      run: async (sql: string, params: readonly SqlValue[] = []) => {
        count(sql);
        return this.statement(db, sql).statement.run(...bind(params)).changes;
      },
      afterCommit,
    };
  }

  read<T>(fn: (sql: SqlRunner) => Promise<T>): Promise<T> {
    return fn(this.runner(this.reader));
  }

  get queuedWrites(): number {
    return this.commits.waiting;
  }

  async close(): Promise<void> {
    this.reader.close();
  }

  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.commits.write(async (db) => {
      const hooks = new CommitHooks();
      const result = await inTransaction(transactionOver(this.runner(db, hooks.add), this.dialect), fn);
      return { result, committed: () => hooks.run() };
    });
  }

  withEntities<T>(em: EntityManager, fn: (em: EntityManager, tx: Tx) => Promise<T>): Promise<T> {
    // Inside the ORM's transaction the knex client hands out that transaction's connection: the same database handle.
    return inEntityTransaction(em, async (em, trx, hooks) => {
      const db = await (trx.client as unknown as { acquireConnection(): Promise<Database> }).acquireConnection();
      return inTransaction(transactionOver(this.runner(db, hooks.add), this.dialect), (tx) => fn(em, tx));
    });
  }
}

/** Runs `fn` in a transaction, then the writes it queued: nothing is committed with a write still queued. */
async function inTransaction<T>(tx: Tx, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const result = await fn(tx);
  await tx.flush();
  return result;
}

/** Runs `fn` in an ORM transaction with its knex transaction, then the hooks it added once it has committed. */
async function inEntityTransaction<T>(
  em: EntityManager,
  fn: (em: EntityManager, trx: Knex.Transaction, hooks: CommitHooks) => Promise<T>,
): Promise<T> {
  const hooks = new CommitHooks();
  const result = await em.transactional((em) => fn(em, em.getTransactionContext<Knex.Transaction>()!, hooks));
  hooks.run();
  return result;
}

/** What a statement returned. */
interface PgResult {
  rows: unknown[];
  rowCount: number | null;
}

/** What the gateway asks of a `pg` connection from the ORM's pool: a message of several statements returns a result each. */
interface PgConnection {
  query(config: { text: string; values: unknown[]; name?: string }): Promise<PgResult | PgResult[]>;
}

const lastOf = (result: PgResult | PgResult[]): PgResult => (Array.isArray(result) ? result[result.length - 1]! : result);

/**
 * A value as a literal that PostgreSQL types by its context, as it does a parameter: quoted text (numbers, booleans
 * and instants too), or null. Undefined for anything else (an invalid date, or a value outside SqlValue that a caller
 * passed anyway), which then goes as a parameter, as `pg` would send it.
 */
function literalOf(value: unknown): string | undefined {
  if (value === null || value === undefined) return 'null';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : `'${value.toISOString()}'`;
  if (typeof value === 'string') return escapeLiteral(value);
  if (typeof value === 'number' || typeof value === 'boolean') return `'${String(value)}'`;
  return undefined;
}

/**
 * A statement with its values written in place of its `?` placeholders (`escapeLiteral`: quotes and backslashes
 * doubled), for a message of the simple query protocol; undefined when a value has no literal.
 */
export function inlined(sql: string, params: readonly SqlValue[]): string | undefined {
  const literals = params.map(literalOf);
  if (literals.includes(undefined)) return undefined;
  let next = 0;
  return sql.replace(/\?/g, () => literals[next++] ?? '?');
}

/** A statement as sent to PostgreSQL: its text with numbered placeholders, and its name once it is prepared. */
interface PgStatement {
  text: string;
  name?: string;
  uses: number;
}

interface PgPool {
  acquireConnection(): Promise<PgConnection>;
  releaseConnection(connection: PgConnection): Promise<void>;
}

/**
 * A text run this often is prepared (a named statement, parsed once per connection): the hot paths' statements are,
 * and the texts made for one occasion are not. Names are never reused for another text; past MAX_PREPARED texts the
 * rest stay unnamed.
 */
const PREPARE_AFTER_USES = 3;
const MAX_PREPARED = 500;
const BEGIN = { text: 'begin', values: [] };
const COMMIT = { text: 'commit', values: [] };
const ROLLBACK = { text: 'rollback', values: [] };

/**
 * Statements run on the `pg` connections of the ORM's pool (knex's), one borrowed per statement outside a
 * transaction and the transaction's own inside one, without knex's query builder and runner around each: the same
 * statements, their `?` placeholders numbered (`$1`, …) once per text, those run again and again prepared.
 */
class PostgresGateway implements SqlGateway {
  readonly dialect = 'postgresql' as const;
  readonly queuedWrites = 0;
  private readonly statements = new Map<string, PgStatement>();
  private prepared = 0;

  constructor(
    private readonly knex: Knex,
    private readonly counter: QueryCounter,
  ) {}

  /** `?` placeholders as PostgreSQL's `$n` (no statement of the server has a `?` of its own); a name once it is hot. */
  private statementOf(sql: string): PgStatement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      let n = 0;
      statement = { text: sql.replace(/\?/g, () => `$${++n}`), uses: 0 };
      // Past the bound a text is numbered anew each time: a name, once given, must keep meaning the same text.
      if (this.statements.size < MAX_CACHED_TEXTS) this.statements.set(sql, statement);
    }
    statement.uses += 1;
    if (statement.name === undefined && statement.uses >= PREPARE_AFTER_USES && this.prepared < MAX_PREPARED) {
      this.prepared += 1;
      statement.name = `license_manager_${this.prepared}`;
    }
    return statement;
  }

  /** Runs one statement on a connection: its text numbered, prepared once it is hot. */
  private async run(connection: PgConnection, sql: string, params: readonly SqlValue[]): Promise<PgResult> {
    this.counter.record(sql);
    const { text, name } = this.statementOf(sql);
    return lastOf(await connection.query({ text, name, values: params as unknown[] }));
  }

  private runner(pool: PgPool, afterCommit: (fn: () => void) => void = immediately): SqlRunner {
    const exec = async (sql: string, params: readonly SqlValue[]) => {
      const connection = await pool.acquireConnection();
      try {
        return await this.run(connection, sql, params);
      } finally {
        await pool.releaseConnection(connection);
      }
    };
    return {
      all: async <T>(sql: string, params: readonly SqlValue[] = []) => (await exec(sql, params)).rows as T[],
      get: async <T>(sql: string, params: readonly SqlValue[] = []) => (await exec(sql, params)).rows[0] as T | undefined,
      run: async (sql: string, params: readonly SqlValue[] = []) => (await exec(sql, params)).rowCount ?? 0,
      afterCommit,
    };
  }

  read<T>(fn: (sql: SqlRunner) => Promise<T>): Promise<T> {
    return fn(this.runner(this.knex.client as unknown as PgPool));
  }

  async close(): Promise<void> {
    // the ORM owns the pool
  }

  /**
   * A transaction on one connection of the pool, begun and ended by plain statements (not knex's transaction
   * machinery): the connection goes back to the pool after its commit or rollback, and the pool checks it before
   * lending it again (one that broke meanwhile is replaced). Its `begin` goes in one message with its first statement,
   * and its `commit` with the last of its queued writes, both in the simple query protocol, which takes several
   * statements in a message but no parameters: their values are written into the text as literals (see `inlined`).
   * A round trip is what a statement costs the server most (its write to the socket wakes the database's process);
   * with `Tx.lockThenRead`, a checkout takes three where it took six. A transaction that ran nothing ends without a
   * word to the database.
   */
  async write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const pool = this.knex.client as unknown as PgPool;
    const connection = await pool.acquireConnection();
    const hooks = new CommitHooks();
    let begun = false;
    // A transaction of the server's bookkeeping (its statements marked so) is not counted, its begin and commit neither.
    let bookkeeping = false;
    const send = async (text: string) => {
      if (!bookkeeping) this.counter.record(text);
      return connection.query({ text, values: [] });
    };
    // What the message that begins the transaction, whose first statement is `first`, opens with ('' once begun).
    const opening = (first: string): string => {
      if (begun) return '';
      begun = true;
      bookkeeping = first.startsWith(BOOKKEEPING);
      return 'begin; ';
    };
    const statement = async (sql: string, params: readonly SqlValue[]): Promise<PgResult> => {
      if (!begun) {
        const text = inlined(sql, params);
        const begin = opening(sql);
        if (text !== undefined) return lastOf(await send(`${begin}${text}`));
        await send(BEGIN.text);
      }
      return this.run(connection, sql, params);
    };
    const { tx, takeQueued } = openTransaction(
      {
        all: async <R>(sql: string, params: readonly SqlValue[] = []) => (await statement(sql, params)).rows as R[],
        get: async <R>(sql: string, params: readonly SqlValue[] = []) => (await statement(sql, params)).rows[0] as R | undefined,
        run: async (sql: string, params: readonly SqlValue[] = []) => (await statement(sql, params)).rowCount ?? 0,
        sequence: async (statements) => {
          const texts = statements.map((s) => inlined(s.sql, s.params));
          if (texts.includes(undefined)) {
            const rows: unknown[][] = [];
            for (const s of statements) rows.push((await statement(s.sql, s.params)).rows);
            return rows;
          }
          const results = await send(`${opening(statements[0]?.sql ?? '')}${texts.join('; ')}`);
          return (Array.isArray(results) ? results : [results]).slice(-statements.length).map((r) => r.rows);
        },
        afterCommit: hooks.add,
      },
      this.dialect,
    );
    let result: T;
    try {
      try {
        result = await fn(tx);
        await this.commit(connection, takeQueued(), begun, statement, send);
      } catch (error) {
        if (begun) await connection.query(ROLLBACK).catch(() => undefined);
        throw error;
      }
    } finally {
      await pool.releaseConnection(connection);
    }
    hooks.run();
    return result;
  }

  /** Runs the writes still queued and commits, the last write and the commit in one message where it can. */
  private async commit(
    connection: PgConnection,
    writes: Queued[],
    begun: boolean,
    statement: (sql: string, params: readonly SqlValue[]) => Promise<PgResult>,
    send: (text: string) => Promise<PgResult | PgResult[]>,
  ): Promise<void> {
    // Nothing ran yet: one write is a transaction of its own, and none is nothing to commit.
    if (!begun && writes.length <= 1) {
      if (writes[0]) await this.run(connection, writes[0].sql, writes[0].params);
      return;
    }
    const last = writes.pop();
    for (const write of writes) await statement(write.sql, write.params);
    const text = last && inlined(last.sql, last.params);
    if (last && text === undefined) await statement(last.sql, last.params);
    await send(text === undefined ? COMMIT.text : `${text}; commit`);
  }

  withEntities<T>(em: EntityManager, fn: (em: EntityManager, tx: Tx) => Promise<T>): Promise<T> {
    return inEntityTransaction(em, (em, trx, hooks) =>
      inTransaction(transactionOver(this.runner(trx.client as unknown as PgPool, hooks.add), this.dialect), (tx) => fn(em, tx)),
    );
  }
}

export function openSqlGateway(orm: Orm, counter: QueryCounter, database: DatabaseConfig): SqlGateway {
  const knex = knexOf(orm);
  if (database.driver === 'postgresql') return new PostgresGateway(knex, counter);
  const reader = new BetterSqlite3(database.path, { readonly: true, fileMustExist: true });
  reader.pragma('busy_timeout = 5000');
  return new SqliteGateway(knex, counter, reader);
}

/** Tunes the embedded database once at start-up: WAL lets readers run beside the writer. */
export async function tuneSqlite(orm: Orm): Promise<void> {
  const knex = knexOf(orm);
  await knex.raw('pragma journal_mode = wal');
  await knex.raw('pragma synchronous = normal');
  await knex.raw('pragma busy_timeout = 5000');
  // The savepoints of batched writes keep what they would undo in memory, not in a temporary file each.
  await knex.raw('pragma temp_store = memory');
}
