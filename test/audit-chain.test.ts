import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chainHash } from '../src/modules/audit/audit-chain';
import { CreateOrganizationDocument, VerifyAuditLogDocument } from './generated/graphql';
import { issueToken, licensed } from './support/factories';
import { DATABASE_KINDS, POSTGRES_URL } from './support/databases';
import { describeEachDatabase, startTestServer, type TestServer } from './support/server';

const ROOT = join(__dirname, '..');

type Row = Record<string, unknown> & { id: string; seq: number | string; hash: string };

const rows = (t: TestServer) => t.server.db.read((sql) => sql.all<Row>('select * from audit_event where seq is not null order by seq'));
const exec = (t: TestServer, statement: string, params: unknown[] = []) => t.server.db.write((tx) => tx.run(statement, params as never[]));
const verify = async (t: TestServer) => (await t.ok(VerifyAuditLogDocument, {})).verifyAuditLog;

/** Makes some history: an organization, licenses, a token (each audited). */
async function history(t: TestServer): Promise<void> {
  const a = await licensed(t, 'SUBSCRIPTION');
  await licensed(t, 'CONCURRENT', { organizationId: a.organizationId });
  await issueToken(t, 'AUDITOR', a.organizationId);
  await t.ok(CreateOrganizationDocument, { input: { name: `chain ${randomUUID()}` } });
}

/** Puts a row back as it was (after deleting it). */
async function reinsert(t: TestServer, row: Row): Promise<void> {
  const columns = Object.keys(row);
  await exec(t, `insert into audit_event (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`, Object.values(row));
}

describeEachDatabase('the audit chain', (server) => {
  it('seals every event into one chain, in places 1 to N, which verifies', async () => {
    const t = server();
    await history(t);
    const report = await verify(t);
    const all = await t.server.db.read((sql) => sql.get<{ n: number | string }>('select count(*) as n from audit_event'));
    expect(report).toMatchObject({ valid: true, unsealed: 0, checked: Number(all!.n), firstBroken: null });
    const sealed = await rows(t);
    expect(sealed.map((r) => Number(r.seq))).toEqual(sealed.map((_, i) => i + 1));
    expect(report.head).toEqual({ seq: sealed.length, hash: sealed.at(-1)!.hash });
  });

  it('finds an edited, deleted, moved or inserted event at that event, and nothing once it is put back', async () => {
    const t = server();
    await history(t);
    await verify(t);
    const sealed = await rows(t);
    const k = 3;
    const target = sealed[k - 1]!;

    // Edited: one column of one event.
    await exec(t, 'update audit_event set actor_label = ? where id = ?', ['someone else', target.id]);
    expect((await verify(t)).firstBroken).toMatchObject({ seq: k, eventId: target.id, reason: 'HASH_MISMATCH' });
    await exec(t, 'update audit_event set actor_label = ? where id = ?', [target.actor_label, target.id]);
    expect((await verify(t)).valid).toBe(true);

    // Edited inside its JSON.
    await exec(t, 'update audit_event set after = ? where id = ?', [JSON.stringify({ forged: true }), target.id]);
    expect((await verify(t)).firstBroken).toMatchObject({ seq: k, reason: 'HASH_MISMATCH' });
    await exec(t, 'update audit_event set after = ? where id = ?', [
      typeof target.after === 'string' ? target.after : JSON.stringify(target.after),
      target.id,
    ]);
    expect((await verify(t)).valid).toBe(true);

    // Deleted.
    await exec(t, 'delete from audit_event where id = ?', [target.id]);
    expect((await verify(t)).firstBroken).toMatchObject({ seq: k, eventId: null, reason: 'MISSING' });
    await reinsert(t, target);
    expect((await verify(t)).valid).toBe(true);

    // Moved: two events swap places.
    const next = sealed[k]!;
    await exec(t, 'update audit_event set seq = -1 where id = ?', [target.id]);
    await exec(t, 'update audit_event set seq = ? where id = ?', [k, next.id]);
    await exec(t, 'update audit_event set seq = ? where id = ?', [k + 1, target.id]);
    expect((await verify(t)).firstBroken).toMatchObject({ seq: k, eventId: next.id, reason: 'HASH_MISMATCH' });
    await exec(t, 'update audit_event set seq = -1 where id = ?', [next.id]);
    await exec(t, 'update audit_event set seq = ? where id = ?', [k, target.id]);
    await exec(t, 'update audit_event set seq = ? where id = ?', [k + 1, next.id]);
    expect((await verify(t)).valid).toBe(true);

    // Inserted: the events from k on move one place up, and a forged one takes place k with a hash of its own.
    await exec(t, 'update audit_event set seq = -seq where seq >= ?', [k]);
    await exec(t, 'update audit_event set seq = 1 - seq where seq < 0');
    const forged = { ...target, id: '01900000-0000-7000-8000-000000000001', seq: k, hash: 'f'.repeat(64) };
    await reinsert(t, forged);
    expect((await verify(t)).firstBroken).toMatchObject({ seq: k, eventId: forged.id, reason: 'HASH_MISMATCH' });
    // Even with a hash made as the server makes it, what follows no longer fits.
    await exec(t, 'update audit_event set hash = ? where id = ?', [chainHash(k, sealed[k - 2]!.hash, forged as never), forged.id]);
    expect((await verify(t)).firstBroken).toMatchObject({ seq: k + 1, eventId: target.id, reason: 'HASH_MISMATCH' });
    await exec(t, 'delete from audit_event where id = ?', [forged.id]);
    await exec(t, 'update audit_event set seq = -seq where seq > ?', [k]);
    await exec(t, 'update audit_event set seq = -seq - 1 where seq < 0');
    expect((await verify(t)).valid).toBe(true);
  });

  it('anchors its head, signed: a cut-off tail and a chain rewritten up to an anchor are found', async () => {
    const t = server();
    await history(t);
    await verify(t);
    const anchor = await t.server.services.auditChain.anchor();
    const sealed = await rows(t);
    expect(anchor).toMatchObject({ seq: sealed.length, hash: sealed.at(-1)!.hash });
    expect(anchor!.signature).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(await t.server.services.auditChain.anchor()).toBeNull(); // nothing new to anchor
    expect(await verify(t)).toMatchObject({ valid: true, anchorsChecked: 1 });

    // The tail cut off: the anchor says the chain went further.
    const last = sealed.at(-1)!;
    await exec(t, 'delete from audit_event where id = ?', [last.id]);
    expect((await verify(t)).firstBroken).toMatchObject({ seq: Number(last.seq), eventId: null, reason: 'TRUNCATED' });
    await reinsert(t, last);
    expect((await verify(t)).valid).toBe(true);

    // Rewritten: an event changed and every hash after it made anew, as the server would: the chain fits itself,
    // not the anchor.
    const k = 2;
    await exec(t, 'update audit_event set actor_label = ? where seq = ?', ['rewritten', k]);
    let previous = sealed[k - 2]!.hash;
    for (const row of (await rows(t)).slice(k - 1)) {
      previous = chainHash(Number(row.seq), previous, row as never);
      await exec(t, 'update audit_event set hash = ? where id = ?', [previous, row.id]);
    }
    expect((await verify(t)).firstBroken).toMatchObject({ seq: sealed.length, reason: 'ANCHOR_MISMATCH' });
    // And with the anchor's hash changed to fit: its signature no longer does.
    await exec(t, 'update audit_anchor set hash = ?', [previous]);
    expect((await verify(t)).firstBroken).toMatchObject({ seq: sealed.length, reason: 'ANCHOR_SIGNATURE_INVALID' });
  });

  it('verifies a time range, and is for platform admins only', async () => {
    const t = server();
    await history(t);
    const from = new Date(t.clock.now().getTime() + 1);
    await t.clock.advance(60_000);
    await history(t);
    const all = await verify(t);
    const since = (await t.ok(VerifyAuditLogDocument, { from: from.toISOString() })).verifyAuditLog;
    expect(since.valid).toBe(true);
    expect(since.checked).toBeGreaterThan(0);
    expect(since.checked).toBeLessThan(all.checked);
    const org = await licensed(t, 'SUBSCRIPTION');
    const admin = await issueToken(t, 'ORG_ADMIN', org.organizationId);
    expect(await t.errorCode(VerifyAuditLogDocument, {}, admin.secret)).toBe('FORBIDDEN');
    const at = t.clock.now().toISOString();
    expect(await t.errorCode(VerifyAuditLogDocument, { from: at, to: at })).toBe('BAD_USER_INPUT');
  });
});

