import { digestSecretIdSql, type SecretTally, tallyBySecret } from '../../auth/secrets';
import type { SqlRunner, SqlValue } from '../../db/sql';
import { fromJson, toDate, toDateOrNull } from '../../db/sql';
import { Lock, type Tx } from '../../db/transaction';
import type { LicenseTerms, PlanPrice } from '../../kernel/license-terms';
import { type LicenseStatus, LicenseType, type OveragePolicy, type UsagePeriod } from '../../kernel/license.enums';
import { newId } from '../../db/ids';

/** A license as a migration reads it: its terms, its term dates and its plan's prices. */
export interface TermedLicense {
  id: string;
  organizationId: string;
  productId: string;
  status: LicenseStatus;
  startsAt: Date;
  expiresAt: Date | null;
  /** The start of the current term (null for licenses issued before it was kept: see `termOf`). */
  termStartedAt: Date | null;
  termDays: number | null;
  terms: LicenseTerms;
  planName: string;
  price: PlanPrice;
}

/** The columns of a license that say what it may use: its limits and overage policy, for readers of the row. */
export const TERM_COLUMNS =
  'named_users, concurrent_sessions, storage_bytes, api_calls_per_period, api_call_period, overage_policy, overage_percent';

/** Those columns as a statement returns them (numbers of bigint columns come as text from PostgreSQL). */
export interface TermRow {
  named_users: number | string | null;
  concurrent_sessions: number | string | null;
  storage_bytes: number | string | null;
  api_calls_per_period: number | string | null;
  api_call_period: UsagePeriod;
  overage_policy: OveragePolicy;
  overage_percent: number | string | null;
}

interface Row extends TermRow {
  id: string;
  organization_id: string;
  product_id: string;
  plan_id: string;
  type: LicenseType;
  status: LicenseStatus;
  starts_at: unknown;
  expires_at: unknown;
  term_started_at: unknown;
  term_days: number | string | null;
  plan_name: string;
  site_domains: unknown;
  site_cidrs: unknown;
  price_per_seat_cents: number | string | null;
  price_per_period_cents: number | string | null;
  currency: string;
}

const num = (value: number | string | null) => (value === null ? null : Number(value));

type TermsRow = Pick<
  Row,
  | 'plan_id'
  | 'type'
  | 'named_users'
  | 'concurrent_sessions'
  | 'storage_bytes'
  | 'api_calls_per_period'
  | 'api_call_period'
  | 'overage_policy'
  | 'overage_percent'
  | 'price_per_seat_cents'
  | 'price_per_period_cents'
  | 'currency'
>;

function termsOf(row: TermsRow, features: { key: string }[], site: LicenseTerms['site']): LicenseTerms {
  return {
    planId: row.plan_id,
    type: row.type,
    limits: {
      namedUsers: num(row.named_users),
      concurrentSessions: num(row.concurrent_sessions),
      storageBytes: num(row.storage_bytes),
      apiCallsPerPeriod: num(row.api_calls_per_period),
      apiCallPeriod: row.api_call_period,
    },
    overage: { policy: row.overage_policy, percent: num(row.overage_percent) },
    features: features.map((f) => f.key),
    site,
  };
}

function priceOf(row: TermsRow): PlanPrice {
  return { pricePerSeatCents: num(row.price_per_seat_cents), pricePerPeriodCents: num(row.price_per_period_cents), currency: row.currency };
}

/** What the audit log keeps of a license's terms, as the license service records them (reports read them back). */
export function termsSnapshot(status: LicenseStatus, terms: LicenseTerms) {
  return {
    status,
    type: terms.type,
    planId: terms.planId,
    limits: terms.limits,
    overage: terms.overage,
    features: terms.features,
    site: terms.site,
  };
}

/** A license's row, by the names the code gives its columns (less its id and times). */
export interface LicenseRow {
  organizationId: string;
  planId: string;
  productId: string;
  keyDigest: string;
  keyHint: string;
  type: LicenseType;
  status: LicenseStatus;
  statusReason: string | null;
  startsAt: Date;
  expiresAt: Date | null;
  termStartedAt: Date | null;
  gracePeriodDays: number;
  termDays: number | null;
  autoRenew: boolean;
  namedUsers: number | null;
  concurrentSessions: number | null;
  storageBytes: number | null;
  apiCallsPerPeriod: number | null;
  apiCallPeriod: UsagePeriod;
  overagePolicy: OveragePolicy;
  overagePercent: number | null;
  leaseTtlSeconds: number;
  clientCallsPerMinute: number | null;
  siteDomains: string[];
  siteCidrs: string[];
}

