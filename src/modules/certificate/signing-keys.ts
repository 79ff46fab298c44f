import { createPrivateKey, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { CompactSign, compactVerify, decodeProtectedHeader, importJWK } from 'jose';
import { Permission } from '../../auth/roles';
import { SecretBox, type SecretTally, sealSecretIdSql, tallyBySecret } from '../../auth/secrets';
import type { Clock } from '../../common/clock';
import type { Operation } from '../../common/operation';
import { type SqlGateway, type SqlRunner, toDate, toDateOrNull } from '../../db/sql';
import { AppError } from '../../errors';
import { AuditAction } from '../audit/audit-actions';
import type { AnchorStatement, ChainSigner } from '../audit/audit-chain';
import type { AuditService } from '../audit/audit.service';

export const SIGNING_ALGORITHM = 'EdDSA';

/** A public key as published in the JWKS. */
export interface PublicJwk {
  kty: string;
  crv: string;
  x: string;
  kid: string;
  alg: string;
  use: 'sig';
}

/** The key that signs now. */
export interface Signer {
  kid: string;
  privateKey: KeyObject;
}

interface KeyRow {
  kid: string;
  public_jwk: string;
  sealed_private_key: string;
  created_at: unknown;
  retired_at: unknown;
  last_expires_at: unknown;
}

const COLUMNS = 'kid, public_jwk, sealed_private_key, created_at, retired_at, last_expires_at';
/** The `typ` of an audit anchor's signature, so that no certificate passes for one (nor one for a certificate). */
const ANCHOR_TYPE = 'audit-anchor+jws';

/**
 * Responsible for the server's signing keys: made at first start, the private half sealed under the server secret
 * (see SecretBox) and opened only in memory to sign; the public halves published as a JWKS. Rotation retires the
 * signing key (it signs nothing more) and makes a new one; a retired key stays published until the last certificate
 * it signed has expired, so that every certificate issued keeps verifying until its own end.
 */
export class SigningKeys implements ChainSigner {
  private opened = new Map<string, KeyObject>();

  constructor(
    private readonly db: SqlGateway,
    private readonly box: SecretBox,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /** Makes the first key if there is none to sign with (at start: two instances starting at once may make one each). */
  async ensure(): Promise<void> {
    await this.db.write(async (tx) => {
      if (!(await this.current(tx))) await this.create(tx, this.clock.now());
    });
  }

  /** The newest key not retired, opened; null when there is none yet. */
  async signer(sql: SqlRunner): Promise<Signer | null> {
    const row = await this.current(sql);
    if (!row) return null;
    let privateKey = this.opened.get(row.kid);
    if (!privateKey) {
      const { plain, stale } = this.box.open(row.sealed_private_key);
      privateKey = createPrivateKey({ key: plain, format: 'der', type: 'pkcs8' });
      this.opened.set(row.kid, privateKey);
      // Sealed under the secret before a rotation: sealed anew under the current one, after the caller's transaction.
      if (stale) this.sealAnew(sql, row.kid, row.sealed_private_key, plain);
    }
    return { kid: row.kid, privateKey };
  }

  private sealAnew(sql: SqlRunner, kid: string, before: string, plain: Buffer): void {
    sql.afterCommit(() => {
      this.db
        .write((tx) =>
          tx.run('update signing_key set sealed_private_key = ? where kid = ? and sealed_private_key = ?', [
            this.box.seal(plain),
            kid,
            before,
          ]),
        )
        .catch(() => undefined);
    });
  }

  /** Signs an audit anchor with the key that signs now (a compact JWS); null when there is none yet. */
  async signStatement(sql: SqlRunner, statement: AnchorStatement): Promise<string | null> {
    const signer = await this.signer(sql);
    if (!signer) return null;
    return new CompactSign(Buffer.from(JSON.stringify(statement)))
      .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: signer.kid, typ: ANCHOR_TYPE })
      .sign(signer.privateKey);
  }

  /** What an audit anchor's signature states, if one of the server's keys (retired ones too) made it. */
  async verifyStatement(sql: SqlRunner, signature: string): Promise<AnchorStatement | null> {
    try {
      const header = decodeProtectedHeader(signature);
      if (header.typ !== ANCHOR_TYPE || typeof header.kid !== 'string') return null;
      const row = await sql.get<{ public_jwk: string }>('select public_jwk from signing_key where kid = ?', [header.kid]);
      if (!row) return null;
      const key = await importJWK(JSON.parse(row.public_jwk) as PublicJwk, SIGNING_ALGORITHM);
      const { payload } = await compactVerify(signature, key, { algorithms: [SIGNING_ALGORITHM] });
      return JSON.parse(Buffer.from(payload).toString('utf8')) as AnchorStatement;
    } catch {
      return null;
    }
  }

  /** Notes a certificate signed by `kid` that expires at `expiresAt`: its key stays published until then. */
  async signed(sql: SqlRunner, kid: string, expiresAt: Date): Promise<void> {
    await sql.run('update signing_key set last_expires_at = ? where kid = ? and (last_expires_at is null or last_expires_at < ?)', [
      expiresAt,
      kid,
      expiresAt,
    ]);
  }

  /** The public keys to verify with: those that sign, and the retired ones whose last certificate has not expired. */
  async jwks(now = this.clock.now()): Promise<{ keys: PublicJwk[] }> {
    const rows = await this.db.read((sql) => sql.all<KeyRow>(`select ${COLUMNS} from signing_key order by created_at desc, kid`));
    const published = rows.filter((r) => {
      const retired = toDateOrNull(r.retired_at);
      const last = toDateOrNull(r.last_expires_at);
      return !retired || (last !== null && last > now);
    });
    return { keys: published.map((r) => JSON.parse(r.public_jwk) as PublicJwk) };
  }

  /**
   * How many private keys are sealed under each server secret, by the id their seal carries (`v2.<secret id>.…`); null
   * for a seal made before seals carried it (`v1.…`). For diagnostics.
   */
  sealedBySecret(): Promise<SecretTally> {
    return this.db.read((sql) => tallyBySecret(sql, sealSecretIdSql('sealed_private_key'), 'from signing_key'));
  }

  /** Every key, newest first: when made and retired, until when it stays published, under which secret it is sealed. */
  async inventory(): Promise<
    { kid: string; createdAt: Date; retiredAt: Date | null; lastExpiresAt: Date | null; sealedUnder: string | null }[]
  > {
    const rows = await this.db.read((sql) => sql.all<KeyRow>(`select ${COLUMNS} from signing_key order by created_at desc, kid`));
    return rows.map((row) => ({
      kid: row.kid,
      createdAt: toDate(row.created_at),
      retiredAt: toDateOrNull(row.retired_at),
      lastExpiresAt: toDateOrNull(row.last_expires_at),
      sealedUnder: SecretBox.secretIdOf(row.sealed_private_key),
    }));
  }

  /** Retires the key that signs and makes a new one; returns the new key's id. Platform admins only. */
  async rotate(op: Operation): Promise<{ kid: string; retired: string | null }> {
    op.principal.require(Permission.CATALOG_MANAGE);
    if (!op.principal.isPlatformAdmin) throw AppError.forbidden('Only a platform admin rotates the signing key.');
    const actor = op.principal.requireActor();
    return this.db.write(async (tx) => {
      const now = this.clock.now();
      const current = await this.current(tx);
      if (current) await tx.run('update signing_key set retired_at = ? where kid = ?', [now, current.kid]);
      const kid = await this.create(tx, now);
      await this.audit.record(tx, {
        actor,
        requestId: op.requestId,
        at: now,
        organizationId: null,
        action: AuditAction.SIGNING_KEY_ROTATE,
        objectType: 'SigningKey',
        objectId: kid,
        before: { kid: current?.kid ?? null },
        after: { kid, retired: current?.kid ?? null },
      });
      return { kid, retired: current?.kid ?? null };
    });
  }

  private async current(sql: SqlRunner): Promise<KeyRow | undefined> {
    return sql.get<KeyRow>(`select ${COLUMNS} from signing_key where retired_at is null order by created_at desc, kid desc limit 1`);
  }

  private async create(sql: SqlRunner, now: Date): Promise<string> {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const kid = randomBytes(12).toString('base64url');
    const jwk = publicKey.export({ format: 'jwk' });
    const published: PublicJwk = { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, kid, alg: SIGNING_ALGORITHM, use: 'sig' };
    await sql.run('insert into signing_key (kid, algorithm, public_jwk, sealed_private_key, created_at) values (?, ?, ?, ?, ?)', [
      kid,
      SIGNING_ALGORITHM,
      JSON.stringify(published),
      this.box.seal(privateKey.export({ format: 'der', type: 'pkcs8' })),
      now,
    ]);
    return kid;
  }
}
