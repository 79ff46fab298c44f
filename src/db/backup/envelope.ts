import { createCipheriv, createDecipheriv, createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip, createGzip } from 'node:zlib';
import { BackupError } from './backup.errors';

/*
 * The bytes of a backup file:
 *   "LMBACKUP"  u32 (big-endian) length of the envelope  envelope (JSON)  body  trailer
 * The body is the gzip of the backup's lines (see backup-file.ts), encrypted when the envelope says so. The trailer
 * is, for a plain file, the SHA-256 of every byte before it; for an encrypted one, the AES-256-GCM tag, which also
 * authenticates the envelope (as additional data). A flipped or missing byte anywhere fails the one or the other.
 */
const MAGIC = Buffer.from('LMBACKUP');
const ENVELOPE_VERSION = 1;
const MIN_PASSPHRASE_LENGTH = 12;

/** scrypt's cost: 2^15 × 8 × 128 bytes = 32 MiB of memory and about a tenth of a second per derivation. */
const SCRYPT = { N: 2 ** 15, r: 8, p: 1 } as const;

interface Encryption {
  cipher: 'aes-256-gcm';
  kdf: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
  iv: string;
  /** SHA-256 of the second half of the derived bytes: tells a wrong passphrase from a damaged file. */
  check: string;
}

interface Envelope {
  version: number;
  compression: 'gzip';
  encryption: Encryption | null;
}

/** Keys derived in this process, by passphrase, salt and cost: a restore reads its file twice and derives once. */
const derived = new Map<string, Promise<{ key: Buffer; check: string }>>();

function derive(passphrase: string, salt: Buffer, cost: { N: number; r: number; p: number }): Promise<{ key: Buffer; check: string }> {
  const id = createHash('sha256')
    .update(JSON.stringify([passphrase, salt.toString('base64'), cost.N, cost.r, cost.p]))
    .digest('hex');
  let result = derived.get(id);
  if (!result) {
    result = scryptKey(passphrase, salt, cost);
    derived.set(id, result);
  }
  return result;
}

function scryptKey(passphrase: string, salt: Buffer, cost: { N: number; r: number; p: number }): Promise<{ key: Buffer; check: string }> {
  return new Promise((resolve, reject) =>
    scrypt(passphrase, salt, 64, { ...cost, maxmem: 256 * cost.N * cost.r + 1024 * 1024 }, (error, bytes) => {
      if (error) reject(error);
      else resolve({ key: bytes.subarray(0, 32), check: createHash('sha256').update(bytes.subarray(32)).digest('hex') });
    }),
  );
}

function prefixOf(envelope: Envelope): Buffer {
  const json = Buffer.from(JSON.stringify(envelope), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.length);
  return Buffer.concat([MAGIC, length, json]);
}

/** Refuses a passphrase too short to encrypt a backup with. */
export function checkPassphrase(passphrase: string): void {
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
    throw new BackupError('WEAK_PASSPHRASE', `the passphrase must be at least ${MIN_PASSPHRASE_LENGTH} characters long`);
  }
}

/**
 * Writes `lines` (each ending in a newline) to `path`, compressed, encrypted when a passphrase is given. The file is
 * written under a temporary name and renamed when complete, so that an interrupted backup never looks like one.
 */
export async function writeEnvelope(path: string, lines: AsyncIterable<string>, passphrase?: string): Promise<void> {
  let encryption: Encryption | null = null;
  let key: Buffer | undefined;
  if (passphrase !== undefined) {
    checkPassphrase(passphrase);
    const salt = randomBytes(16);
    const iv = randomBytes(12);
    const derived = await derive(passphrase, salt, SCRYPT);
    key = derived.key;
    encryption = {
      cipher: 'aes-256-gcm',
      kdf: 'scrypt',
      ...SCRYPT,
      salt: salt.toString('base64'),
      iv: iv.toString('base64'),
      check: derived.check,
    };
  }
  const prefix = prefixOf({ version: ENVELOPE_VERSION, compression: 'gzip', encryption });
  const seal = async function* (body: AsyncIterable<Buffer>) {
    yield prefix;
    if (key && encryption) {
      const cipher = createCipheriv('aes-256-gcm', key, Buffer.from(encryption.iv, 'base64'));
      cipher.setAAD(prefix);
      for await (const chunk of body) yield cipher.update(chunk);
      yield cipher.final();
      yield cipher.getAuthTag();
    } else {
      const hash = createHash('sha256').update(prefix);
      for await (const chunk of body) {
        hash.update(chunk);
        yield chunk;
      }
      yield hash.digest();
    }
  };
  const partial = `${path}.partial`;
  try {
    await pipeline(Readable.from(lines), createGzip(), seal, createWriteStream(partial, { mode: 0o600 }));
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

async function readPrefix(path: string): Promise<{ envelope: Envelope; prefix: Buffer; size: number }> {
  const file = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new BackupError('NOT_A_BACKUP', `cannot read ${path}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  });
  try {
    const { size } = await file.stat();
    const head = Buffer.alloc(Math.min(size, 64 * 1024));
    await file.read(head, 0, head.length, 0);
    if (head.length < MAGIC.length + 4 || !head.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw new BackupError('NOT_A_BACKUP', `${path} is not a backup of the license manager`);
    }
    const length = head.readUInt32BE(MAGIC.length);
    const end = MAGIC.length + 4 + length;
    if (end > head.length) throw BackupError.damaged('its envelope is cut short');
    let envelope: Envelope;
    try {
      envelope = JSON.parse(head.subarray(MAGIC.length + 4, end).toString('utf8')) as Envelope;
    } catch {
      throw BackupError.damaged('its envelope is not readable');
    }
    if (envelope.version !== ENVELOPE_VERSION) {
      throw new BackupError(
        'UNSUPPORTED_FORMAT',
        `the backup's format ${envelope.version} is not one this build reads (${ENVELOPE_VERSION})`,
      );
    }
    return { envelope, prefix: head.subarray(0, end), size };
  } finally {
    await file.close();
  }
}