/** The column of each field of the row. */
const COLUMN: Record<keyof LicenseRow, string> = {
  organizationId: 'organization_id',
  planId: 'plan_id',
  productId: 'product_id',
  keyDigest: 'key_digest',
  keyHint: 'key_hint',
  type: 'type',
  status: 'status',
  statusReason: 'status_reason',
  startsAt: 'starts_at',
  expiresAt: 'expires_at',
  termStartedAt: 'term_started_at',
  gracePeriodDays: 'grace_period_days',
  termDays: 'term_days',
  autoRenew: 'auto_renew',
  namedUsers: 'named_users',
  concurrentSessions: 'concurrent_sessions',
  storageBytes: 'storage_bytes',
  apiCallsPerPeriod: 'api_calls_per_period',
  apiCallPeriod: 'api_call_period',
  overagePolicy: 'overage_policy',
  overagePercent: 'overage_percent',
  leaseTtlSeconds: 'lease_ttl_seconds',
  clientCallsPerMinute: 'client_calls_per_minute',
  siteDomains: 'site_domains',
  siteCidrs: 'site_cidrs',
};

/** A field's value as a statement binds it: lists as JSON text. */
const sqlValue = (value: LicenseRow[keyof LicenseRow] | undefined): SqlValue =>
  Array.isArray(value) ? JSON.stringify(value) : (value ?? null);

/**
 * Responsible for the license row in plain SQL, inside the caller's transaction: its terms (plan, type, limits,
 * overage, features, site) with what a migration needs around them (term dates, the plan's prices), its status when a
 * job or a transfer moves it, and a license split off another. The license module is the only writer of the license
 * and license_feature tables: other modules change a license through this store or the license service.
 */
export class LicenseStore {
  /**
   * How many license keys are stored under each server secret, by the id their digest carries (`<secret id>.<HMAC>`);
   * null for a digest of 64 hex characters, made before digests carried it.
   */
  keysBySecret(sql: SqlRunner): Promise<SecretTally> {
    return tallyBySecret(sql, digestSecretIdSql('key_digest'), 'from license');
  }

  read(sql: SqlRunner, licenseId: string): Promise<TermedLicense | undefined> {
    return this.load(sql, licenseId, '');
  }

  /** The license, its row locked until the transaction ends. */
  readForUpdate(tx: Tx, licenseId: string): Promise<TermedLicense | undefined> {
    return this.load(tx, licenseId, tx.forUpdate(Lock.LICENSE, licenseId).replace('for update', 'for update of l'));
  }

  private async load(sql: SqlRunner, licenseId: string, lock: string): Promise<TermedLicense | undefined> {
    const row = await sql.get<Row>(
      `select l.id, l.organization_id, l.product_id, l.plan_id, l.type, l.status, l.starts_at, l.expires_at, l.term_started_at, l.term_days,
         l.named_users, p.name as plan_name,
         l.concurrent_sessions, l.storage_bytes, l.api_calls_per_period, l.api_call_period, l.overage_policy, l.overage_percent,
         l.site_domains, l.site_cidrs, p.price_per_seat_cents, p.price_per_period_cents, p.currency
         from license l join plan p on p.id = l.plan_id where l.id = ? ${lock}`,
      [licenseId],
    );
    if (!row) return undefined;
    const features = await sql.all<{ key: string }>(
      'select f.key from license_feature lf join feature f on f.id = lf.feature_id where lf.license_id = ? order by f.key',
      [licenseId],
    );
    return {
      id: row.id,
      organizationId: row.organization_id,
      productId: row.product_id,
      status: row.status,
      startsAt: toDate(row.starts_at),
      expiresAt: toDateOrNull(row.expires_at),
      termStartedAt: toDateOrNull(row.term_started_at),
      termDays: num(row.term_days),
      terms: termsOf(row, features, { domains: fromJson<string[]>(row.site_domains), cidrs: fromJson<string[]>(row.site_cidrs) }),
      price: priceOf(row),
      planName: row.plan_name,
    };
  }

  /** A plan's terms and prices, to move a license to; undefined when there is no such plan. */
  async plan(
    sql: SqlRunner,
    planId: string,
  ): Promise<{ productId: string; name: string; terms: LicenseTerms; price: PlanPrice } | undefined> {
    const row = await sql.get<
      Omit<Row, 'id' | 'organization_id' | 'status' | 'starts_at' | 'expires_at' | 'term_started_at' | 'site_domains' | 'site_cidrs'>
    >(
      `select id as plan_id, name as plan_name, product_id, license_type as type, term_days, named_users, concurrent_sessions, storage_bytes,
         api_calls_per_period, api_call_period, overage_policy, overage_percent, price_per_seat_cents, price_per_period_cents, currency
         from plan where id = ?`,
      [planId],
    );
    if (!row) return undefined;
    const features = await sql.all<{ key: string }>(
      'select f.key from plan_feature pf join feature f on f.id = pf.feature_id where pf.plan_id = ? order by f.key',
      [planId],
    );
    return {
      productId: row.product_id,
      name: row.plan_name,
      terms: termsOf(row, features, { domains: [], cidrs: [] }),
      price: priceOf(row),
    };
  }

  /** The feature keys of a product among `keys` that do not exist. */
  async unknownFeatures(sql: SqlRunner, productId: string, keys: readonly string[]): Promise<string[]> {
    if (!keys.length) return [];
    const rows = await sql.all<{ key: string }>(
      `select key from feature where product_id = ? and key in (${keys.map(() => '?').join(', ')})`,
      [productId, ...keys],
    );
    const known = new Set(rows.map((r) => r.key));
    return keys.filter((k) => !known.has(k));
  }

