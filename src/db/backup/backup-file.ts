import { BackupError } from './backup.errors';
import { readEnvelope } from './envelope';
import { type BackupTable, type CanonicalValue, TableChecksum } from './tables';

/*
 * The lines of a backup, each one JSON value:
 *   {"type":"header", …}                 what the backup is (BackupHeader)
 *   {"type":"table","name":"…"}          the rows of that table follow, one array of canonical values per line, in
 *   [ … ]                                the order of the header's columns
 *   {"type":"manifest", …}               last: the count and checksum of every table (BackupManifest)
 * Tables come in the header's order, one the foreign keys allow to insert in.
 */

export const BACKUP_FORMAT = 'license-manager-backup';
export const BACKUP_VERSION = 1;

/** What a backup holds, written before its rows. */
export interface BackupHeader {
  format: typeof BACKUP_FORMAT;
  version: number;
  /** When its snapshot was taken (ISO). */
  createdAt: string;
  databaseKind: 'sqlite' | 'postgresql';
  /** The migrations applied to the database it was taken of, in order: a restore brings its target to exactly these. */
  migrations: string[];
  tables: BackupTable[];
}

export interface TableSummary {
  name: string;
  rows: number;
  /** See TableChecksum. */
  checksum: string;
}

/** The last line of a backup: its header's facts, and each table's row count and checksum. */
export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  version: number;
  createdAt: string;
  databaseKind: 'sqlite' | 'postgresql';
  migrations: string[];
  tables: TableSummary[];
}

/** What reading a backup tells its reader, in order; each call is awaited before the file is read further. */
export interface BackupVisitor {
  header?(header: BackupHeader): Promise<void> | void;
  /** Rows of a table, in batches of at most `batchRows` (and at most ~30,000 values, under every database's bind limit). */
  rows?(table: BackupTable, rows: CanonicalValue[][]): Promise<void> | void;
}

const MAX_BATCH_VALUES = 30_000;

function parse(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw BackupError.damaged('a line is not readable');
  }
}

function checkHeader(header: BackupHeader): void {
  if (header.format !== BACKUP_FORMAT) throw new BackupError('NOT_A_BACKUP', 'the file is not a backup of the license manager');
  if (header.version !== BACKUP_VERSION) {
    throw new BackupError('UNSUPPORTED_FORMAT', `the backup's version ${header.version} is not one this build reads (${BACKUP_VERSION})`);
  }
}

/**
 * Reads a backup from start to end, handing its header and rows to `visitor`, and checks it as it goes: the tables in
 * the header's order, every row with its table's columns, and at the end each table's count and checksum against the
 * manifest. Returns the manifest; throws a BackupError for a file that is not whole.
 */
export async function readBackup(
  path: string,
  passphrase: string | undefined,
  visitor: BackupVisitor = {},
  batchRows = 500,
): Promise<BackupManifest> {
  let header: BackupHeader | undefined;
  let manifest: BackupManifest | undefined;
  let tableIndex = -1;
  let checksum: TableChecksum | undefined;
  const summaries: TableSummary[] = [];
  let batch: CanonicalValue[][] = [];
  const current = () => header!.tables[tableIndex]!;
  const flush = async () => {
    if (batch.length > 0 && visitor.rows) await visitor.rows(current(), batch);
    batch = [];
  };
  const endTable = async () => {
    if (!checksum) return;
    await flush();
    summaries.push({ name: current().name, rows: checksum.rows, checksum: checksum.digest() });
  };
  await readEnvelope(path, passphrase, async (line) => {
    if (manifest) throw BackupError.damaged('it goes on after its manifest');
    const record = parse(line);
    if (Array.isArray(record)) {
      if (!checksum) throw BackupError.damaged('a row comes before its table');
      checksum.add(record as CanonicalValue[]);
      batch.push(record as CanonicalValue[]);
      const limit = Math.max(1, Math.min(batchRows, Math.floor(MAX_BATCH_VALUES / current().columns.length)));
      if (batch.length >= limit) await flush();
      return;
    }
    const { type } = (record ?? {}) as { type?: string };
    if (!header) {
      if (type !== 'header') throw new BackupError('NOT_A_BACKUP', 'the file does not begin with a backup header');
      const { type: _header, ...read } = record as BackupHeader & { type: string };
      header = read;
      checkHeader(header);
      await visitor.header?.(header);
    } else if (type === 'table') {
      await endTable();
      tableIndex += 1;
      if (current()?.name !== (record as { name: string }).name) throw BackupError.damaged('its tables are out of order');
      checksum = new TableChecksum(current().columns);
    } else if (type === 'manifest') {
      await endTable();
      const { type: _manifest, ...read } = record as BackupManifest & { type: string };
      manifest = read;
    } else {
      throw BackupError.damaged('a line is of no known kind');
    }
  });
  if (!header || !manifest) throw BackupError.damaged('its manifest is missing');
  const expected = JSON.stringify(manifest.tables);
  if (summaries.length !== header.tables.length || JSON.stringify(summaries) !== expected) {
    throw BackupError.damaged('its rows do not match the counts and checksums of its manifest');
  }
  return manifest;
}

/** The lines of a backup, from its header, the rows of each table (as `rowsOf` yields them) and the manifest. */
export async function* backupLines(
  header: BackupHeader,
  rowsOf: (table: BackupTable) => AsyncIterable<CanonicalValue[][]>,
  onManifest: (manifest: BackupManifest) => void,
): AsyncGenerator<string> {
  yield `${JSON.stringify({ type: 'header', ...header })}\n`;
  const tables: TableSummary[] = [];
  for (const table of header.tables) {
    yield `${JSON.stringify({ type: 'table', name: table.name })}\n`;
    const checksum = new TableChecksum(table.columns);
    for await (const page of rowsOf(table)) {
      let text = '';
      for (const row of page) {
        checksum.add(row);
        text += `${JSON.stringify(row)}\n`;
      }
      yield text;
    }
    tables.push({ name: table.name, rows: checksum.rows, checksum: checksum.digest() });
  }
  const { format, version, createdAt, databaseKind, migrations } = header;
  const manifest: BackupManifest = { format, version, createdAt, databaseKind, migrations, tables };
  onManifest(manifest);
  yield `${JSON.stringify({ type: 'manifest', ...manifest })}\n`;
}
