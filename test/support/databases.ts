import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type { DatabaseConfig } from '../../src/config';

export type DatabaseKind = 'sqlite' | 'postgresql';

/** A PostgreSQL server to run the database-facing tests on as well; each test file gets a database of its own. */
export const POSTGRES_URL = process.env.TEST_DATABASE_URL?.trim() || undefined;

export const DATABASE_KINDS: DatabaseKind[] = POSTGRES_URL ? ['sqlite', 'postgresql'] : ['sqlite'];

export interface TestDatabase {
  kind: DatabaseKind;
  config: DatabaseConfig;
  /** The SQLite file, to search its bytes. */
  file?: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database of the given kind, dropped afterwards. */
export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'license-manager-test-'));
    const file = join(dir, 'test.sqlite');
    return { kind, file, config: { driver: 'sqlite', path: file }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  if (!POSTGRES_URL) throw new Error('TEST_DATABASE_URL is not set');
  const name = `lm_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  await admin((c) => c.query(`create database ${name}`));
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    kind,
    config: { driver: 'postgresql', url: url.toString() },
    drop: () => admin(async (c) => void (await c.query(`drop database if exists ${name} with (force)`))),
  };
}