describe.each(DATABASE_KINDS)('verify-audit on the command line [%s]', (kind) => {
  it('says the chain is valid, or names the first event that does not fit and exits 1', async () => {
    const t = await startTestServer(kind);
    try {
      await history(t);
      const config = t.server.config;
      const env = {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        SECRET_KEY: config.secretKey.toString('utf8'),
        ...(config.database.driver === 'sqlite' ? { SQLITE_PATH: config.database.path } : { DATABASE_URL: config.database.url }),
      };
      const run = () =>
        spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/admin.ts', 'verify-audit'], { cwd: ROOT, env, encoding: 'utf8' });
      const valid = run();
      expect(valid.stderr).toBe('');
      expect(valid.status).toBe(0);
      expect(valid.stdout).toMatch(/^audit chain valid: \d+ events and 0 anchors checked; head \d+ [0-9a-f]{64}\n$/);

      const [, second] = await rows(t);
      await exec(t, 'update audit_event set action = ? where id = ?', ['license.forged', second!.id]);
      const broken = run();
      expect(broken.status).toBe(1);
      expect(broken.stdout).toContain(`audit chain BROKEN at 2 (event ${second!.id}): HASH_MISMATCH.`);

      const backwards = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'src/cli/admin.ts', 'verify-audit', '--from', '2026-12-02T00:00:00Z', '--to', '2026-12-01T00:00:00Z'],
        { cwd: ROOT, env, encoding: 'utf8' },
      );
      expect(backwards.status).toBe(2);
      expect(backwards.stderr).toContain('--from must be before --to');
    } finally {
      await t.server.close();
      await t.database.drop();
    }
  });
});

describe.skipIf(!POSTGRES_URL)('two instances on one PostgreSQL database', () => {
  it('write and seal at once, and leave one valid chain', async () => {
    const first = await startTestServer('postgresql');
    const second = await startTestServer('postgresql', {}, first);
    try {
      const writes = [first, second].flatMap((t) => Array.from({ length: 6 }, () => history(t)));
      const seals = [first, second].flatMap((t) => Array.from({ length: 10 }, () => t.server.services.auditChain.seal()));
      await Promise.all([...writes, ...seals]);
      const report = await verify(second);
      const all = await first.server.db.read((sql) => sql.get<{ n: number | string }>('select count(*) as n from audit_event'));
      expect(report).toMatchObject({ valid: true, unsealed: 0, checked: Number(all!.n) });
      expect((await rows(first)).map((r) => Number(r.seq))).toEqual(Array.from({ length: Number(all!.n) }, (_, i) => i + 1));
    } finally {
      await second.server.close();
      await first.server.close();
      await first.database.drop();
    }
  });
});
