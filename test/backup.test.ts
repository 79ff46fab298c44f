import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseConfig, DEFAULT_DATABASE_LIMITS } from '../src/config';
import { type BackupHeader, type BackupManifest, backupLines, readBackup } from '../src/db/backup/backup-file';
import { asSqlRunner, type BackupConnection, type PgConnection, postgresConnection, sqliteConnection } from '../src/db/backup/connection';
import { writeEnvelope } from '../src/db/backup/envelope';
import { tableSummaries } from '../src/db/backup/restore';
import type { CanonicalValue } from '../src/db/backup/tables';
import { openMigrated } from '../src/db/migrate';
import { MIGRATIONS, QueryCounter } from '../src/db/orm';
import { createLogger } from '../src/logger';
import { verifyAuditChain } from '../src/modules/audit/audit-chain';
import { ENTITIES } from '../src/server/entities';
import { CheckoutSeatDocument, OrganizationDocument, ValidateLicenseDocument } from './generated/graphql';
import { issueToken, type Licensed, licensed } from './support/factories';
import { createTestDatabase, DATABASE_KINDS, type DatabaseKind, type TestDatabase } from './support/databases';
import { startTestServer, type TestServer } from './support/server';

const ROOT = resolve(__dirname, '..');

interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const databaseEnv = (database: DatabaseConfig): Record<string, string> =>
  database.driver === 'sqlite' ? { SQLITE_PATH: database.path } : { DATABASE_URL: database.url };

/** Runs `npm run backup` or `npm run restore` as a process of its own (from source, through tsx, as npm would). */
function command(
  name: 'backup' | 'restore',
  args: string[],
  database: DatabaseConfig,
  env: Record<string, string> = {},
): Promise<CommandResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', `src/cli/${name}.ts`, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...databaseEnv(database), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((done) => child.on('exit', (code) => done({ code, stdout, stderr })));
}

/** Runs `fn` on a plain connection to the database (not a server's). */
async function onDatabase<T>(database: DatabaseConfig, fn: (connection: BackupConnection) => Promise<T>): Promise<T> {
  if (database.driver === 'sqlite') {
    const db = new BetterSqlite3(database.path, { readonly: true, fileMustExist: true });
    try {
      return await fn(sqliteConnection(db));
    } finally {
      db.close();
    }
  }
  const client = new Client({ connectionString: database.url });
  await client.connect();
  try {
    return await fn(postgresConnection(client as unknown as PgConnection));
  } finally {
    await client.end();
  }
}

/** How many tables the database has (none at all for a database a refused restore never touched). */
async function tableCount(database: DatabaseConfig): Promise<number> {
  if (database.driver === 'sqlite' && !existsSync(database.path)) return 0;
  return onDatabase(database, async (connection) => {
    const rows =
      connection.kind === 'sqlite'
        ? await connection.rows("select count(*) from sqlite_master where type = 'table'")
        : await connection.rows('select count(*) from information_schema.tables where table_schema = current_schema()');
    return Number(rows[0]![0]);
  });
}

async function headerOf(file: string, passphrase?: string): Promise<{ header: BackupHeader; manifest: BackupManifest }> {
  let header: BackupHeader | undefined;
  const manifest = await readBackup(file, passphrase, {
    header(read) {
      header = read;
    },
  });
  return { header: header!, manifest };
}

/** The tables, and their columns, of a database migrated up to `migration`. */
async function schemaAt(migration: string): Promise<Map<string, string[]>> {
  const database = await createTestDatabase('sqlite');
  try {
    const orm = await openMigrated(
      { database: database.config, databaseLimits: DEFAULT_DATABASE_LIMITS },
      ENTITIES,
      createLogger('silent'),
      new QueryCounter(),
      migration,
    );
    await orm.close(true);
    return await onDatabase(database.config, async (connection) => {
      const tables = await connection.rows("select name from sqlite_master where type = 'table' and name not like 'sqlite%'");
      const schema = new Map<string, string[]>();
      for (const [table] of tables as [string][]) {
        schema.set(
          table,
          (await connection.objects<{ name: string }>(`pragma table_info("${table}")`)).map((column) => column.name),
        );
      }
      return schema;
    });
  } finally {
    await database.drop();
  }
}