async function readTrailer(path: string, size: number, length: number): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const trailer = Buffer.alloc(length);
    await file.read(trailer, 0, length, size - length);
    return trailer;
  } finally {
    await file.close();
  }
}

/** The transform that checks the body against the trailer and, for an encrypted file, decrypts it. */
async function opener(path: string, passphrase: string | undefined) {
  const { envelope, prefix, size } = await readPrefix(path);
  const encryption = envelope.encryption;
  const trailerLength = encryption ? 16 : 32;
  if (size < prefix.length + trailerLength) throw BackupError.damaged('it ends before its first byte of data');
  const trailer = await readTrailer(path, size, trailerLength);
  const body = { start: prefix.length, end: size - trailerLength - 1 };
  if (!encryption) {
    return {
      body,
      open: async function* (chunks: AsyncIterable<Buffer>) {
        const hash = createHash('sha256').update(prefix);
        for await (const chunk of chunks) {
          hash.update(chunk);
          yield chunk;
        }
        if (!timingSafeEqual(hash.digest(), trailer)) throw BackupError.damaged('its checksum does not match');
      },
    };
  }
  if (passphrase === undefined) {
    throw new BackupError(
      'PASSPHRASE_REQUIRED',
      'the backup is encrypted: give its passphrase in BACKUP_PASSPHRASE or with --passphrase-file',
    );
  }
  // The cost comes from the file: bounded, so that a forged envelope cannot make the derivation take all memory.
  if (
    !(encryption.N >= 2 && encryption.N <= 2 ** 20 && encryption.r >= 1 && encryption.r <= 32 && encryption.p >= 1 && encryption.p <= 16)
  ) {
    throw BackupError.damaged('its key derivation settings are out of range');
  }
  const { key, check } = await derive(passphrase, Buffer.from(encryption.salt, 'base64'), encryption);
  if (check !== encryption.check) throw new BackupError('WRONG_PASSPHRASE', 'the passphrase does not open this backup');
  return {
    body,
    open: async function* (chunks: AsyncIterable<Buffer>) {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(encryption.iv, 'base64'));
      decipher.setAAD(prefix);
      decipher.setAuthTag(trailer);
      for await (const chunk of chunks) yield decipher.update(chunk);
      try {
        yield decipher.final();
      } catch {
        throw BackupError.damaged('it fails its authentication');
      }
    },
  };
}

/**
 * Reads the lines of a backup file in order, handing each to `onLine` (and waiting for it), once every byte of the file
 * has been checked against its trailer (and checked again as the lines pass, should the file change meanwhile).
 */
export async function readEnvelope(
  path: string,
  passphrase: string | undefined,
  onLine: (line: string) => Promise<void> | void,
): Promise<void> {
  const { body, open } = await opener(path, passphrase);
  const consume = async (chunks: AsyncIterable<Buffer>) => {
    const decoder = new StringDecoder('utf8');
    let pending = '';
    for await (const chunk of chunks) {
      const lines = (pending + decoder.write(chunk)).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) await onLine(line);
    }
    pending += decoder.end();
    if (pending.length > 0) throw BackupError.damaged('its last line is cut short');
  };
  const drain = async (chunks: AsyncIterable<Buffer>) => {
    for await (const _ of chunks);
  };
  try {
    // Every byte is authenticated before any is believed: what a damaged file decompresses to never reaches a reader.
    await pipeline(createReadStream(path, body), open, drain);
    await pipeline(createReadStream(path, body), open, createGunzip(), consume);
  } catch (error) {
    if (error instanceof BackupError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code.startsWith('Z_') || code === 'ERR_OSSL_BAD_DECRYPT') throw BackupError.damaged((error as Error).message);
    throw error;
  }
}
