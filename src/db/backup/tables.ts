import { createHash } from 'node:crypto';
import type { EntityMetadata, EntityProperty, MetadataStorage } from '@mikro-orm/core';
import { BackupError } from './backup.errors';

/**
 * How a column's values are written in a backup, whatever the database stored them as: a point in time (epoch
 * milliseconds on SQLite, a timestamptz on PostgreSQL) as an ISO string with milliseconds, a boolean (0/1 on SQLite)
 * as true/false, a number (a bigint arrives as text from PostgreSQL) as a JSON number, a JSON column (text on SQLite,
 * jsonb on PostgreSQL) as its parsed value, and text as it is.
 */
export type ColumnKind = 'datetime' | 'boolean' | 'number' | 'json' | 'text';

export interface BackupColumn {
  name: string;
  kind: ColumnKind;
}

/** A table as a backup holds it: its columns, the columns of its primary key, and the tables it refers to. */
export interface BackupTable {
  name: string;
  columns: BackupColumn[];
  primaryKey: string[];
  references: string[];
}

function kindOf(prop: EntityProperty): ColumnKind {
  const type = String(prop.columnTypes?.[0] ?? prop.type).toLowerCase();
  const declared = String(prop.type).toLowerCase();
  if (declared === 'datetime' || prop.runtimeType === 'Date' || /timestamp|datetime/.test(type)) return 'datetime';
  if (declared === 'boolean' || prop.runtimeType === 'boolean') return 'boolean';
  if (declared === 'jsontype' || declared === 'json' || /^jsonb?$/.test(type)) return 'json';
  if (/int|numeric|decimal|double|float|real/.test(type) || prop.runtimeType === 'number') return 'number';
  return 'text';
}

/** The columns a property maps: its own, or for a reference, those of the referenced primary key. */
function columnsOfProperty(prop: EntityProperty): BackupColumn[] {
  if (prop.kind === 'scalar') return (prop.fieldNames ?? [prop.name]).map((name) => ({ name, kind: kindOf(prop) }));
  const target = prop.targetMeta;
  if (!target) throw new Error(`the reference ${prop.name} has no target metadata`);
  const keys = target.getPrimaryProps().flatMap(columnsOfProperty);
  return prop.fieldNames.map((name, i) => ({ name, kind: keys[i]?.kind ?? 'text' }));
}

/** Whether a property is stored in its entity's own table (not a collection, not computed). */
function isStored(prop: EntityProperty): boolean {
  if (prop.persist === false || prop.formula) return false;
  return prop.kind === 'scalar' || prop.kind === 'm:1' || (prop.kind === '1:1' && Boolean(prop.owner));
}

function tableOf(meta: EntityMetadata): BackupTable {
  const columns = new Map<string, BackupColumn>();
  const references = new Set<string>();
  for (const prop of meta.props.filter(isStored)) {
    for (const column of columnsOfProperty(prop)) columns.set(column.name, column);
    if (prop.kind !== 'scalar' && prop.targetMeta && prop.targetMeta.tableName !== meta.tableName) {
      references.add(prop.targetMeta.tableName);
    }
  }
  const primaryKey = meta.getPrimaryProps().flatMap((prop) => prop.fieldNames);
  return { name: meta.tableName, columns: [...columns.values()], primaryKey, references: [...references].sort() };
}

/**
 * Every table the entities map, in an order the foreign keys allow: each after the tables it refers to (by name
 * among those free to go next, so that the order is the same on every run). A table added to the entities is
 * included without more ado; a cycle of references is refused, since its rows could not be inserted one table at a time.
 */
export function backupTables(metadata: MetadataStorage): BackupTable[] {
  const byName = new Map<string, BackupTable>();
  for (const meta of Object.values(metadata.getAll())) {
    if (meta.abstract || meta.embeddable || meta.virtual || !meta.tableName) continue;
    byName.set(meta.tableName, tableOf(meta));
  }
  const ordered: BackupTable[] = [];
  const placed = new Set<string>();
  while (ordered.length < byName.size) {
    const ready = [...byName.values()]
      .filter((table) => !placed.has(table.name) && table.references.every((name) => placed.has(name) || !byName.has(name)))
      .sort((a, b) => a.name.localeCompare(b.name));
    if (ready.length === 0) {
      const left = [...byName.keys()].filter((name) => !placed.has(name));
      throw new Error(`the tables ${left.join(', ')} refer to each other in a cycle`);
    }
    const next = ready[0]!;
    ordered.push(next);
    placed.add(next.name);
  }
  return ordered;
}

/** A value of the canonical form: what a backup holds, the same whichever database it came from. */
export type CanonicalValue = string | number | boolean | null | CanonicalValue[] | { [key: string]: CanonicalValue };

function toIso(value: unknown): string {
  let date: Date;
  if (value instanceof Date) date = value;
  else if (typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value))) date = new Date(Number(value));
  else
    date = new Date(
      String(value)
        .replace(' ', 'T')
        .replace(/([+-]\d\d)$/, '$1:00'),
    );
  if (Number.isNaN(date.getTime())) throw new Error(`not a point in time: ${JSON.stringify(value)}`);
  return date.toISOString();
}

/** A stored value in the canonical form of its column's kind. */
export function canonicalValue(kind: ColumnKind, value: unknown): CanonicalValue {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'datetime':
      return toIso(value);
    case 'boolean':
      return value === true || value === 1 || value === '1' || value === 't' || value === 'true';
    case 'number':
      return typeof value === 'number' ? value : Number(value);
    case 'json':
      return (typeof value === 'string' ? JSON.parse(value) : value) as CanonicalValue;
    default:
      return Buffer.isBuffer(value) ? value.toString('base64') : String(value);
  }
}

/** JSON with every object's keys sorted, so that equal values give equal text whatever their keys' order. */
export function canonicalJson(value: CanonicalValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key]!)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A canonical value as the target database stores it; the SQL runners bind Dates and booleans for their database. */
export function storedValue(kind: ColumnKind, value: CanonicalValue): string | number | boolean | null | Date {
  if (value === null) return null;
  if (kind === 'datetime') return new Date(value as string);
  if (kind === 'json') return JSON.stringify(value);
  return value as string | number | boolean;
}

const MODULUS = 1n << 256n;

/**
 * The checksum of a table's rows: SHA-256 over the row count and the sum, modulo 2^256, of the SHA-256 of each row's
 * canonical JSON (an object of its columns by name). The sum does not depend on the order the rows come in, which
 * differs between databases (their collations order text keys differently), so the checksum of a table is the same
 * on SQLite and PostgreSQL, and can be taken while the rows stream past.
 */
export class TableChecksum {
  private sum = 0n;
  rows = 0;

  constructor(private readonly columns: readonly BackupColumn[]) {}

  /** Adds a row given as its canonical values in the order of the columns. */
  add(values: readonly CanonicalValue[]): void {
    if (values.length !== this.columns.length) throw new BackupError('DAMAGED', 'a row does not have its table’s columns');
    const row: Record<string, CanonicalValue> = {};
    this.columns.forEach((column, i) => {
      row[column.name] = values[i]!;
    });
    const digest = createHash('sha256').update(canonicalJson(row)).digest('hex');
    this.sum = (this.sum + BigInt(`0x${digest}`)) % MODULUS;
    this.rows += 1;
  }

  digest(): string {
    return createHash('sha256')
      .update(`${this.rows}:${this.sum.toString(16).padStart(64, '0')}`)
      .digest('hex');
  }
}
