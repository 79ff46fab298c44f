import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { SqlRunner } from '../db/sql';

/**
 * A server secret's id: eight hex characters of an HMAC of the secret for this one purpose. It names the secret in
 * what was made under it (digests, sealed secrets) without revealing it, so that a rotation can tell what still
 * depends on the previous one, and two instances can tell whether they share theirs.
 */
export function secretIdOf(secret: Buffer): string {
  return createHmac('sha256', secret).update('ainexlayer/secret-id', 'utf8').digest('hex').slice(0, 8);
}

/** Digests a digester remembers (see `SecretDigester.digest`): a few megabytes at most. */
const MAX_REMEMBERED_DIGESTS = 10_000;

/**
 * License keys and API tokens are random, shown once, and stored only as HMAC-SHA256 digests under the server
 * secret: a copy of the database alone does not let anyone present them. A digest carries the id of the secret
 * that made it, `<secret id>.<HMAC in base64url>` (52 characters), so that what is still stored under a previous
 * secret can be counted; a digest of 64 hex characters is one made before digests carried it.
 */
export class SecretDigester {
  readonly secretId: string;
  readonly previousSecretId: string | null;

  constructor(
    private readonly secretKey: Buffer,
    private readonly previousKey?: Buffer,
  ) {
    this.secretId = secretIdOf(secretKey);
    this.previousSecretId = previousKey ? secretIdOf(previousKey) : null;
  }

  /**
   * The digests of the values asked for lately: a client application presents its license key on every call, an
   * integrator its token on every operation, and an HMAC (a keyed hash object made and thrown away each time) was a
   * tenth of a validation's CPU time. What the process holds here it was handed by the callers, as it holds their
   * requests; past MAX_REMEMBERED_DIGESTS the oldest is forgotten.
   */
  private readonly remembered = new Map<string, string>();

  /** The digest a value is stored under from now on. */
  digest(value: string): string {
    const known = this.remembered.get(value);
    if (known !== undefined) return known;
    const digest = `${this.secretId}.${createHmac('sha256', this.secretKey).update(value, 'utf8').digest('base64url')}`;
    if (this.remembered.size >= MAX_REMEMBERED_DIGESTS) this.remembered.delete(this.remembered.keys().next().value!);
    this.remembered.set(value, digest);
    return digest;
  }

  /**
   * The digests a value may still be stored under from before: unmarked under the current secret and, after a
   * rotation, marked or unmarked under the previous one. What is found under one of them is stored anew under
   * {@link digest}.
   */
  formerDigests(value: string): string[] {
    const formers = [createHmac('sha256', this.secretKey).update(value, 'utf8').digest('hex')];
    if (this.previousKey) {
      const mac = createHmac('sha256', this.previousKey).update(value, 'utf8').digest();
      formers.push(`${this.previousSecretId}.${mac.toString('base64url')}`, mac.toString('hex'));
    }
    return formers;
  }
}

/** How many stored values were made under each server secret, by its id; `null`: made before they carried it. */
export type SecretTally = { secretId: string | null; count: number }[];

/** SQL for the id of the secret a digest column's value was made under (null for a digest without it). */
export const digestSecretIdSql = (column: string) => `case when ${column} like '________.%' then substr(${column}, 1, 8) end`;

/** SQL for the id of the secret a sealed column's value was sealed under (null for a `v1` seal). */
export const sealSecretIdSql = (column: string) => `case when ${column} like 'v2.%' then substr(${column}, 4, 8) end`;

