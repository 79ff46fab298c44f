import 'reflect-metadata';
import { loadDatabaseConfig } from '../config';
import { type BackupHeader, readBackup } from '../db/backup/backup-file';
import { BackupError } from '../db/backup/backup.errors';
import { restoreBackup } from '../db/backup/restore';
import type { SqlRunner } from '../db/sql';
import { createLogger } from '../logger';
import { verifyAuditChain } from '../modules/audit/audit-chain';
import { ENTITIES } from '../server/entities';
import { backupArguments, fail } from './backup-options';

const USAGE = `Usage: npm run restore -- FILE [--passphrase-file PASSPHRASE_FILE] [--check]

Loads the backup FILE into the database of the environment (DATABASE_URL, else SQLITE_PATH), which must be new
or hold no rows: SQLite or PostgreSQL, whichever the backup was taken of. The whole file is checked first; the
database is then migrated to the backup's migrations and filled in one transaction, which commits only once every
table matches the backup's manifest and the audit log's hash chain verifies. A damaged, truncated or wrongly
decrypted file is refused and changes nothing.

--check            only checks FILE (its bytes, and its rows against its manifest); touches no database.
--passphrase-file  the file holding the passphrase of an encrypted backup (or set BACKUP_PASSPHRASE).

Start the server on the restored database with the same SECRET_KEY as the one the backup was taken from: license
keys and API tokens are stored as digests made with it.`;

/**
 * Refuses, before the restore commits, a backup whose audit log does not prove itself (its hash chain and anchors).
 * A backup taken before the audit log was chained has no chain to check: the server seals its events when it starts.
 */
async function auditChainHolds(sql: SqlRunner, header: BackupHeader): Promise<void> {
  const events = header.tables.find((table) => table.name === 'audit_event');
  if (!events?.columns.some((column) => column.name === 'hash')) return;
  const report = await verifyAuditChain(sql);
  if (report.firstBroken) {
    const { seq, message } = report.firstBroken;
    throw new BackupError(
      'AUDIT_CHAIN_BROKEN',
      `the backup's audit chain does not verify at event ${seq}: ${message} Nothing was restored`,
    );
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.length === 0 || args[0] === 'help' || args[0] === '--help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  try {
    const { file, passphrase, check } = backupArguments(args, { check: true });
    const manifest = check
      ? await readBackup(file, passphrase)
      : await restoreBackup({
          database: loadDatabaseConfig(),
          entities: ENTITIES,
          file,
          passphrase,
          logger: createLogger('warn'),
          verify: auditChainHolds,
        });
    const rows = manifest.tables.reduce((sum, table) => sum + table.rows, 0);
    const what = `${manifest.tables.length} tables (${rows} rows) of the ${manifest.databaseKind} database as of ${manifest.createdAt}`;
    process.stdout.write(check ? `${file} is whole: ${what}.\n` : `Restored ${what} from ${file}.\n`);
  } catch (error) {
    fail('restore', USAGE, error);
  }
}

void main();
