import { describe, expect, it } from 'vitest';
import { type BackupColumn, canonicalJson, canonicalValue, storedValue, TableChecksum } from '../../src/db/backup/tables';

const columns: BackupColumn[] = [
  { name: 'id', kind: 'text' },
  { name: 'at', kind: 'datetime' },
  { name: 'on', kind: 'boolean' },
  { name: 'bytes', kind: 'number' },
  { name: 'terms', kind: 'json' },
];

/** One row as SQLite stores it, and as PostgreSQL hands it to node-postgres (MikroORM keeps timestamps as text). */
const fromSqlite = ['a', 1796603696357, 1, 10737418240, '{"limits":{"seats":5,"api":null},"domains":["example.com"]}'];
const fromPostgres = [
  'a',
  '2026-12-07 00:34:56.357+00',
  true,
  '10737418240',
  { domains: ['example.com'], limits: { api: null, seats: 5 } },
];

const canonical = (row: unknown[]) => row.map((value, i) => canonicalValue(columns[i]!.kind, value));

describe('the canonical form of a backup', () => {
  it('is the same for a row whichever database stored it', () => {
    expect(canonical(fromSqlite)).toEqual(canonical(fromPostgres));
    expect(canonical(fromSqlite)).toEqual([
      'a',
      '2026-12-07T00:34:56.357Z',
      true,
      10737418240,
      { domains: ['example.com'], limits: { api: null, seats: 5 } },
    ]);
    expect(canonicalJson(canonical(fromSqlite)[4]!)).toBe('{"domains":["example.com"],"limits":{"api":null,"seats":5}}');
  });

  it('comes back to what the database stores: a Date, a boolean, a number, JSON text', () => {
    const values = canonical(fromPostgres);
    expect(columns.map((column, i) => storedValue(column.kind, values[i]!))).toEqual([
      'a',
      new Date('2026-12-07T00:34:56.357Z'),
      true,
      10737418240,
      '{"domains":["example.com"],"limits":{"api":null,"seats":5}}',
    ]);
    expect(storedValue('datetime', null)).toBeNull();
  });

  it('has a table checksum that does not depend on the order of the rows, and changes with any value', () => {
    const rows = [canonical(fromSqlite), ['b', '2026-01-01T00:00:00.000Z', false, 0, []], ['c', null, null, null, null]];
    const sum = (list: typeof rows) => {
      const checksum = new TableChecksum(columns);
      for (const row of list) checksum.add(row as never);
      return checksum.digest();
    };
    expect(sum(rows)).toBe(sum([...rows].reverse()));
    expect(sum(rows)).not.toBe(sum(rows.slice(1)));
    expect(sum(rows)).not.toBe(sum([...rows.slice(0, 2), ['c', null, null, 1, null]]));
    expect(sum(rows)).toMatch(/^[0-9a-f]{64}$/);
  });
});
