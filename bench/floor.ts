/**
 * Child process: the floors the project is measured against, bare `node:http` servers on 127.0.0.1 and an
 * ephemeral port. They take the very requests the project takes (GraphQL POST bodies), so that the load
 * generator cannot tell them apart, and do only the essential work:
 *
 *   static              drains the body and answers a fixed small JSON body;
 *   seats <sqlite-file> <seat-limit>
 *                       checkout/checkin of concurrent seats with better-sqlite3 prepared statements in
 *                       `BEGIN IMMEDIATE` transactions, in its own tiny schema.
 *
 * Prints one JSON line `{ url }` once it listens; closes on SIGTERM.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';

const LICENSE_ID = 'floor-license';
const STATIC_BODY = '{"data":{"validateLicense":{"valid":true,"code":"VALID"}}}';

type Handler = (body: string, res: ServerResponse) => void;

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

function main(): void {
  const [mode, path, limit] = process.argv.slice(2);
  const handle = mode === 'static' ? staticFloor() : mode === 'seats' && path && Number(limit) > 0 ? seatsFloor(path, Number(limit)) : null;
  if (!handle) throw new Error('usage: floor.ts static | seats <sqlite-file> <seat-limit>');

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        handle(Buffer.concat(chunks).toString('utf8'), res);
      } catch (error) {
        process.stderr.write(`${String(error)}\n`);
        reply(res, 500, '{"errors":[{"message":"internal error"}]}');
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

main();
