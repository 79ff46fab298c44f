import 'reflect-metadata';
import { loadDatabaseConfig } from '../config';
import { takeBackup } from '../db/backup/backup';
import { ENTITIES } from '../server/entities';
import { backupArguments, fail } from './backup-options';

const USAGE = `Usage: npm run backup -- FILE [--passphrase-file PASSPHRASE_FILE]

Writes a consistent backup of every table of the server's database to FILE, while the server runs: one snapshot,
compressed, with a manifest of each table's row count and checksum. Reads the database from the same environment
as the server (DATABASE_URL, else SQLITE_PATH).

Encryption: with BACKUP_PASSPHRASE set, or --passphrase-file naming a file that holds the passphrase (at least 12
characters), the backup is encrypted (scrypt, AES-256-GCM). A passphrase is never given on the command line.

The backup holds digests of license keys and API tokens, never the keys: a server restored from it must run with
the same SECRET_KEY for them to keep working. Restore it with: npm run restore -- FILE`;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.length === 0 || args[0] === 'help' || args[0] === '--help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  try {
    const { file, passphrase } = backupArguments(args);
    const database = loadDatabaseConfig();
    const manifest = await takeBackup({ database, entities: ENTITIES, file, passphrase });
    const rows = manifest.tables.reduce((sum, table) => sum + table.rows, 0);
    process.stdout.write(
      `Backed up ${manifest.tables.length} tables (${rows} rows) of the ${manifest.databaseKind} database as of ${manifest.createdAt} ` +
        `to ${file}${passphrase ? ', encrypted' : ''}.\n`,
    );
  } catch (error) {
    fail('backup', USAGE, error);
  }
}

void main();
