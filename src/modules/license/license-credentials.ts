import { normalizeLicenseKey, type SecretDigester } from '../../auth/secrets';
import { fromJson, type SqlGateway, type SqlRunner, type SqlValue, toDate, toDateOrNull } from '../../db/sql';
import { Lock, type Read, type SqlFragment, type Tx } from '../../db/transaction';
import { AppError, ErrorCode } from '../../errors';
import type { LicenseStore } from './license-store';
import type { LicenseStatus, LicenseType, OveragePolicy, UsagePeriod } from '../../kernel/license.enums';

/** The columns of a license that client-facing operations need, read by its key in one statement. */
export interface KeyedLicense {
  id: string;
  organizationId: string;
  planId: string;
  productId: string;
  type: LicenseType;
  status: LicenseStatus;
  startsAt: Date;
  expiresAt: Date | null;
  gracePeriodDays: number;
  namedUsers: number | null;
  concurrentSessions: number | null;
  leaseTtlSeconds: number;
  storageBytes: number | null;
  apiCallsPerPeriod: number | null;
  apiCallPeriod: UsagePeriod;
  overagePolicy: OveragePolicy;
  overagePercent: number | null;
  siteDomains: string[];
  siteCidrs: string[];
  keyHint: string;
  clientCallsPerMinute: number | null;
}

/**
 * A value read beside a license in the statement that finds it by its key, so that a client call reads what it
 * needs in one statement: an expression over the `license` row (a correlated subquery), its parameters, and the
 * name it is read as. The module that owns the table it reads writes it.
 */
export interface BesideColumn {
  expression: string;
  params: readonly SqlValue[];
  as: string;
}

/** Counts the client calls of a license that has a limit; the refusal when one is past it. */
export interface ClientCallLimiter {
  /** Counts a call of `requestId` (once however often the request authenticates). */
  count(licenseId: string, perMinute: number, requestId: string): Promise<AppError | undefined>;
}

interface Row {
  id: string;
  organization_id: string;
  plan_id: string;
  product_id: string;
  type: LicenseType;
  status: LicenseStatus;
  starts_at: unknown;
  expires_at: unknown;
  grace_period_days: number;
  named_users: number | null;
  concurrent_sessions: number | null;
  lease_ttl_seconds: number;
  storage_bytes: number | string | null;
  api_calls_per_period: number | string | null;
  api_call_period: UsagePeriod;
  overage_policy: OveragePolicy;
  overage_percent: number | null;
  site_domains: unknown;
  site_cidrs: unknown;
  key_hint: string;
  client_calls_per_minute: number | null;
}

const NOTHING_BESIDE: readonly BesideColumn[] = [];
const besideList = (beside: readonly BesideColumn[]) => beside.map((column) => `, ${column.expression} as ${column.as}`).join('');
/** Sets of columns read beside a license: a handful in the code; the bound keeps a mistake from growing without end. */
const MAX_LOOKUP_TEXTS = 100;

const COLUMNS = `id, organization_id, plan_id, product_id, type, status, starts_at, expires_at, grace_period_days, named_users,
  concurrent_sessions, lease_ttl_seconds, storage_bytes, api_calls_per_period, api_call_period, overage_policy, overage_percent, site_domains, site_cidrs, key_hint,
  client_calls_per_minute`;

/**
 * Responsible for license keys as credentials: client applications are authorized by the key alone, and reach
 * only its own license. Keys are looked up by their keyed digest; the key itself is never stored.
 */
export class LicenseCredentials {
  private readonly lookupTexts = new Map<string, { expressions: string[]; text: string }>();

  constructor(
    private readonly digester: SecretDigester,
    private readonly limiter?: ClientCallLimiter,
    /** Where a key found under the previous secret is stored anew (see `SECRET_KEY_PREVIOUS`). */
    private readonly redigests?: { db: SqlGateway; store: LicenseStore },
  ) {}

  /** The key as stored keys are made of it; a malformed key is refused before any lookup. */
  normalized(key: string): string {
    const normalized = normalizeLicenseKey(key);
    if (!normalized) {
      throw new AppError(ErrorCode.BAD_USER_INPUT, 'This is not a license key: expected AINX- and four groups of eight characters.', {
        field: 'key',
      });
    }
    return normalized;
  }

  /** The digest a key is stored under; a malformed key is refused before any lookup. */
  digestOf(key: string): string {
    return this.digester.digest(this.normalized(key));
  }

  /**
   * Stores a key found under a former digest under the current one, once the caller's transaction (which may be
   * a read) is over: a failure leaves it to the next use.
   */
  private storeAnew(sql: SqlRunner, licenseId: string, from: string, to: string): void {
    const redigests = this.redigests;
    if (!redigests) return;
    sql.afterCommit(() => {
      redigests.db.write((tx) => redigests.store.redigest(tx, licenseId, from, to)).catch(() => undefined);
    });
  }

  /**
   * The statement that finds a license by its digest with the `beside` columns, locking it with `forUpdate`: made
   * once for each set of columns asked for together (client calls ask on every call), found again by their names.
   */
  private lookupText(beside: readonly BesideColumn[], forUpdate: string): string {
    const shape = beside.length === 0 ? forUpdate : `${beside.map((column) => column.as).join(',')}|${forUpdate}`;
    const known = this.lookupTexts.get(shape);
    if (known && known.expressions.length === beside.length && known.expressions.every((e, i) => e === beside[i]!.expression)) {
      return known.text;
    }
    const text = `select ${COLUMNS}${besideList(beside)} from license where key_digest = ? ${forUpdate}`;
    if (this.lookupTexts.size < MAX_LOOKUP_TEXTS) this.lookupTexts.set(shape, { expressions: beside.map((c) => c.expression), text });
    return text;
  }

