/**
 * One condition of a filter, written once in both the forms it is needed in: the query that selects the stored rows
 * it matches (a MikroORM filter or an SQL condition, `Q`) and the test of an object arriving live. A subscription
 * replays stored objects and then tests live ones: the two must select alike.
 */
export interface Clause<T, Q> {
  query: Q;
  test(item: T): boolean;
}

/** The clause for a filter value, or none when the caller left it out (null, undefined or an empty list). */
export function when<V, T, Q>(value: V | null | undefined, clause: (value: V) => Clause<T, Q>): Clause<T, Q> | null {
  if (value === null || value === undefined || (Array.isArray(value) && value.length === 0)) return null;
  return clause(value);
}

/** The clauses of a filter: their queries, to be combined by the caller, and the test of all of them together. */
export class Selection<T, Q> {
  readonly queries: Q[];
  private readonly tests: ((item: T) => boolean)[];

  constructor(clauses: readonly (Clause<T, Q> | null)[]) {
    const given = clauses.filter((c): c is Clause<T, Q> => c !== null);
    this.queries = given.map((c) => c.query);
    this.tests = given.map((c) => c.test);
  }

  readonly matches = (item: T): boolean => this.tests.every((test) => test(item));
}
