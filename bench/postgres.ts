/**
 * The PostgreSQL benchmarks' databases: BENCH_DATABASE_URL names a server (any database on it the role may create
 * databases from); each server under test, the project or its floor, gets a fresh database of its own there, dropped
 * when it stops. Without BENCH_DATABASE_URL the PostgreSQL benchmarks say so and are skipped.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server the PostgreSQL benchmarks run against, if any. */
export const BENCH_DATABASE_URL = process.env.BENCH_DATABASE_URL?.trim() || null;

export interface BenchDatabase {
  url: string;
  /** A client on it, for the parent's own reads (the live-lease sampler). */
  client(): Promise<pg.Client>;
  drop(): Promise<void>;
}

async function connected(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

/** A new, empty database on BENCH_DATABASE_URL's server, named after what it is for. */
export async function freshDatabase(purpose: string): Promise<BenchDatabase> {
  if (!BENCH_DATABASE_URL) throw new Error('BENCH_DATABASE_URL is not set');
  const name = `bench_${purpose.replace(/\W/g, '_')}_${randomBytes(4).toString('hex')}`;
  const admin = await connected(BENCH_DATABASE_URL);
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(BENCH_DATABASE_URL);
  url.pathname = `/${name}`;
  const clients: pg.Client[] = [];
  return {
    url: url.toString(),
    async client() {
      const client = await connected(url.toString());
      clients.push(client);
      return client;
    },
    async drop() {
      await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
      const admin = await connected(BENCH_DATABASE_URL!);
      try {
        await admin.query(`drop database if exists ${name} with (force)`);
      } finally {
        await admin.end();
      }
    },
  };
}
