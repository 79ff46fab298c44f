import { createHash } from 'node:crypto';
import type { Clock } from '../../common/clock';
import { AdvisoryLock } from '../../db/advisory-locks';
import { BOOKKEEPING } from '../../db/orm';
import { fromJson, type SqlGateway, type SqlRunner, toDate } from '../../db/sql';

/** What an anchor states: the chain's head at a moment. */
export interface AnchorStatement {
  seq: number;
  hash: string;
  anchoredAt: string;
}

/**
 * Signs anchors with the server's signing key, and checks a signature against the keys the server ever signed with
 * (retired ones too). The audit log asks this of the module that keeps the keys.
 */
export interface ChainSigner {
  /** The anchor's signature (a compact JWS); null when the server has no key to sign with yet. */
  signStatement(sql: SqlRunner, statement: AnchorStatement): Promise<string | null>;
  /** What a signature states, if it was made by one of the server's keys; null otherwise. */
  verifyStatement(sql: SqlRunner, signature: string): Promise<AnchorStatement | null>;
}

/** Why an event does not fit the chain. */
export enum AuditChainBreak {
  /** Its hash is not the one of its content, its place and the hash before it: changed, moved or put in. */
  HASH_MISMATCH = 'HASH_MISMATCH',
  /** No event holds this place: one was deleted. */
  MISSING = 'MISSING',
  /** An anchor states another hash for this place: the chain up to it was rewritten. */
  ANCHOR_MISMATCH = 'ANCHOR_MISMATCH',
  /** An anchor's signature is not one of the server's keys. */
  ANCHOR_SIGNATURE_INVALID = 'ANCHOR_SIGNATURE_INVALID',
  /** The chain ends before a place an anchor holds: its tail was cut off. */
  TRUNCATED = 'TRUNCATED',
}

/** Where the chain stands, read cheaply (without checking it). */
export interface AuditChainStatus {
  head: { seq: number; hash: string } | null;
  /** Events committed but not sealed yet, and when the oldest of them occurred. */
  unsealed: number;
  oldestUnsealedAt: Date | null;
  lastAnchor: { seq: number; anchoredAt: Date } | null;
}

export interface AuditChainReport {
  valid: boolean;
  /** Sealed events checked. */
  checked: number;
  /** The last sealed event: the chain's head. */
  head: { seq: number; hash: string } | null;
  anchorsChecked: number;
  /** Events committed but not sealed into the chain yet. */
  unsealed: number;
  firstBroken: { seq: number; eventId: string | null; reason: AuditChainBreak; message: string } | null;
}

interface EventRow {
  id: string;
  organization_id: string | null;
  actor_type: string;
  actor_id: string | null;
  actor_label: string;
  action: string;
  object_type: string;
  object_id: string;
  before: unknown;
  after: unknown;
  request_id: string | null;
  occurred_at: unknown;
}

const CONTENT =
  'id, organization_id, actor_type, actor_id, actor_label, action, object_type, object_id, before, after, request_id, occurred_at';
/** Events sealed, or checked, per statement. */
const BATCH = 500;
/** Gives the events of a JSON array of `{ id, seq, hash }` their place and hash. */
const SEAL = {
  postgresql: `update audit_event as e set seq = s.seq, hash = s.hash
                 from jsonb_to_recordset(cast(? as jsonb)) as s(id text, seq bigint, hash text) where e.id = s.id`,
  sqlite: `update audit_event set seq = s.seq, hash = s.hash
             from (select json_extract(value, '$.id') as id, json_extract(value, '$.seq') as seq, json_extract(value, '$.hash') as hash
                     from json_each(?)) as s
            where audit_event.id = s.id`,
};

/** A JSON value with its object keys sorted, so that it reads the same whichever database stored it. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/** The hash of the event at `seq` after the one whose hash is `previous` (null for the first). */
export function chainHash(seq: number, previous: string | null, row: EventRow): string {
  const json = (state: unknown) => (state === null || state === undefined ? null : canonical(fromJson(state)));
  const content = [
    seq,
    previous ?? '',
    row.id,
    row.organization_id,
    row.actor_type,
    row.actor_id,
    row.actor_label,
    row.action,
    row.object_type,
    row.object_id,
    json(row.before),
    json(row.after),
    row.request_id,
    toDate(row.occurred_at).toISOString(),
  ];
  return createHash('sha256').update(JSON.stringify(content)).digest('hex');
}

type Break = NonNullable<AuditChainReport['firstBroken']>;

/**
 * Responsible for the audit log's proof of itself. Events are written by whatever transaction makes the change they
 * record; shortly after they commit, `seal` gives each its place in one chain and a hash over its content, its place
 * and the previous event's hash, in the order they became visible (under one lock, so that several instances make one
 * chain). Sealing after the commit keeps the lock off every audited write. `anchor` stores the chain's head, signed:
 * rewriting the chain up to an anchor, or cutting its tail, no longer fits it. `verify` reports the first event that
 * does not fit.
 */
