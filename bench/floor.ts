/**
 * Child process: the floors the project is measured against, bare `node:http` servers on 127.0.0.1 and an
 * ephemeral port. They take the very requests the project takes (GraphQL POST bodies), so that the load
 * generator cannot tell them apart, and do only the essential work:
 *
 *   static              drains the body and answers a fixed small JSON body;
 *   seats <sqlite-file> <seat-limit>
 *                       checkout/checkin of concurrent seats with better-sqlite3 prepared statements in
 *                       `BEGIN IMMEDIATE` transactions, in its own tiny schema.
 *   pg-validate <database-url>
 *                       the reads of a validation on PostgreSQL (`pg`, a pool of 10 as the project's): the key's
 *                       HMAC, then the license by its digest with the machine's live lease and the feature's
 *                       entitlement, in one statement, in its own tiny schema.
 *   pg-seats <database-url> <seat-limit>
 *                       checkout/checkin on PostgreSQL: the license's row locked (`select … for update`), its live
 *                       leases counted and one inserted if any is free, in one transaction; checkin an update.
 *
 * Prints one JSON line `{ url }` once it listens; closes on SIGTERM.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import pg from 'pg';
import { FLOOR_FEATURE, FLOOR_FINGERPRINT, FLOOR_KEY } from './seed';

const LICENSE_ID = 'floor-license';
const STATIC_BODY = '{"data":{"validateLicense":{"valid":true,"code":"VALID"}}}';

type Handler = (body: string, res: ServerResponse) => void | Promise<void>;

function reply(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function staticFloor(): Handler {
  return (_body, res) => reply(res, 200, STATIC_BODY);
}

/** The same rule as the project's lease ledger, and nothing else: count live leases, take one if any is free. */
function seatsFloor(path: string, seatLimit: number): Handler {
  const db = new Database(path);
  // The same tuning as the project's SQLite (src/db/sql.ts tuneSqlite), so that only the work differs.
  db.pragma('journal_mode = wal');
  db.pragma('synchronous = normal');
  db.pragma('busy_timeout = 5000');
  db.exec(`create table if not exists lease (
             id text primary key, license_id text not null, fingerprint text not null,
             checked_out_at integer not null, released_at integer);
           create index if not exists lease_license_released on lease (license_id, released_at);`);
  const begin = db.prepare('begin immediate');
  const commit = db.prepare('commit');
  const rollback = db.prepare('rollback');
  const seatsInUse = db.prepare<[string], { n: number }>('select count(*) as n from lease where license_id = ? and released_at is null');
  const insert = db.prepare('insert into lease (id, license_id, fingerprint, checked_out_at) values (?, ?, ?, ?)');
  const release = db.prepare('update lease set released_at = ? where id = ? and license_id = ? and released_at is null');

  const transaction = <T>(fn: () => T): T => {
    begin.run();
    try {
      const result = fn();
      commit.run();
      return result;
    } catch (error) {
      if (db.inTransaction) rollback.run();
      throw error;
    }
  };

  const checkout = (fingerprint: string) =>
    transaction(() => {
      const inUse = seatsInUse.get(LICENSE_ID)!.n;
      if (inUse >= seatLimit) return { outcome: 'NO_SEAT_AVAILABLE', seatsInUse: inUse, lease: null };
      const id = randomUUID();
      insert.run(id, LICENSE_ID, fingerprint, Date.now());
      return { outcome: 'GRANTED', seatsInUse: inUse + 1, lease: { id } };
    });
  const checkin = (leaseId: string) =>
    transaction(() => ({ outcome: release.run(Date.now(), leaseId, LICENSE_ID).changes ? 'RELEASED' : 'ALREADY_RELEASED' }));

  return (body, res) => {
    let variables: { fingerprint?: unknown; leaseId?: unknown };
    try {
      variables = (JSON.parse(body) as { variables?: typeof variables }).variables ?? {};
    } catch {
      reply(res, 400, '{"errors":[{"message":"The request body is not valid JSON."}]}');
      return;
    }
    const data =
      typeof variables.leaseId === 'string'
        ? { checkinSeat: checkin(variables.leaseId) }
        : { checkoutSeat: checkout(String(variables.fingerprint ?? 'anonymous')) };
    reply(res, 200, JSON.stringify({ data }));
  };
}

/** The project's pool size on PostgreSQL (DATABASE_POOL_SIZE's default), so that only the work differs. */
const POOL_SIZE = 10;
const FLOOR_SECRET = 'floor-secret';

const digestOf = (key: string) => createHmac('sha256', FLOOR_SECRET).update(key).digest('base64url');

function parseVariables<T>(body: string, res: ServerResponse): T | null {
  try {
    return ((JSON.parse(body) as { variables?: T }).variables ?? {}) as T;
  } catch {
    reply(res, 400, '{"errors":[{"message":"The request body is not valid JSON."}]}');
    return null;
  }
}

