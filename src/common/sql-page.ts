import type { SqlRunner, SqlValue } from '../db/sql';
import { decodeCursor, type Page, type PageArgs, pageFrom } from './pagination';

/** One condition of a filter in SQL, with its parameters. */
export type Condition = { sql: string; params: SqlValue[] };

export const placeholders = (values: readonly unknown[]) => values.map(() => '?').join(', ');

/** A `where` built up condition by condition, with its parameters. */
export class Where {
  readonly conditions: string[] = [];
  readonly params: SqlValue[] = [];

  add(condition: string, ...params: SqlValue[]): this {
    this.conditions.push(condition);
    this.params.push(...params);
    return this;
  }

  /** Every condition of a filter's selection. */
  all(conditions: readonly Condition[]): this {
    for (const { sql, params } of conditions) this.add(sql, ...params);
    return this;
  }

  in(column: string, values: readonly string[] | null | undefined): this {
    if (values?.length) this.add(`${column} in (${placeholders(values)})`, ...values);
    return this;
  }

  get sql(): string {
    return this.conditions.length ? `where ${this.conditions.join(' and ')}` : '';
  }
}

/** One page of rows in plain SQL, ordered by id, the first after the cursor (read with one row more). */
export async function pageOf<R extends { id: string }, T>(
  sql: SqlRunner,
  select: string,
  where: Where,
  page: PageArgs,
  toNode: (row: R) => T,
): Promise<Page<T>> {
  if (page.after) where.add('id > ?', decodeCursor(page.after));
  return pageFrom(await sql.all<R>(`${select} ${where.sql} order by id limit ?`, [...where.params, page.first + 1]), page, toNode);
}