export class AuditChain {
  constructor(
    private readonly db: SqlGateway,
    private readonly signer: ChainSigner,
    private readonly clock: Clock,
  ) {}

  /** Seals every committed event not sealed yet; returns how many. */
  async seal(): Promise<number> {
    // Most passes find nothing: looked for with a read, so that they take no write lock.
    const pending = await this.db.read((sql) => sql.get(`${BOOKKEEPING}select id from audit_event where seq is null limit 1`));
    if (!pending) return 0;
    let sealed = 0;
    for (;;) {
      const count = await this.db.write(async (tx) => {
        await tx.advisoryLock(AdvisoryLock.AUDIT_CHAIN);
        const rows = await tx.all<EventRow>(
          `${BOOKKEEPING}select ${CONTENT} from audit_event where seq is null order by id limit ${BATCH}`,
        );
        if (!rows.length) return 0;
        let { seq, hash } = (await headOf(tx, BOOKKEEPING)) ?? { seq: 0, hash: null as string | null };
        const seals: { id: string; seq: number; hash: string }[] = [];
        for (const row of rows) {
          seq += 1;
          hash = chainHash(seq, hash, row);
          seals.push({ id: row.id, seq, hash });
        }
        // The whole batch in one statement: on PostgreSQL an update an event was a round trip beside every audited write.
        await tx.run(`${BOOKKEEPING}${SEAL[tx.dialect]}`, [JSON.stringify(seals)]);
        return rows.length;
      });
      sealed += count;
      if (count < BATCH) return sealed;
    }
  }

  /** Stores the chain's head, signed, if it moved since the last anchor; returns the anchor, or null. */
  async anchor(): Promise<(AnchorStatement & { signature: string | null }) | null> {
    return this.db.write(async (tx) => {
      await tx.advisoryLock(AdvisoryLock.AUDIT_CHAIN);
      const head = await headOf(tx, BOOKKEEPING);
      const last = await tx.get<{ seq: number | string }>(`${BOOKKEEPING}select seq from audit_anchor order by seq desc limit 1`);
      if (!head || (last && Number(last.seq) >= head.seq)) return null;
      const anchoredAt = this.clock.now();
      const statement = { seq: head.seq, hash: head.hash, anchoredAt: anchoredAt.toISOString() };
      const signature = await this.signer.signStatement(tx, statement);
      await tx.run(`${BOOKKEEPING}insert into audit_anchor (seq, hash, signature, anchored_at) values (?, ?, ?, ?)`, [
        head.seq,
        head.hash,
        signature,
        anchoredAt,
      ]);
      return { ...statement, signature };
    });
  }

  /** Where the chain stands: its head, what waits to be sealed, the last anchor. */
  status(): Promise<AuditChainStatus> {
    return this.db.read(async (sql) => {
      const pending = await sql.get<{ n: number | string; oldest: unknown }>(
        'select count(*) as n, min(occurred_at) as oldest from audit_event where seq is null',
      );
      const anchor = await sql.get<{ seq: number | string; anchored_at: unknown }>(
        'select seq, anchored_at from audit_anchor order by seq desc limit 1',
      );
      return {
        head: await headOf(sql),
        unsealed: Number(pending?.n ?? 0),
        oldestUnsealedAt: pending?.oldest == null ? null : toDate(pending.oldest),
        lastAnchor: anchor ? { seq: Number(anchor.seq), anchoredAt: toDate(anchor.anchored_at) } : null,
      };
    });
  }

  /** Checks the chain (the events sealed between `from` and `to`, or all) and its anchors. */
  verify(range: { from?: Date | null; to?: Date | null } = {}): Promise<AuditChainReport> {
    return this.db.read((sql) => verifyAuditChain(sql, { ...range, signer: this.signer }));
  }
}

/** The last sealed event; `mark` marks the statement (as the server's bookkeeping). */
async function headOf(sql: SqlRunner, mark = ''): Promise<{ seq: number; hash: string } | null> {
  const row = await sql.get<{ seq: number | string; hash: string }>(
    `${mark}select seq, hash from audit_event where seq is not null order by seq desc limit 1`,
  );
  return row ? { seq: Number(row.seq), hash: row.hash } : null;
}

/**
 * Checks the audit chain in `sql` (a read that sees one state of the database): every event's hash from its
 * content, place and predecessor, no place missing, the anchors against the events they hold and, given a signer,
 * their signatures. With `from`/`to`, only the events sealed between the first that occurred at or after `from` and
 * the last before `to`.
 */
