import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(__dirname, '..', 'src');

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourcesUnder(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** The area a file belongs to: its module under src/modules, else its folder under src. */
function areaOf(path: string): string {
  const parts = relative(SRC, path).split(/[\\/]/);
  return parts[0] === 'modules' ? parts[1]! : parts.length > 1 ? parts[0]! : 'src';
}

const files = sourcesUnder(SRC).map((path) => ({ path, area: areaOf(path), text: readFileSync(path, 'utf8') }));

/** Each table, with the module that owns it: the one whose entity maps it. */
const owners = new Map<string, string>();
/** Each entity class, with its table. */
const tableOf = new Map<string, string>();
for (const file of files.filter((f) => f.path.endsWith('.entity.ts'))) {
  for (const match of file.text.matchAll(/@Entity\(\{ tableName: '(\w+)' \}\)[\s\S]*?export class (\w+)/g)) {
    owners.set(match[1]!, file.area);
    tableOf.set(match[2]!, match[1]!);
  }
}

/** Every place that writes a row: plain SQL, and the ORM's calls that create or change rows of an entity. */
const writes = files.flatMap((file) => {
  const found: { table: string; area: string; path: string; how: string }[] = [];
  const add = (table: string, how: string) => found.push({ table, area: file.area, path: relative(SRC, file.path), how });
  for (const m of file.text.matchAll(/\b(insert\s+into|update|delete\s+from)\s+(\w+)(\s+set\b)?/gi)) {
    const verb = m[1]!.toLowerCase();
    if (verb === 'update' && !m[3]) continue;
    if (owners.has(m[2]!)) add(m[2]!, `${verb} ${m[2]}`);
  }
  for (const m of file.text.matchAll(/\.(create|nativeUpdate|nativeDelete|upsert|upsertMany|insert|insertMany)\((\w+)\b/g)) {
    const table = tableOf.get(m[2]!);
    if (table) add(table, `${m[1]}(${m[2]})`);
  }
  return found;
});

describe('who writes each table', () => {
  it('maps each of the 30 tables to the module of its entity', () => {
    expect(owners.size).toBe(30);
    expect(owners.get('license')).toBe('license');
    expect(owners.get('license_feature')).toBe('license');
    expect(owners.get('audit_event')).toBe('audit');
  });

  it('finds writes of every table the server writes row by row', () => {
    const written = new Set(writes.map((w) => w.table));
    // plan_feature is written through its plan's collection (`plan.features.set`), in the catalog.
    expect([...owners.keys()].filter((table) => !written.has(table))).toEqual(['plan_feature']);
  });

  it('has no table written from outside the module that owns it', () => {
    const foreign = writes.filter((w) => w.area !== owners.get(w.table)).map((w) => `${w.path}: ${w.how}`);
    expect(foreign).toEqual([]);
  });

  it('writes a license and its features only through the license store', () => {
    for (const table of ['license', 'license_feature']) {
      expect([...new Set(writes.filter((w) => w.table === table).map((w) => w.path))]).toEqual(['modules/license/license-store.ts']);
    }
  });
});
