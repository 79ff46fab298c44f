import type { EntityManager, FilterQuery } from '@mikro-orm/knex';
import { AuditAction } from '../audit/audit-actions';
import type { EventChannel } from '../../common/event-channel';
import type { Operation } from '../../common/operation';
import { findPage, type Page, type PageArgs } from '../../common/pagination';
import { AdvisoryLock } from '../../db/advisory-locks';
import type { SqlGateway } from '../../db/sql';
import { AppError } from '../../errors';
import type { AuditService } from '../audit/audit.service';
import { Organization } from '../organization/organization.entity';
import { ApiToken } from './api-token.entity';
import { Principal } from '../../auth/principal';
import type { TokenRevoked } from './token-revocation';
import { Permission, Role } from '../../auth/roles';
import {
  digestSecretIdSql,
  generateApiToken,
  hintOf,
  isWellFormedApiToken,
  type SecretDigester,
  type SecretTally,
  tallyBySecret,
} from '../../auth/secrets';
import type { ApiTokenFilter, CreateApiTokenInput } from './token.types';
import type { Clock } from '../../common/clock';

const snapshot = (t: ApiToken) => ({
  name: t.name,
  role: t.role,
  organizationId: t.organization?.id ?? null,
  tokenHint: t.tokenHint,
  revokedAt: t.revokedAt ?? null,
});

/** Responsible for API tokens: creating, revoking and listing them, and turning a bearer token into a principal. */
export class TokenService {
  constructor(
    private readonly db: SqlGateway,
    private readonly digester: SecretDigester,
    private readonly audit: AuditService,
    /** Told of each revocation once it commits, on every instance (open sockets of the token are closed). */
    private readonly revocations: Pick<EventChannel<TokenRevoked>, 'publish'>,
    private readonly clock: Clock,
  ) {}

  /**
   * How many API tokens, not revoked, are stored under each server secret, by the id their digest carries; null for a
   * digest of 64 hex characters, made before digests carried it. For diagnostics.
   */
  tokensBySecret(): Promise<SecretTally> {
    return this.db.read((sql) => tallyBySecret(sql, digestSecretIdSql('token_digest'), 'from api_token where revoked_at is null'));
  }

