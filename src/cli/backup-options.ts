import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config';
import { BackupError } from '../db/backup/backup.errors';

/** A usage mistake: the usage is printed, and the exit status is 2. */
export class UsageError extends Error {}

export interface BackupArguments {
  file: string;
  passphrase?: string;
  check: boolean;
}

/**
 * The file and the passphrase of `backup` and `restore`. The passphrase comes from BACKUP_PASSPHRASE or a file
 * (`--passphrase-file`), never from the command line, where other users of the machine could read it.
 */
export function backupArguments(args: string[], options: { check?: boolean } = {}): BackupArguments {
  if (args.some((arg) => arg === '--passphrase' || arg.startsWith('--passphrase='))) {
    throw new UsageError('a passphrase is never given on the command line: set BACKUP_PASSPHRASE or use --passphrase-file FILE');
  }
  const { values, positionals } = parseArgs({
    args,
    options: { 'passphrase-file': { type: 'string' }, ...(options.check ? { check: { type: 'boolean' } } : {}) },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'name the backup file' : 'name one backup file');
  const passphraseFile = values['passphrase-file'] as string | undefined;
  let passphrase = process.env.BACKUP_PASSPHRASE || undefined;
  if (passphraseFile !== undefined) {
    try {
      passphrase = readFileSync(passphraseFile, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      throw new UsageError(`cannot read the passphrase file: ${(error as Error).message}`);
    }
    if (passphrase.length === 0) throw new UsageError('the passphrase file is empty');
  }
  return { file: positionals[0]!, passphrase, check: Boolean(values.check) };
}

/** Prints why the command failed, as one line (and the usage for a usage mistake), and exits non-zero. */
export function fail(command: string, usage: string, error: unknown): never {
  function say(message: string, status: number): never {
    process.stderr.write(`license-manager ${command}: ${message}\n`);
    process.exit(status);
  }
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    say(`${(error as Error).message}\n\n${usage}`, 2);
  }
  if (error instanceof ConfigError) say(`configuration: ${error.message}`, 1);
  if (error instanceof BackupError) say(`${error.message} [${error.code}]`, 1);
  say(`${command} failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, 1);
}