  /** Writes a license's new terms: its columns and its entitled features. */
  async write(tx: Tx, license: Pick<TermedLicense, 'id' | 'productId'>, terms: LicenseTerms, now: Date): Promise<void> {
    const { limits, overage, site } = terms;
    const columns = {
      ...limits,
      overagePolicy: overage.policy,
      overagePercent: overage.percent,
      siteDomains: site.domains,
      siteCidrs: site.cidrs,
    };
    await this.update(tx, license.id, { planId: terms.planId, type: terms.type, ...columns }, now);
    await this.replaceFeatures(tx, license.id, license.productId, terms.features);
  }

  /** Inserts a license with its entitled features (keys of its product); returns its id. */
  async insert(tx: Tx, row: LicenseRow, features: readonly string[], now: Date): Promise<string> {
    const id = newId(now.getTime());
    const names = Object.keys(COLUMN) as (keyof LicenseRow)[];
    await tx.run(
      `insert into license (id, ${names.map((n) => COLUMN[n]).join(', ')}, created_at, updated_at)
       values (?, ${names.map(() => '?').join(', ')}, ?, ?)`,
      [id, ...names.map((n) => sqlValue(row[n])), now, now],
    );
    await this.replaceFeatures(tx, id, row.productId, features);
    return id;
  }

  /** Stores a license's key digest anew (made under the current secret), if it is still the one found. */
  async redigest(tx: Tx, id: string, from: string, to: string): Promise<void> {
    await tx.run('update license set key_digest = ? where id = ? and key_digest = ?', [to, id, from]);
  }

  /** Changes columns of a license. */
  async update(tx: Tx, id: string, change: Partial<LicenseRow>, now: Date): Promise<void> {
    const set = (Object.keys(change) as (keyof LicenseRow)[]).filter((n) => change[n] !== undefined);
    await tx.run(
      `update license set ${set.map((n) => `${COLUMN[n]} = ?`).join(', ')}${set.length ? ', ' : ''}updated_at = ? where id = ?`,
      [...set.map((n) => sqlValue(change[n])), now, id],
    );
  }

  private async replaceFeatures(tx: Tx, licenseId: string, productId: string, keys: readonly string[]): Promise<void> {
    await tx.run('delete from license_feature where license_id = ?', [licenseId]);
    if (!keys.length) return;
    await tx.run(
      `insert into license_feature (license_id, feature_id) select ?, id from feature where product_id = ? and key in (${keys.map(() => '?').join(', ')})`,
      [licenseId, productId, ...keys],
    );
  }

  /** Moves a license to `to` if it is still in `from`; returns whether it moved. */
  async setStatus(tx: Tx, id: string, change: { from: LicenseStatus; to: LicenseStatus }, now: Date): Promise<boolean> {
    return (
      (await tx.run('update license set status = ?, updated_at = ? where id = ? and status = ?', [change.to, now, id, change.from])) > 0
    );
  }

  /**
   * Inserts a FEATURE license split off `source`: its organization, plan, term, status and client settings, with no
   * limits, and `features`. Returns its id.
   */
  async insertFeatureLicense(
    tx: Tx,
    source: TermedLicense,
    key: { digest: string; hint: string },
    features: readonly string[],
    now: Date,
  ): Promise<string> {
    const term = await tx.get<{
      grace_period_days: number;
      auto_renew: number | boolean;
      lease_ttl_seconds: number;
      client_calls_per_minute: number | null;
    }>('select grace_period_days, auto_renew, lease_ttl_seconds, client_calls_per_minute from license where id = ?', [source.id]);
    const row: LicenseRow = {
      organizationId: source.organizationId,
      planId: source.terms.planId,
      productId: source.productId,
      keyDigest: key.digest,
      keyHint: key.hint,
      type: LicenseType.FEATURE,
      // Split off a suspended license, the new one is suspended too: resuming is a decision of its own.
      status: source.status,
      statusReason: null,
      startsAt: source.startsAt,
      expiresAt: source.expiresAt,
      termStartedAt: source.termStartedAt,
      gracePeriodDays: Number(term!.grace_period_days),
      termDays: source.termDays,
      autoRenew: Boolean(term!.auto_renew),
      namedUsers: null,
      concurrentSessions: null,
      storageBytes: null,
      apiCallsPerPeriod: null,
      apiCallPeriod: source.terms.limits.apiCallPeriod,
      overagePolicy: source.terms.overage.policy,
      overagePercent: source.terms.overage.percent,
      leaseTtlSeconds: Number(term!.lease_ttl_seconds),
      clientCallsPerMinute: term!.client_calls_per_minute === null ? null : Number(term!.client_calls_per_minute),
      siteDomains: [],
      siteCidrs: [],
    };
    return this.insert(tx, row, features, now);
  }
}
