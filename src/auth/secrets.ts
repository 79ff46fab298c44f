import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/**
 * License keys and API tokens are random, shown once, and stored only as HMAC-SHA256 digests under the server
 * secret: a copy of the database alone does not let anyone present them.
 */
export class SecretDigester {
  constructor(
    private readonly secretKey: Buffer,
    private readonly previousKey?: Buffer,
  ) {}

  digest(value: string): string {
    return createHmac('sha256', this.secretKey).update(value, 'utf8').digest('hex');
  }

  /**
   * The digest under the secret before a rotation, to find what was stored under it (and store it anew under the
   * current one); null when there was none.
   */
  previousDigest(value: string): string | null {
    return this.previousKey ? createHmac('sha256', this.previousKey).update(value, 'utf8').digest('hex') : null;
  }
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
 * server secret with HKDF-SHA256 for one purpose, a random 96-bit nonce each time; the sealed form is
 * `v1.<nonce>.<ciphertext>.<tag>` in base64url. Opening checks the tag: a changed byte, or another secret, fails.
 */
export class SecretBox {
  private readonly key: Buffer;
  private readonly previous: SecretBox | null;

  constructor(secretKey: Buffer, purpose: string, previousKey?: Buffer) {
    this.key = Buffer.from(hkdfSync('sha256', secretKey, Buffer.alloc(0), `ainexlayer/${purpose}`, 32));
    this.previous = previousKey ? new SecretBox(previousKey, purpose) : null;
  }

  /** Opens what was sealed under the current secret or, after a rotation, the previous one (`stale`: seal it anew). */
  openAny(sealed: string): { plain: Buffer; stale: boolean } {
    try {
      return { plain: this.open(sealed), stale: false };
    } catch (error) {
      if (!this.previous) throw error;
      return { plain: this.previous.open(sealed), stale: true };
    }
  }

  seal(plain: Buffer): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
    return ['v1', nonce, sealed, cipher.getAuthTag()]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  open(sealed: string): Buffer {
    const [version, nonce, body, tag] = sealed.split('.');
    if (version !== 'v1' || !nonce || !body || !tag) throw new Error('Not a sealed secret of this server.');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(nonce, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
  }
}