export async function verifyAuditChain(
  sql: SqlRunner,
  options: { from?: Date | null; to?: Date | null; signer?: ChainSigner } = {},
): Promise<AuditChainReport> {
  const head = await headOf(sql);
  const unsealed = Number((await sql.get<{ n: number | string }>('select count(*) as n from audit_event where seq is null'))?.n ?? 0);
  const bound = async (clause: string, at: Date) =>
    (
      await sql.get<{ seq: number | string | null }>(
        `select ${clause} as seq from audit_event where seq is not null and occurred_at ${clause === 'min(seq)' ? '>=' : '<'} ?`,
        [at],
      )
    )?.seq;
  const first = options.from ? Number((await bound('min(seq)', options.from)) ?? Number.POSITIVE_INFINITY) : 1;
  const last = options.to ? Number((await bound('max(seq)', options.to)) ?? 0) : (head?.seq ?? 0);
  const walked = await walk(sql, first, last);
  const anchors = await checkAnchors(sql, first, last, head, options.signer);
  const breaks = [walked.broken, anchors.broken].filter((b): b is Break => b !== null).sort((a, b) => a.seq - b.seq);
  return {
    valid: breaks.length === 0,
    checked: walked.checked,
    head,
    anchorsChecked: anchors.checked,
    unsealed,
    firstBroken: breaks[0] ?? null,
  };
}

/** Walks the events at places `first`..`last` in order, to the first that does not fit. */
async function walk(sql: SqlRunner, first: number, last: number): Promise<{ checked: number; broken: Break | null }> {
  if (first > last) return { checked: 0, broken: null };
  let previous: string | null = null;
  if (first > 1) {
    const before = await sql.get<{ hash: string }>('select hash from audit_event where seq = ?', [first - 1]);
    if (!before) return { checked: 0, broken: missing(first - 1, first) };
    previous = before.hash;
  }
  let expected = first;
  let checked = 0;
  while (expected <= last) {
    const rows = await sql.all<EventRow & { seq: number | string; hash: string }>(
      `select ${CONTENT}, seq, hash from audit_event where seq >= ? and seq <= ? order by seq limit ${BATCH}`,
      [expected, last],
    );
    if (!rows.length) return { checked, broken: missing(expected, null) };
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expected) return { checked, broken: missing(expected, seq) };
      if (chainHash(seq, previous, row) !== row.hash) {
        const message = `Event ${seq} (${row.id}) does not match its hash: it was changed, moved or put in after it was sealed.`;
        return { checked, broken: { seq, eventId: row.id, reason: AuditChainBreak.HASH_MISMATCH, message } };
      }
      previous = row.hash;
      expected += 1;
      checked += 1;
    }
  }
  return { checked, broken: null };
}

function missing(seq: number, next: number | null): Break {
  const after = next === null ? 'the chain ends before it' : `the chain goes on at ${next}`;
  return { seq, eventId: null, reason: AuditChainBreak.MISSING, message: `Event ${seq} is missing (${after}): it was deleted.` };
}

/** Checks the anchors at places `first`..`last` (and that the chain reaches the last anchor of all). */
async function checkAnchors(
  sql: SqlRunner,
  first: number,
  last: number,
  head: { seq: number } | null,
  signer?: ChainSigner,
): Promise<{ checked: number; broken: Break | null }> {
  const latest = await sql.get<{ seq: number | string; anchored_at: unknown }>(
    'select seq, anchored_at from audit_anchor order by seq desc limit 1',
  );
  if (latest && Number(latest.seq) > (head?.seq ?? 0)) {
    const seq = (head?.seq ?? 0) + 1;
    const at = toDate(latest.anchored_at).toISOString();
    const message = `The chain ends at ${head?.seq ?? 0}, but it reached ${latest.seq} when it was anchored at ${at}: its tail was cut off.`;
    return { checked: 0, broken: { seq, eventId: null, reason: AuditChainBreak.TRUNCATED, message } };
  }
  const anchors = await sql.all<{
    seq: number | string;
    hash: string;
    signature: string | null;
    event_hash: string | null;
    event_id: string | null;
  }>(
    `select a.seq, a.hash, a.signature, e.hash as event_hash, e.id as event_id
       from audit_anchor a left join audit_event e on e.seq = a.seq where a.seq >= ? and a.seq <= ? order by a.seq`,
    [first, last],
  );
  for (const anchor of anchors) {
    const seq = Number(anchor.seq);
    if (anchor.event_hash !== anchor.hash) {
      const message = `The anchor at ${seq} states another hash than the event there: the chain up to it was rewritten.`;
      return { checked: 0, broken: { seq, eventId: anchor.event_id, reason: AuditChainBreak.ANCHOR_MISMATCH, message } };
    }
    if (signer && anchor.signature) {
      const stated = await signer.verifyStatement(sql, anchor.signature);
      if (!stated || stated.seq !== seq || stated.hash !== anchor.hash) {
        const message = `The anchor at ${seq} is not signed by any of the server's keys, or its signature states another head.`;
        return { checked: 0, broken: { seq, eventId: anchor.event_id, reason: AuditChainBreak.ANCHOR_SIGNATURE_INVALID, message } };
      }
    }
  }
  return { checked: anchors.length, broken: null };
}
