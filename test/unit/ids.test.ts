import { describe, expect, it } from 'vitest';
import { isId, newId } from '../../src/db/ids';

describe('newId', () => {
  it('makes UUIDv7s that are unique and ordered by creation, also within one millisecond', () => {
    const ids = Array.from({ length: 20_000 }, () => newId());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(ids.every((id) => isId(id) && id[14] === '7' && '89ab'.includes(id[19]!))).toBe(true);
  });

  it('carries the time it was made in its first 48 bits', () => {
    const at = Date.UTC(2030, 0, 1);
    const id = newId(at + 10_000_000_000); // later than any id made so far: its own time
    expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at + 10_000_000_000);
  });
});