/** Counts the rows `from` selects (`from <table> [where …]`) by the secret id `idSql` reads from each. */
export async function tallyBySecret(sql: SqlRunner, idSql: string, from: string): Promise<SecretTally> {
  const rows = await sql.all<{ secret_id: string | null; n: number | string }>(
    `select ${idSql} as secret_id, count(*) as n ${from} group by ${idSql}`,
  );
  return rows.map((row) => ({ secretId: row.secret_id, count: Number(row.n) }));
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += CROCKFORD[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += CROCKFORD[(value << (5 - bits)) & 31];
  return out;
}

export const LICENSE_KEY_PATTERN = /^AINX(-[0-9A-HJKMNP-TV-Z]{8}){4}$/;
const API_TOKEN_PATTERN = /^alm_[A-Za-z0-9_-]{43}$/;

/** A new license key: `AINX-` and 160 random bits in four groups of Crockford base32. */
export function generateLicenseKey(): string {
  const body = base32(randomBytes(20));
  return `AINX-${body.slice(0, 8)}-${body.slice(8, 16)}-${body.slice(16, 24)}-${body.slice(24, 32)}`;
}

/** Keys are typed by people: accept lower case and stray spaces, nothing else. */
export function normalizeLicenseKey(key: string): string | null {
  const normalized = key.trim().toUpperCase();
  return LICENSE_KEY_PATTERN.test(normalized) ? normalized : null;
}

/** A new API token: `alm_` and 256 random bits, base64url. */
export function generateApiToken(): string {
  return `alm_${randomBytes(32).toString('base64url')}`;
}

export function isWellFormedApiToken(token: string): boolean {
  return API_TOKEN_PATTERN.test(token);
}

/** The last characters of a secret, for recognising it in a list without revealing it. */
export function hintOf(secret: string): string {
  return secret.slice(-4);
}

/**
 * Seals small secrets for storage (the server's private signing keys): AES-256-GCM under a key derived from the
 * server secret with HKDF-SHA256 for one purpose, a random 96-bit nonce each time. The sealed form is
 * `v2.<secret id>.<nonce>.<ciphertext>.<tag>`, the last three in base64url; `v1.<nonce>.<ciphertext>.<tag>` is one
 * sealed before seals carried their secret's id. Opening checks the tag: a changed byte, or another secret, fails.
 */
export class SecretBox {
  private readonly current: { id: string; key: Buffer };
  private readonly previous: { id: string; key: Buffer } | null;

  constructor(secretKey: Buffer, purpose: string, previousKey?: Buffer) {
    const derive = (secret: Buffer) => ({
      id: secretIdOf(secret),
      key: Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `ainexlayer/${purpose}`, 32)),
    });
    this.current = derive(secretKey);
    this.previous = previousKey ? derive(previousKey) : null;
  }

  /** The id of the secret a sealed value names; null for one sealed before seals named it. */
  static secretIdOf(sealed: string): string | null {
    return sealed.startsWith('v2.') ? sealed.slice(3, 11) : null;
  }

  seal(plain: Buffer): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, nonce);
    const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
    return ['v2', this.current.id, ...[nonce, sealed, cipher.getAuthTag()].map((part) => part.toString('base64url'))].join('.');
  }

  /**
   * Opens what was sealed under the current secret or, after a rotation, the previous one. `stale`: it was not
   * sealed under the current secret with its id, and should be sealed anew.
   */
  open(sealed: string): { plain: Buffer; stale: boolean } {
    const parts = sealed.split('.');
    if (parts[0] === 'v2' && parts.length === 5) {
      const [, id, ...body] = parts as [string, string, string, string, string];
      if (id === this.current.id) return { plain: decrypt(this.current.key, body), stale: false };
      if (id === this.previous?.id) return { plain: decrypt(this.previous.key, body), stale: true };
      throw new Error(`Sealed under a secret this server does not have (secret id ${id}): give it as SECRET_KEY_PREVIOUS.`);
    }
    if (parts[0] !== 'v1' || parts.length !== 4) throw new Error('Not a sealed secret of this server.');
    const body = parts.slice(1) as [string, string, string];
    try {
      return { plain: decrypt(this.current.key, body), stale: true };
    } catch (error) {
      if (!this.previous) throw error;
      return { plain: decrypt(this.previous.key, body), stale: true };
    }
  }
}

function decrypt(key: Buffer, [nonce, body, tag]: [string, string, string]): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
}