/** How many rows the database's tables hold, but for its log of migrations. */
async function rowCount(database: DatabaseConfig): Promise<number> {
  return onDatabase(database, async (connection) => {
    const tables =
      connection.kind === 'sqlite'
        ? await connection.rows("select name from sqlite_master where type = 'table' and name not like 'sqlite%'")
        : await connection.rows(
            "select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'",
          );
    let rows = 0;
    for (const [table] of tables as [string][]) {
      if (table !== 'mikro_orm_migrations') rows += Number((await connection.rows(`select count(*) from "${table}"`))[0]![0]);
    }
    return rows;
  });
}

/**
 * Writes to `to` a well-formed backup of what `from` holds after `change`: what a backup of a database changed behind
 * the server's back, or made by another build, would hold.
 */
async function rewrite(from: string, to: string, change: (header: BackupHeader, rows: Map<string, CanonicalValue[][]>) => void) {
  let header: BackupHeader | undefined;
  const rows = new Map<string, CanonicalValue[][]>();
  await readBackup(from, undefined, {
    header(read) {
      header = read;
    },
    rows(table, batch) {
      rows.set(table.name, [...(rows.get(table.name) ?? []), ...batch]);
    },
  });
  change(header!, rows);
  const lines = backupLines(
    header!,
    async function* (table) {
      yield rows.get(table.name) ?? [];
    },
    () => undefined,
  );
  await writeEnvelope(to, lines);
}

const rowsOf = (manifest: BackupManifest, table: string) => manifest.tables.find((t) => t.name === table)?.rows ?? -1;

