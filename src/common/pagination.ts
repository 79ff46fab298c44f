import type { EntityManager, EntityName, FilterQuery } from '@mikro-orm/knex';
import { Max, Min } from 'class-validator';
import { ArgsType, type ClassType, Field, Int, ObjectType } from 'type-graphql';
import { isId } from '../db/ids';
import { AppError } from '../errors';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

@ArgsType()
export class PageArgs {
  @Field(() => Int, { defaultValue: DEFAULT_PAGE_SIZE, description: `At most ${MAX_PAGE_SIZE}.` })
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  first: number = DEFAULT_PAGE_SIZE;

  @Field(() => String, { nullable: true, description: 'The `endCursor` of the previous page.' })
  after?: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'Where a page ends and whether another follows it.' })
export class PageInfo {
  @Field(() => Boolean, { description: 'True when more nodes follow this page: ask again with `after: endCursor`.' })
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true, description: 'An opaque cursor after the last node of this page; null when the page is empty.' })
  endCursor!: string | null;
}

export interface Page<T> {
  nodes: T[];
  pageInfo: PageInfo;
}

/** A cursor connection of `T`: the nodes in creation order and where the next page starts. */
export function Connection<T extends object>(node: ClassType<T>) {
  @ObjectType({ simpleResolvers: true })
  abstract class ConnectionType {
    @Field(() => [node], { description: 'The nodes of this page, oldest first.' })
    nodes!: T[];

    @Field(() => PageInfo, { description: 'Where this page ends and whether another follows.' })
    pageInfo!: PageInfo;
  }
  return ConnectionType;
}

/** Cursors are opaque to clients; inside they are the time-ordered id of the last row seen. */
export function encodeCursor(id: string): string {
  return Buffer.from(`c1:${id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  const id = decoded.startsWith('c1:') ? decoded.slice(3) : '';
  if (!isId(id)) throw AppError.badInput('The cursor is not one this server issued.', 'after');
  return id;
}

/** One page of rows ordered by id, the first after the cursor; reads one row more to know whether more follow. */
export async function findPage<E extends { id: string }, T>(
  em: EntityManager,
  entity: EntityName<E>,
  where: FilterQuery<E>,
  page: PageArgs,
  toNode: (row: E) => T,
): Promise<Page<T>> {
  const conditions: FilterQuery<E>[] = [where];
  if (page.after) conditions.push({ id: { $gt: decodeCursor(page.after) } } as unknown as FilterQuery<E>);
  const rows = await em.find(entity, { $and: conditions } as FilterQuery<E>, {
    orderBy: { id: 'asc' } as never,
    limit: page.first + 1,
  });
  return pageFrom(rows, page, toNode);
}

/**
 * The page of rows read for `page`: rows ordered by id after its cursor, at most one more than it asks for (which
 * says that more follow). Every connection of the schema pages this way, whether it reads through the ORM
 * (`findPage`) or in plain SQL.
 */
export function pageFrom<R extends { id: string }, T>(rows: readonly R[], page: PageArgs, toNode: (row: R) => T): Page<T> {
  const hasNextPage = rows.length > page.first;
  const slice = hasNextPage ? rows.slice(0, page.first) : rows;
  const last = slice[slice.length - 1];
  return { nodes: slice.map(toNode), pageInfo: { hasNextPage, endCursor: last ? encodeCursor(last.id) : null } };
}