/** The validation's reads on PostgreSQL and a verdict, in a schema of three tables seeded with one license. */
async function pgValidateFloor(url: string): Promise<Handler> {
  const pool = new pg.Pool({ connectionString: url, max: POOL_SIZE });
  await pool.query(`
    create table if not exists license (id text primary key, key_digest text not null unique, product_id text not null,
      status text not null, starts_at timestamptz not null, expires_at timestamptz);
    create table if not exists lease (id text primary key, license_id text not null, fingerprint text not null,
      expires_at timestamptz not null, released_at timestamptz);
    create index if not exists lease_license_fingerprint on lease (license_id, fingerprint) where released_at is null;
    create table if not exists feature (id text primary key, product_id text not null, key text not null, unique (product_id, key));
    create table if not exists license_feature (license_id text not null, feature_id text not null, primary key (license_id, feature_id));`);
  await pool.query(
    `insert into license values ('l1', $1, 'p1', 'ACTIVE', now() - interval '1 day', now() + interval '1 year') on conflict do nothing`,
    [digestOf(FLOOR_KEY)],
  );
  await pool.query(`insert into lease values ('e1', 'l1', $1, now() + interval '1 day', null) on conflict do nothing`, [FLOOR_FINGERPRINT]);
  await pool.query(`insert into feature values ('f1', 'p1', $1) on conflict do nothing`, [FLOOR_FEATURE]);
  await pool.query(`insert into license_feature values ('l1', 'f1') on conflict do nothing`);
  const read = {
    name: 'floor-validate',
    text: `select l.id, l.status, l.starts_at, l.expires_at,
             (select e.id from lease e where e.license_id = l.id and e.fingerprint = $2 and e.released_at is null and e.expires_at > now()) as live_lease,
             exists (select 1 from license_feature lf join feature f on f.id = lf.feature_id
                      where lf.license_id = l.id and f.product_id = l.product_id and f.key = $3) as entitled
           from license l where l.key_digest = $1`,
  };
  return async (body, res) => {
    const variables = parseVariables<{ key?: string; fingerprint?: string; feature?: string }>(body, res);
    if (!variables) return;
    const { rows } = await pool.query({
      ...read,
      values: [digestOf(String(variables.key)), variables.fingerprint ?? null, variables.feature ?? null],
    });
    const row = rows[0] as
      | { status: string; starts_at: Date; expires_at: Date | null; live_lease: string | null; entitled: boolean }
      | undefined;
    const now = Date.now();
    const valid =
      row !== undefined &&
      row.status === 'ACTIVE' &&
      row.starts_at.getTime() <= now &&
      (row.expires_at === null || row.expires_at.getTime() > now) &&
      row.live_lease !== null &&
      row.entitled;
    reply(res, 200, JSON.stringify({ data: { validateLicense: { valid, code: valid ? 'VALID' : 'INVALID' } } }));
  };
}

/** The lease ledger's rule on PostgreSQL: the license's row locked, its live leases counted, one taken if free. */
async function pgSeatsFloor(url: string, seatLimit: number): Promise<Handler> {
  const pool = new pg.Pool({ connectionString: url, max: POOL_SIZE });
  await pool.query(`
    create table if not exists license (id text primary key, concurrent_sessions integer not null);
    create table if not exists lease (id text primary key, license_id text not null references license (id), fingerprint text not null,
      checked_out_at timestamptz not null, released_at timestamptz);
    create index if not exists lease_license_live on lease (license_id) where released_at is null;`);
  await pool.query('insert into license values ($1, $2) on conflict do nothing', [LICENSE_ID, seatLimit]);

  const checkout = async (fingerprint: string) => {
    const client = await pool.connect();
    try {
      await client.query('begin');
      const license = await client.query({
        name: 'lock',
        text: 'select concurrent_sessions from license where id = $1 for update',
        values: [LICENSE_ID],
      });
      const limit = Number(license.rows[0].concurrent_sessions);
      const inUse = Number(
        (
          await client.query({
            name: 'count',
            text: 'select count(*) as n from lease where license_id = $1 and released_at is null',
            values: [LICENSE_ID],
          })
        ).rows[0].n,
      );
      if (inUse >= limit) {
        await client.query('commit');
        return { outcome: 'NO_SEAT_AVAILABLE', seatsInUse: inUse, lease: null };
      }
      const id = randomUUID();
      await client.query({
        name: 'take',
        text: 'insert into lease (id, license_id, fingerprint, checked_out_at) values ($1, $2, $3, now())',
        values: [id, LICENSE_ID, fingerprint],
      });
      await client.query('commit');
      return { outcome: 'GRANTED', seatsInUse: inUse + 1, lease: { id } };
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  };
  const checkin = async (leaseId: string) => {
    const released = await pool.query({
      name: 'release',
      text: 'update lease set released_at = now() where id = $1 and license_id = $2 and released_at is null',
      values: [leaseId, LICENSE_ID],
    });
    return { outcome: released.rowCount ? 'RELEASED' : 'ALREADY_RELEASED' };
  };

  return async (body, res) => {
    const variables = parseVariables<{ fingerprint?: unknown; leaseId?: unknown }>(body, res);
    if (!variables) return;
    const data =
      typeof variables.leaseId === 'string'
        ? { checkinSeat: await checkin(variables.leaseId) }
        : { checkoutSeat: await checkout(String(variables.fingerprint ?? 'anonymous')) };
    reply(res, 200, JSON.stringify({ data }));
  };
}

async function handlerFor([mode, where, limit]: string[]): Promise<Handler> {
  if (mode === 'static') return staticFloor();
  if (mode === 'seats' && where && Number(limit) > 0) return seatsFloor(where, Number(limit));
  if (mode === 'pg-validate' && where) return pgValidateFloor(where);
  if (mode === 'pg-seats' && where && Number(limit) > 0) return pgSeatsFloor(where, Number(limit));
  throw new Error(
    'usage: floor.ts static | seats <sqlite-file> <seat-limit> | pg-validate <database-url> | pg-seats <database-url> <seat-limit>',
  );
}

async function main(): Promise<void> {
  const handle = await handlerFor(process.argv.slice(2));

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const failed = (error: unknown) => {
        process.stderr.write(`${String(error)}\n`);
        reply(res, 500, '{"errors":[{"message":"internal error"}]}');
      };
      try {
        const done = handle(Buffer.concat(chunks).toString('utf8'), res);
        if (done) done.catch(failed);
      } catch (error) {
        failed(error);
      }
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}/graphql` })}\n`);
  });
  process.once('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
