/** Why a backup could not be taken or restored; the command line prints the message as one line. */
export type BackupErrorCode =
  /** The file is not a backup of this server. */
  | 'NOT_A_BACKUP'
  /** The file was written by a newer format than this build reads. */
  | 'UNSUPPORTED_FORMAT'
  /** The file's bytes do not match its checksum or authentication tag: damaged, truncated or tampered with. */
  | 'DAMAGED'
  /** The backup is encrypted and no passphrase was given. */
  | 'PASSPHRASE_REQUIRED'
  /** The passphrase does not open the backup. */
  | 'WRONG_PASSPHRASE'
  /** The passphrase is too weak to encrypt a backup with. */
  | 'WEAK_PASSPHRASE'
  /** The backup was made with migrations this build does not know (a newer build, or another history). */
  | 'UNKNOWN_MIGRATIONS'
  /** The target database already holds rows. */
  | 'TARGET_NOT_EMPTY'
  /** The source database has not been migrated (no tables to back up). */
  | 'SOURCE_NOT_MIGRATED'
  /** What the restore inserted does not match the backup's manifest. */
  | 'MANIFEST_MISMATCH'
  /** The restored audit log's hash chain does not verify. */
  | 'AUDIT_CHAIN_BROKEN';

/** A backup or restore refused, with a stable code and a message that says what to do. */
export class BackupError extends Error {
  override readonly name = 'BackupError';

  constructor(
    readonly code: BackupErrorCode,
    message: string,
  ) {
    super(message);
  }

  static damaged(detail: string): BackupError {
    return new BackupError('DAMAGED', `the backup file is damaged or truncated (${detail}); nothing was restored`);
  }
}