  /**
   * The license a key opens, counting the call of `requestId` against the license's limit on client calls, if it
   * has one (RATE_LIMITED past it). With `forUpdate`, the row is locked until the transaction ends (PostgreSQL), so
   * that counting its seats and taking one cannot interleave with another caller doing the same.
   */
  async authenticate(sql: SqlRunner, key: string, forUpdate = '', requestId?: string): Promise<KeyedLicense> {
    return (await this.authenticateWith(sql, key, NOTHING_BESIDE, forUpdate, requestId)).license;
  }

  /** As `authenticate`, reading the `beside` columns in the same statement (as they are named, in `beside`). */
  async authenticateWith(
    sql: SqlRunner,
    key: string,
    beside: readonly BesideColumn[],
    forUpdate = '',
    requestId?: string,
  ): Promise<{ license: KeyedLicense; beside: Record<string, unknown> }> {
    const digest = this.digestOf(key);
    const extraParams: SqlValue[] = [];
    for (const column of beside) extraParams.push(...column.params);
    const row =
      (await sql.get<Row>(this.lookupText(beside, forUpdate), [...extraParams, digest])) ??
      (await this.underFormerDigest(sql, key, digest, beside, extraParams, forUpdate));
    return this.admitted(row, beside, requestId);
  }

  /**
   * As `authenticate`, the license's row locked (`forUpdate`'s clause, taken from `tx`), and `after` read in the
   * same round trip once the lock is held (see `Tx.lockThenRead`): each read names the license by `license`, the
   * statement's own select of its id (by the key's digest), never by a value read before the lock. Returns the
   * license and the rows of each read.
   */
  async authenticateLocked(
    tx: Tx,
    key: string,
    requestId: string | undefined,
    after: (license: SqlFragment) => Read[],
  ): Promise<{ license: KeyedLicense; rows: unknown[][] }> {
    const digest = this.digestOf(key);
    const lock = { sql: this.lookupText(NOTHING_BESIDE, tx.forUpdate(Lock.LICENSE)), params: [digest] };
    const [found, ...rows] = await tx.lockThenRead(lock, after({ sql: '(select id from license where key_digest = ?)', params: [digest] }));
    const row = found?.[0] as Row | undefined;
    if (row) return { license: (await this.admitted(row, NOTHING_BESIDE, requestId)).license, rows };
    // Found under a former digest (rare): locked by it, then read by its id.
    const former = await this.underFormerDigest(tx, key, digest, NOTHING_BESIDE, [], tx.forUpdate(Lock.LICENSE));
    const { license } = await this.admitted(former, NOTHING_BESIDE, requestId);
    const again: unknown[][] = [];
    for (const read of after({ sql: '?', params: [license.id] })) again.push(await tx.all(read.sql, read.params));
    return { license, rows: again };
  }

  /** A license stored before a rotation of the secret, or before digests carried its id: found, and stored anew. */
  private async underFormerDigest(
    sql: SqlRunner,
    key: string,
    digest: string,
    beside: readonly BesideColumn[],
    extraParams: readonly SqlValue[],
    forUpdate: string,
  ): Promise<Row | undefined> {
    const formers = this.digester.formerDigests(this.normalized(key));
    const former = await sql.get<Row & { key_digest: string }>(
      `select ${COLUMNS}${besideList(beside)}, key_digest from license where key_digest in (${formers.map(() => '?').join(', ')}) ${forUpdate}`,
      [...extraParams, ...formers],
    );
    if (former) this.storeAnew(sql, former.id, former.key_digest, digest);
    return former;
  }

  /**
   * The license of a row found by a key, counting the call of `requestId` against its limit on client calls (RATE_LIMITED
   * past it, before anything is done); UNAUTHENTICATED when no row was found.
   */
  private async admitted(
    row: Row | undefined,
    beside: readonly BesideColumn[],
    requestId: string | undefined,
  ): Promise<{ license: KeyedLicense; beside: Record<string, unknown> }> {
    if (!row) throw new AppError(ErrorCode.UNAUTHENTICATED, 'This license key is not recognized.');
    const perMinute = row.client_calls_per_minute === null ? null : Number(row.client_calls_per_minute);
    if (perMinute && requestId && this.limiter) {
      const refusal = await this.limiter.count(row.id, perMinute, requestId);
      if (refusal) throw refusal;
    }
    const license: KeyedLicense = {
      id: row.id,
      organizationId: row.organization_id,
      planId: row.plan_id,
      productId: row.product_id,
      type: row.type,
      status: row.status,
      startsAt: toDate(row.starts_at),
      expiresAt: toDateOrNull(row.expires_at),
      gracePeriodDays: Number(row.grace_period_days),
      namedUsers: row.named_users === null ? null : Number(row.named_users),
      concurrentSessions: row.concurrent_sessions === null ? null : Number(row.concurrent_sessions),
      leaseTtlSeconds: Number(row.lease_ttl_seconds),
      storageBytes: row.storage_bytes === null ? null : Number(row.storage_bytes),
      apiCallsPerPeriod: row.api_calls_per_period === null ? null : Number(row.api_calls_per_period),
      apiCallPeriod: row.api_call_period,
      overagePolicy: row.overage_policy,
      overagePercent: row.overage_percent === null ? null : Number(row.overage_percent),
      siteDomains: fromJson<string[]>(row.site_domains),
      siteCidrs: fromJson<string[]>(row.site_cidrs),
      keyHint: row.key_hint,
      clientCallsPerMinute: perMinute,
    };
    const values: Record<string, unknown> = {};
    for (const column of beside) values[column.as] = (row as unknown as Record<string, unknown>)[column.as];
    return { license, beside: values };
  }
}
