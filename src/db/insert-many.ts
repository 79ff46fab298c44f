import type { SqlRunner, SqlValue } from './sql';

/**
 * Rows one statement inserts at most: 500 rows of up to 60 values stay within the parameters a statement may have
 * (SQLite 32,766, PostgreSQL 65,535), and every full statement has the same text, prepared once.
 */
export const ROWS_PER_STATEMENT = 500;

/**
 * Inserts rows many to a statement, in statements of at most ROWS_PER_STATEMENT rows: on PostgreSQL one round trip
 * each instead of one a row (a flush of tens of thousands of rows took as many), on SQLite one step of the engine
 * instead of one a row. `head` is `insert into table (column, …)`, `tail` what follows the values (an `on conflict` clause);
 * each row has a value for each of the columns, in order. No two rows may fall on the same key of `tail`'s conflict
 * target: PostgreSQL refuses to update one row twice in one statement, so the caller adds such rows up first.
 * Returns the number of rows the statements changed.
 */
export async function insertMany(sql: SqlRunner, head: string, rows: readonly (readonly SqlValue[])[], tail = ''): Promise<number> {
  let changed = 0;
  for (let from = 0; from < rows.length; from += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(from, from + ROWS_PER_STATEMENT);
    const values = chunk.map((row) => `(${row.map(() => '?').join(', ')})`).join(', ');
    changed += await sql.run(`${head} values ${values} ${tail}`, chunk.flat());
  }
  return changed;
}
