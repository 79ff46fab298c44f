import type { EntityManager } from '@mikro-orm/knex';
import { expect, it } from 'vitest';
import { Organization } from '../src/modules/organization/organization.entity';
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
});