  /** The principal of an `Authorization` header; no header is anonymous, a bad one is refused. */
  async authenticate(authorization: string | undefined): Promise<Principal> {
    if (!authorization) return Principal.anonymous();
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match || !isWellFormedApiToken(match[1]!)) {
      throw AppError.unauthenticated('The Authorization header must be "Bearer <API token>".');
    }
    const digest = this.digester.digest(match[1]!);
    const find = (digests: string[]) =>
      this.db.read((sql) =>
        sql.get<{ id: string; name: string; role: Role; organization_id: string | null; token_digest: string }>(
          `select id, name, role, organization_id, token_digest from api_token
            where token_digest in (${digests.map(() => '?').join(', ')}) and revoked_at is null`,
          digests,
        ),
      );
    let row = await find([digest]);
    if (!row) {
      // Stored before a rotation of the secret, or before digests carried its id: found, and stored anew.
      row = await find(this.digester.formerDigests(match[1]!));
      if (row) {
        const { id, token_digest: former } = row;
        await this.db.write((tx) =>
          tx.run('update api_token set token_digest = ? where id = ? and token_digest = ?', [digest, id, former]),
        );
      }
    }
    if (!row) throw AppError.unauthenticated('This API token is not recognized or was revoked.');
    return Principal.apiToken({ id: row.id, name: row.name, role: row.role, organizationId: row.organization_id });
  }

  /**
   * On the first start against an empty database, creates a platform-admin token and returns its secret for
   * the one time it is shown. Returns null when any token exists. Instances starting together on PostgreSQL take
   * turns under a lock, so that exactly one of them makes it.
   */
  async bootstrap(em: EntityManager): Promise<string | null> {
    return this.db.withEntities(em, async (em, tx) => {
      await tx.advisoryLock(AdvisoryLock.BOOTSTRAP);
      if (await em.count(ApiToken, {})) return null;
      const secret = generateApiToken();
      const token = em.create(ApiToken, {
        name: 'bootstrap platform admin',
        role: Role.PLATFORM_ADMIN,
        organization: null,
        tokenDigest: this.digester.digest(secret),
        tokenHint: hintOf(secret),
      });
      const system = { type: 'SYSTEM' as const, id: null, label: 'bootstrap' };
      await this.audit.record(tx, {
        actor: system,
        requestId: null,
        at: this.clock.now(),
        organizationId: null,
        action: AuditAction.API_TOKEN_CREATE,
        objectType: 'ApiToken',
        objectId: token.id,
        after: snapshot(token),
      });
      return secret;
    });
  }

  async create(op: Operation, input: CreateApiTokenInput): Promise<{ token: ApiToken; secret: string }> {
    const organizationId = input.organizationId ?? null;
    if (input.role === Role.PLATFORM_ADMIN && organizationId) {
      throw AppError.badInput('A PLATFORM_ADMIN token belongs to no organization.', 'organizationId');
    }
    if (input.role !== Role.PLATFORM_ADMIN && !organizationId) {
      throw AppError.badInput(`A ${input.role} token needs an organizationId.`, 'organizationId');
    }
    op.principal.require(Permission.TOKEN_MANAGE, organizationId);
    if (input.role === Role.PLATFORM_ADMIN && !op.principal.isPlatformAdmin) {
      throw AppError.forbidden('Only a platform admin may create a PLATFORM_ADMIN token.');
    }
    return this.db.withEntities(op.em, async (em, tx) => {
      const organization = organizationId ? await em.findOne(Organization, { id: organizationId }) : null;
      if (organizationId && !organization) throw AppError.notFound('Organization', organizationId);
      const secret = generateApiToken();
      const token = em.create(ApiToken, {
        name: input.name.trim(),
        role: input.role,
        organization,
        tokenDigest: this.digester.digest(secret),
        tokenHint: hintOf(secret),
      });
      await this.audit.record(tx, {
        actor: op.principal.requireActor(),
        requestId: op.requestId,
        at: this.clock.now(),
        organizationId,
        action: AuditAction.API_TOKEN_CREATE,
        objectType: 'ApiToken',
        objectId: token.id,
        after: snapshot(token),
      });
      return { token, secret };
    });
  }

  async revoke(op: Operation, id: string): Promise<ApiToken> {
    op.principal.require(Permission.TOKEN_MANAGE);
    const revoked = await this.db.withEntities(op.em, async (em, tx) => {
      const token = await em.findOne(ApiToken, { id });
      if (!token) throw AppError.notFound('ApiToken', id);
      op.principal.requireObject(Permission.TOKEN_MANAGE, token.organization?.id ?? null, 'ApiToken', id);
      if (token.revokedAt) throw AppError.invalidTransition('API token', 'revoked', 'revoke');
      const before = snapshot(token);
      token.revokedAt = this.clock.now();
      await this.audit.record(tx, {
        actor: op.principal.requireActor(),
        requestId: op.requestId,
        at: this.clock.now(),
        organizationId: token.organization?.id ?? null,
        action: AuditAction.API_TOKEN_REVOKE,
        objectType: 'ApiToken',
        objectId: token.id,
        before,
        after: snapshot(token),
      });
      return token;
    });
    this.revocations.publish({ tokenId: revoked.id });
    return revoked;
  }

  /** Which of these tokens are revoked now (asked for the tokens of open sockets). */
  async revokedAmong(tokenIds: readonly string[]): Promise<string[]> {
    const revoked: string[] = [];
    for (let i = 0; i < tokenIds.length; i += 500) {
      const chunk = tokenIds.slice(i, i + 500);
      const rows = await this.db.read((sql) =>
        sql.all<{ id: string }>(
          `select id from api_token where revoked_at is not null and id in (${chunk.map(() => '?').join(', ')})`,
          chunk,
        ),
      );
      revoked.push(...rows.map((row) => row.id));
    }
    return revoked;
  }

  list(op: Operation, filter: ApiTokenFilter, page: PageArgs): Promise<Page<ApiToken>> {
    op.principal.require(Permission.TOKEN_READ);
    const organizationId = op.principal.scopeOrganization(filter.organizationId);
    const where: FilterQuery<ApiToken> = {};
    if (organizationId) where.organization = organizationId;
    if (filter.active === true) where.revokedAt = null;
    if (filter.active === false) where.revokedAt = { $ne: null };
    return findPage(op.em, ApiToken, where, page, (t) => t);
  }
}
