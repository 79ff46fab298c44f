/** The rows of `rows` in the order of `ids`, null where a row is missing: what a DataLoader's batch answers. */
export function byId<T extends { id: string }>(ids: readonly string[], rows: readonly T[]): (T | null)[] {
  const map = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => map.get(id) ?? null);
}
