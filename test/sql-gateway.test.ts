import type { EntityManager } from '@mikro-orm/knex';
import { describe, expect, it } from 'vitest';
import { Organization } from '../src/modules/organization/organization.entity';
import { toDate } from '../src/db/sql';
import { describeEachDatabase } from './support/server';

describeEachDatabase('the SQL gateway', (server) => {
  it('answers each of many concurrent runs of the same statements with its own parameters', async () => {
    const { db } = server().server;
    const asked = Array.from({ length: 200 }, (_, i) => i);
    const answers = await Promise.all(
      asked.map((i) =>
        i % 2
          ? db.read((sql) => sql.get<{ n: number | string; label: string }>('select ? + 1 as n, ? as label', [i, `read ${i}`]))
          : db.write((tx) => tx.get<{ n: number | string; label: string }>('select ? + 1 as n, ? as label', [i, `write ${i}`])),
      ),
    );
    expect(answers.map((a) => [Number(a?.n), a?.label])).toEqual(asked.map((i) => [i + 1, `${i % 2 ? 'read' : 'write'} ${i}`]));
  });

  it('lets an ORM transaction through while writes keep coming', async () => {
    const { db, orm } = server().server;
    let stop = false;
    let written = 0;
    const writeOnAndOn = async () => {
      while (!stop) {
        await db.write((tx) => tx.get('select 1 as one'));
        written++;
      }
    };
    const writers = Array.from({ length: 8 }, writeOnAndOn);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const before = written;
    // The ORM's own transaction (administration writes) waits for the connection between two batches at most.
    const counted = await db.withEntities(orm.em.fork() as EntityManager, (em) => em.count(Organization, {}));
    const during = written;
    stop = true;
    await Promise.all(writers);
    expect(counted).toBeGreaterThanOrEqual(0);
    expect(before).toBeGreaterThan(0);
    expect(written).toBeGreaterThan(during);
  });

  it('keeps at most 1,000 statements prepared on SQLite, and answers right past them', async () => {
    const t = server();
    // (PostgreSQL's gateway has the same bound on the texts it numbers, shared by the whole file's tests.)
    if (t.kind !== 'sqlite') return;
    const texts = Array.from({ length: 1_100 }, (_, i) => `select ? + ${i} as n`);
    const answers = await t.server.db.read(async (sql) => {
      const out: number[] = [];
      for (const text of texts) out.push(Number((await sql.get<{ n: number | string }>(text, [1]))?.n));
      return out;
    });
    expect(answers).toEqual(texts.map((_, i) => i + 1));
    // What the gateway keeps of them: the prepared statements of each connection.
    const kept = (t.server.db as unknown as { statements: Map<unknown, Map<string, unknown>> }).statements;
    expect(Math.max(...[...kept.values()].map((statements) => statements.size))).toBeLessThanOrEqual(1_000);
  });

  it('prepares a statement run again and again on PostgreSQL, once per connection, and keeps its answers right', async () => {
    const t = server();
    if (t.kind !== 'postgresql') return;
    const text = 'select ? * 2 as doubled /* prepared */';
    const { doubled, prepared } = await t.server.db.write(async (tx) => {
      const doubled: number[] = [];
      for (let i = 1; i <= 5; i++) doubled.push(Number((await tx.get<{ doubled: string }>(text, [i]))?.doubled));
      // The transaction's own connection: the statement is prepared there once, whatever it ran with.
      const prepared = await tx.all<{ name: string; statement: string }>(
        "select name, statement from pg_prepared_statements where statement like '%/* prepared */%' and statement not like '%pg_prepared_statements%'",
      );
      return { doubled, prepared };
    });
    expect(doubled).toEqual([2, 4, 6, 8, 10]);
    expect(prepared).toHaveLength(1);
    expect(prepared[0]!.name).toMatch(/^license_manager_\d+$/);
    expect(prepared[0]!.statement).toBe('select $1 * 2 as doubled /* prepared */');
  });

  describe('a transaction', () => {
    const table = 'literal_probe';
    const fresh = () =>
      server().server.db.write(async (tx) => {
        await tx.run(`drop table if exists ${table}`);
        await tx.run(`create table ${table} (id text primary key, note text, at timestamp with time zone, flag boolean, n integer)`);
      });
    const recorded = async (run: () => Promise<unknown>): Promise<string[]> => {
      const counter = server().server.queries;
      counter.statements.length = 0;
      counter.recording = true;
      try {
        await run();
        return [...counter.statements];
      } finally {
        counter.recording = false;
      }
    };
    const insert = `insert into ${table} (id, note, at, flag, n) values (?, ?, ?, ?, ?)`;
    const stored = () =>
      server().server.db.read((sql) =>
        sql.all<{ id: string; note: string; at: unknown; flag: unknown; n: unknown }>(
          `select id, note, at, flag, n from ${table} order by id`,
        ),
      );

    it('stores the same values whether they went as parameters or, with its begin and commit, as literals', async () => {
      await fresh();
      // Quotes, backslashes, placeholders and statements of its own in the text: none of it may be read as SQL.
      const note = "it's a \\ back'slash?? $1 ? '); drop table literal_probe; -- é 😀\n";
      const at = new Date('2026-12-07T13:14:15.678Z');
      const messages = await recorded(() =>
        server().server.db.write(async (tx) => {
          await tx.run(insert, ['a first', note, at, true, 7]);
          await tx.run(insert, ['b middle', note, at, false, null]);
          tx.queue(insert, ['c last', note, null, null, -3]);
        }),
      );
      const rows = (await stored()).map((r) => [r.id, r.note, r.at === null ? null : toDate(r.at).getTime(), r.flag, r.n]);
      const flag = (value: boolean) => (server().kind === 'postgresql' ? value : Number(value));
      expect(rows).toEqual([
        ['a first', note, at.getTime(), flag(true), 7],
        ['b middle', note, at.getTime(), flag(false), null],
        ['c last', note, null, null, -3],
      ]);
      if (server().kind === 'postgresql') {
        // Three round trips for three statements: the first with the begin, the last with the commit.
        expect(messages).toHaveLength(3);
        expect(messages[0]).toMatch(/^begin; insert into literal_probe .* values \('a first', +E'it''s a \\\\ back''slash/s);
        expect(messages[1]).toBe(insert);
        expect(messages[2]).toMatch(/^insert into literal_probe .* values \('c last', .*, null, null, '-3'\); commit$/s);
      }
    });

    it('that asked nothing of the database tells it nothing, and one that fails after its first statement stores nothing', async () => {
      await fresh();
      expect(await recorded(() => server().server.db.write(async () => 'nothing to do'))).toEqual([]);
      await expect(
        server().server.db.write(async (tx) => {
          await tx.run(insert, ['begun', 'x', null, null, 1]);
          tx.queue(insert, ['queued', 'y', null, null, 2]);
          throw new Error('changed its mind');
        }),
      ).rejects.toThrow('changed its mind');
      // A last write that fails fails its commit with it: the first statement's row goes too.
      await expect(
        server().server.db.write(async (tx) => {
          await tx.run(insert, ['begun', 'x', null, null, 1]);
          tx.queue(insert, ['begun', 'the same id again', null, null, 2]);
        }),
      ).rejects.toThrow();
      expect(await stored()).toEqual([]);
      // The connections went back clean: the next transaction works.
      await server().server.db.write((tx) => tx.run(insert, ['after', 'z', null, null, 3]));
      expect((await stored()).map((r) => r.id)).toEqual(['after']);
    });
  });

  describe('writes queued in a transaction', () => {
    const table = 'queued_probe';
    const fresh = async () => {
      const { db } = server().server;
      await db.write(async (tx) => {
        await tx.run(`drop table if exists ${table}`);
        await tx.run(`create table ${table} (id text primary key, n integer not null)`);
      });
    };
    const rows = () =>
      server().server.db.read((sql) => sql.all<{ id: string; n: number | string }>(`select id, n from ${table} order by id`));
    const recorded = async <T>(run: () => Promise<T>): Promise<{ result: T; statements: string[] }> => {
      const counter = server().server.queries;
      counter.statements.length = 0;
      counter.recording = true;
      try {
        return { result: await run(), statements: [...counter.statements] };
      } finally {
        counter.recording = false;
      }
    };

    it('run before the next statement, which sees them, and on PostgreSQL in one statement', async () => {
      await fresh();
      const { result, statements } = await recorded(() =>
        server().server.db.write(async (tx) => {
          tx.queue(`insert into ${table} (id, n) values (?, ?)`, ['a', 1]);
          tx.queue(`update ${table} set n = n + ? where id = ?`, [10, 'nothing yet']);
          tx.queue(`insert into ${table} (id, n) select ?, ?`, ['b', 2]);
          return tx.all<{ id: string }>(`select id from ${table} order by id`);
        }),
      );
      expect(result.map((r) => r.id)).toEqual(['a', 'b']);
      if (server().kind === 'postgresql') {
        // The writes begin the transaction, in one message; the select; the commit.
        expect(statements).toHaveLength(3);
        expect(statements[0]).toMatch(/^begin; with queued_0 as \(insert .*\), queued_1 as \(update .*\) insert /s);
        expect(statements[2]).toBe('commit');
      } else {
        expect(statements.filter((s) => !s.startsWith('select'))).toHaveLength(3);
      }
    });

    it('travel on PostgreSQL with a read that depends on none of them, in its statement', async () => {
      await fresh();
      const { result, statements } = await recorded(() =>
        server().server.db.write(async (tx) => {
          tx.queue(`insert into ${table} (id, n) values (?, ?)`, ['a', 1]);
          tx.queue(`insert into ${table} (id, n) values (?, ?) on conflict (id) do nothing`, ['b', 2]);
          const beside = await tx.all<{ n: number | string }>('select ? + 1 as n', [41], { besideQueued: true });
          const after = await tx.all<{ id: string }>(`select id from ${table} order by id`);
          return { beside: beside.map((r) => Number(r.n)), after: after.map((r) => r.id) };
        }),
      );
      expect(result).toEqual({ beside: [42], after: ['a', 'b'] });
      expect(statements).toHaveLength(server().kind === 'postgresql' ? 3 : 4);
      if (server().kind === 'postgresql')
        expect(statements[0]).toMatch(/^begin; with queued_0 as \(insert .*\), queued_1 as \(insert .*\) select '41' \+ 1/s);
    });

    it('travel on PostgreSQL with reads read together, in one statement that answers each read with its own rows', async () => {
      await fresh();
      const { result, statements } = await recorded(() =>
        server().server.db.write(async (tx) => {
          await tx.run(`insert into ${table} (id, n) values (?, ?), (?, ?)`, ['x', 7, 'y', 8]);
          tx.queue(`insert into ${table} (id, n) values (?, ?)`, ['a', 1]);
          const [before, none, literal] = await tx.readTogether([
            { sql: `select id, n from ${table} where n > ? order by id`, params: [5], besideQueued: true },
            { sql: `select id from ${table} where id = ?`, params: ['nobody'], besideQueued: true },
            { sql: 'select ? as word, ? + 1 as n', params: ['beside', 41], besideQueued: true },
          ]);
          const after = await tx.all<{ id: string }>(`select id from ${table} order by id`);
          return { before, none, literal, after: after.map((r) => r.id) };
        }),
      );
      // Rows as each read gives them, in no promised order (an aggregate's input order is PostgreSQL's to choose).
      const numbers = (rows: unknown[] | undefined) =>
        (rows as { id?: string; n: unknown }[])
          .map((r) => ({ ...r, n: Number(r.n) }))
          .sort((a, b) => (a.id ?? '').localeCompare(b.id ?? ''));
      expect(numbers(result.before)).toEqual([
        { id: 'x', n: 7 },
        { id: 'y', n: 8 },
      ]);
      expect(result.none).toEqual([]);
      expect(numbers(result.literal)).toEqual([{ word: 'beside', n: 42 }]);
      expect(result.after).toEqual(['a', 'x', 'y']);
      if (server().kind === 'postgresql') {
        // The insert with the begin, the reads with the queued write, the last select, the commit.
        expect(statements).toHaveLength(4);
        expect(statements[1]).toMatch(/^with queued_0 as \(insert .*\) select \(select coalesce\(json_agg/s);
      } else {
        expect(statements).toHaveLength(6);
      }
    });

    it('wait for the queued writes when a read read together depends on them', async () => {
      await fresh();
      const { result, statements } = await recorded(() =>
        server().server.db.write(async (tx) => {
          tx.queue(`insert into ${table} (id, n) values (?, ?)`, ['a', 1]);
          return tx.readTogether([
            { sql: 'select 1 as one', params: [], besideQueued: true },
            { sql: `select id from ${table}`, params: [] },
          ]);
        }),
      );
      expect(result).toEqual([[{ one: 1 }], [{ id: 'a' }]]);
      // On PostgreSQL the write with the begin, the reads, the commit.
      expect(statements).toHaveLength(3);
    });

    it('are committed with a transaction that ends with them, and rolled back with one that fails', async () => {
      await fresh();
      await server().server.db.write(async (tx) => {
        tx.queue(`insert into ${table} (id, n) values (?, ?)`, ['kept', 1]);
      });
      await expect(
        server().server.db.write(async (tx) => {
          tx.queue(`insert into ${table} (id, n) values (?, ?)`, ['lost', 1]);
          throw new Error('changed its mind');
        }),
      ).rejects.toThrow('changed its mind');
      // A queued write that fails fails the transaction, with what was queued beside it.
      await expect(
        server().server.db.write(async (tx) => {
          tx.queue(`insert into ${table} (id, n) values (?, ?)`, ['beside', 1]);
          tx.queue(`insert into ${table} (id, n) select ?, ?`, ['kept', 2]);
        }),
      ).rejects.toThrow();
      expect((await rows()).map((r) => r.id)).toEqual(['kept']);
    });

    it('run alone when they have `with` queries of their own', async () => {
      await fresh();
      const { statements } = await recorded(() =>
        server().server.db.write(async (tx) => {
          tx.queue(`insert into ${table} (id, n) values (?, ?)`, ['a', 1]);
          // PostgreSQL refuses a data-modifying `with` query anywhere but at the top of a statement.
          const given =
            tx.dialect === 'postgresql'
              ? `with given as (update ${table} set n = n where id = 'a' returning ? as id, cast(? as integer) as n)`
              : 'with given as (select ? as id, cast(? as integer) as n)';
          tx.queue(`${given} insert into ${table} (id, n) select id, n from given`, ['b', 2]);
          tx.queue(`insert into ${table} (id, n) values (?, ?)`, ['c', 3]);
        }),
      );
      expect((await rows()).map((r) => [r.id, Number(r.n)])).toEqual([
        ['a', 1],
        ['b', 2],
        ['c', 3],
      ]);
      expect(statements).toHaveLength(3);
    });

    it('run one after the other when a text repeats, so that a row changed twice is changed twice', async () => {
      await fresh();
      await server().server.db.write(async (tx) => {
        tx.queue(`insert into ${table} (id, n) values (?, ?) on conflict (id) do update set n = ${table}.n + excluded.n`, ['a', 1]);
        tx.queue(`insert into ${table} (id, n) values (?, ?) on conflict (id) do update set n = ${table}.n + excluded.n`, ['a', 2]);
        tx.queue(`insert into ${table} (id, n) values (?, ?) on conflict (id) do update set n = ${table}.n + excluded.n`, ['a', 4]);
      });
      expect((await rows()).map((r) => [r.id, Number(r.n)])).toEqual([['a', 7]]);
    });
  });
});