for (const kind of DATABASE_KINDS) {
  describe(`backup and restore of a ${kind} database`, () => {
    let source: TestServer;
    let dir: string;
    const seeded: Licensed[] = [];
    const tokens: { secret: string; organizationId: string }[] = [];
    /** Licenses the load issued before the backup started, and how many it had issued when the backup ended. */
    const madeBefore: Licensed[] = [];
    let issuedBeforeEnd = 0;
    let plain: string;
    let backupRun: CommandResult;
    const targets: TestDatabase[] = [];

    const target = async (of: DatabaseKind) => {
      const database = await createTestDatabase(of);
      targets.push(database);
      return database;
    };

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'license-manager-backup-'));
      source = await startTestServer(kind);
      for (const type of ['SUBSCRIPTION', 'USER', 'CONCURRENT', 'SITE', 'FEATURE'] as const) seeded.push(await licensed(source, type));
      await source.ok(CheckoutSeatDocument, { key: seeded[2]!.key, fingerprint: 'machine-1' }, null);
      for (const license of seeded.slice(0, 2)) {
        tokens.push({
          secret: (await issueToken(source, 'ORG_ADMIN', license.organizationId)).secret,
          organizationId: license.organizationId,
        });
      }
      // The audit events so far are sealed into the chain and anchored, as the server's jobs do.
      await source.server.services.auditChain.seal();
      expect(await source.server.services.auditChain.anchor()).not.toBeNull();

      // A load of writes runs against the server while the backup command reads its database.
      let loading = true;
      const made: Licensed[] = [];
      const load = (async () => {
        while (loading) {
          const license = await licensed(source, 'CONCURRENT');
          await source.ok(CheckoutSeatDocument, { key: license.key, fingerprint: 'machine-load' }, null);
          made.push(license);
        }
      })();
      while (made.length < 3) await new Promise((r) => setTimeout(r, 20));
      madeBefore.push(...made);
      plain = join(dir, 'plain.backup');
      backupRun = await command('backup', [plain], source.database.config);
      issuedBeforeEnd = made.length;
      loading = false;
      await load;
    });

    afterAll(async () => {
      await source?.close();
      for (const database of targets) await database.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('takes a backup while the server writes, of a snapshot of every table', async () => {
      expect(backupRun.stderr).toBe('');
      expect(backupRun.code).toBe(0);
      const tables = new Set(Object.values(source.server.orm.getMetadata().getAll()).map((meta) => meta.tableName));
      expect(backupRun.stdout).toMatch(new RegExp(`^Backed up ${tables.size} tables \\(\\d+ rows\\) of the ${kind} database`));
      const { header, manifest } = await headerOf(plain);
      expect(manifest.databaseKind).toBe(kind);
      expect(new Set(header.tables.map((t) => t.name))).toEqual(tables);
      expect(manifest.tables.map((t) => t.name)).toEqual(header.tables.map((t) => t.name));
      expect(manifest.migrations.at(-1)).toMatch(/^Migration\d+_/);
      // The snapshot holds what was written before it started, and nothing written after it ended.
      const licenses = rowsOf(manifest, 'license');
      expect(licenses).toBeGreaterThanOrEqual(seeded.length + madeBefore.length);
      expect(licenses).toBeLessThanOrEqual(seeded.length + issuedBeforeEnd + 1);
      // Tables come in an order the foreign keys allow.
      const order = header.tables.map((t) => t.name);
      for (const table of header.tables)
        for (const ref of table.references) expect(order.indexOf(ref)).toBeLessThan(order.indexOf(table.name));
    });

    for (const into of DATABASE_KINDS) {
      it(`restores into a fresh ${into} database, on which a server honours every key and token issued before`, async () => {
        const restored = await target(into);
        const run = await command('restore', [plain], restored.config);
        expect(run.stderr).toBe('');
        expect(run.code).toBe(0);
        const { header, manifest } = await headerOf(plain);
        expect(await onDatabase(restored.config, (c) => tableSummaries(c, header.tables))).toEqual(manifest.tables);
        const chain = await onDatabase(restored.config, (c) => verifyAuditChain(asSqlRunner(c)));
        expect(chain).toMatchObject({ valid: true, firstBroken: null });
        expect(chain.checked).toBeGreaterThan(0);
        expect(chain.anchorsChecked).toBeGreaterThan(0);

        const server = await startTestServer(into, {}, { ...source, database: restored });
        try {
          // Every key opens its license, which answers as it does on the server the backup was taken of.
          for (const license of [...seeded, ...madeBefore]) {
            const call = { key: license.key, fingerprint: 'machine-1', user: 'ada@example.com' };
            const restoredAnswer = (await server.ok(ValidateLicenseDocument, call, null)).validateLicense;
            const sourceAnswer = (await source.ok(ValidateLicenseDocument, call, null)).validateLicense;
            expect({ valid: restoredAnswer.valid, code: restoredAnswer.code }).toEqual({
              valid: sourceAnswer.valid,
              code: sourceAnswer.code,
            });
          }
          expect((await server.ok(ValidateLicenseDocument, { key: seeded[0]!.key }, null)).validateLicense.valid).toBe(true);
          for (const token of tokens) {
            const { organization } = await server.ok(OrganizationDocument, { id: token.organizationId }, token.secret);
            expect(organization?.id).toBe(token.organizationId);
          }
          expect(server.admin).toBe(source.admin);
          expect((await server.ok(OrganizationDocument, { id: seeded[0]!.organizationId })).organization?.id).toBe(
            seeded[0]!.organizationId,
          );
        } finally {
          await server.server.close();
        }
      });
    }

    it('restores an encrypted backup with its passphrase, and refuses a wrong or missing one, touching nothing', async () => {
      const secret = join(dir, 'encrypted.backup');
      const passphraseFile = join(dir, 'passphrase');
      writeFileSync(passphraseFile, 'correct horse battery staple\n');
      const backup = await command('backup', [secret], source.database.config, { BACKUP_PASSPHRASE: 'correct horse battery staple' });
      expect(backup.code).toBe(0);
      expect(readFileSync(secret).includes(Buffer.from(seeded[0]!.organizationId))).toBe(false);

      const wrongFile = join(dir, 'wrong');
      writeFileSync(wrongFile, 'incorrect horse battery staple');
      const refused = await target(kind);
      const wrong = await command('restore', [secret, '--passphrase-file', wrongFile], refused.config);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toBe('license-manager restore: the passphrase does not open this backup [WRONG_PASSPHRASE]\n');
      const missing = await command('restore', [secret], refused.config);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/encrypted: give its passphrase .*\[PASSPHRASE_REQUIRED\]\n$/);
      expect(await tableCount(refused.config)).toBe(0);

      const restored = await target(kind);
      const run = await command('restore', [secret, '--passphrase-file', passphraseFile], restored.config);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const { header, manifest } = await headerOf(secret, 'correct horse battery staple');
      expect(await onDatabase(restored.config, (c) => tableSummaries(c, header.tables))).toEqual(manifest.tables);
    });

    it('refuses a file with a flipped byte, or cut short, with one line, and leaves the target empty', async () => {
      const bytes = readFileSync(plain);
      // A bit flipped in the compressed rows, and one in the checksum at the end.
      const flipped = [Math.floor(bytes.length / 2), bytes.length - 1].map((at) => {
        const file = join(dir, `flipped-${at}.backup`);
        const copy = Buffer.from(bytes);
        copy[at] = copy[at]! ^ 0x01;
        writeFileSync(file, copy);
        return file;
      });
      const truncated = join(dir, 'truncated.backup');
      writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.8)));
      expect(statSync(truncated).size).toBeLessThan(bytes.length);

      for (const file of [...flipped, truncated]) {
        const untouched = await target(kind);
        const run = await command('restore', [file], untouched.config);
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(
          /^license-manager restore: the backup file is damaged or truncated \(.*\); nothing was restored \[DAMAGED\]\n$/,
        );
        expect(await tableCount(untouched.config)).toBe(0);
      }
    });

    it('refuses a backup whose audit chain does not verify, and commits nothing', async () => {
      const edited = join(dir, 'edited.backup');
      await rewrite(plain, edited, (header, rows) => {
        const columns = header.tables.find((t) => t.name === 'audit_event')!.columns.map((c) => c.name);
        const sealed = rows.get('audit_event')!.find((row) => row[columns.indexOf('seq')] !== null)!;
        sealed[columns.indexOf('actor_label')] = 'someone else';
      });
      const untouched = await target(kind);
      const run = await command('restore', [edited], untouched.config);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /^license-manager restore: the backup's audit chain does not verify at event \d+: .*\[AUDIT_CHAIN_BROKEN\]\n$/,
      );
      expect(await rowCount(untouched.config)).toBe(0);
    });

    it('refuses a backup made with migrations this build does not know, touching nothing', async () => {
      const newer = join(dir, 'newer.backup');
      await rewrite(plain, newer, (header) => {
        header.migrations.push('Migration29991231000000_from_a_newer_build');
      });
      const untouched = await target(kind);
      const run = await command('restore', [newer], untouched.config);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/Migration29991231000000_from_a_newer_build.*\[UNKNOWN_MIGRATIONS\]\n$/);
      expect(await tableCount(untouched.config)).toBe(0);
    });

    it('restores a backup of an older build at its migrations, which a server on it then brings up to date', async () => {
      const older = join(dir, 'older.backup');
      const chained = 'Migration20261208100000_audit_chain';
      const before = MIGRATIONS[MIGRATIONS.findIndex((m) => m.name === chained) - 1]!.name;
      const schema = await schemaAt(before);
      await rewrite(plain, older, (header, rows) => {
        // What the build before the audit chain wrote: its migrations, and only the tables and columns they made.
        header.migrations = header.migrations.slice(0, header.migrations.indexOf(before) + 1);
        header.tables = header.tables.filter((table) => schema.has(table.name));
        for (const table of header.tables) {
          const kept = table.columns.map((column) => schema.get(table.name)!.includes(column.name));
          table.columns = table.columns.filter((_, i) => kept[i]);
          rows.set(
            table.name,
            (rows.get(table.name) ?? []).map((row) => row.filter((_, i) => kept[i])),
          );
        }
        expect(header.tables.find((table) => table.name === 'audit_event')!.columns.map((c) => c.name)).not.toContain('hash');
      });
      const restored = await target(kind);
      const run = await command('restore', [older], restored.config);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const applied = await onDatabase(restored.config, (c) => c.rows('select name from mikro_orm_migrations order by id'));
      expect(applied.map((row) => row[0])).toEqual((await headerOf(older)).header.migrations);

      const server = await startTestServer(kind, {}, { ...source, database: restored });
      try {
        expect((await server.ok(ValidateLicenseDocument, { key: seeded[0]!.key }, null)).validateLicense.valid).toBe(true);
        const last = await onDatabase(restored.config, (c) => c.rows('select name from mikro_orm_migrations order by id desc limit 1'));
        expect(last[0]![0]).toBe(MIGRATIONS.at(-1)!.name);
        await server.server.services.auditChain.seal();
        expect(await server.server.services.auditChain.verify()).toMatchObject({ valid: true, unsealed: 0 });
      } finally {
        await server.server.close();
      }
    });

    it('refuses to restore into a database that holds rows', async () => {
      const run = await command('restore', [plain], source.database.config);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/already holds rows .*\[TARGET_NOT_EMPTY\]\n$/);
    });

    it('refuses a passphrase on the command line', async () => {
      const run = await command('backup', [join(dir, 'x.backup'), '--passphrase', 'on the command line'], source.database.config);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/never given on the command line/);
      expect(existsSync(join(dir, 'x.backup'))).toBe(false);
    });
  });
}
