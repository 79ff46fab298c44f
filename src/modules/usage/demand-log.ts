import type { Clock } from '../../common/clock';
import type { SqlGateway, SqlRunner } from '../../db/sql';
import { insertMany } from '../../db/insert-many';
import type { Tx } from '../../db/transaction';
import type { DemandRecorder, DemandSubject, Denial, FeatureUse } from '../../kernel/demand';
import type { Logger } from '../../logger';
import { BUCKET_MS } from './usage-meter';
import { UsageResolution } from './usage.types';

/** A denial followed this soon by a grant to the same client was a retry, not demand the license did not meet. */
export const RETRY_WINDOW_MS = 60_000;
/** Denials and uses kept in memory at most: past this, all of them are written at once. */
const MAX_PENDING = 20_000;
/** Clients whose grants one statement looks up: far below the parameters a statement may have (PostgreSQL 65,535). */
const CLIENTS_PER_LOOKUP = 500;
/** Denials a flush writes in one transaction: a few milliseconds of SQLite's writer (about 13 µs a denial). */
const DENIALS_PER_TRANSACTION = 1_000;
const DAY_MS = BUCKET_MS[UsageResolution.DAY];
const HOUR_MS = BUCKET_MS[UsageResolution.HOUR];

/** Grants to clients, by who was granted (a fingerprint, a user) and when: what tells a retry from unmet demand. */
export interface GrantLookup {
  grantsSince(sql: SqlRunner, licenseId: string, clients: readonly string[], since: Date): Promise<{ client: string; at: Date }[]>;
}

/** A license's subject whose denials, written, left demand unmet in an hour. */
export interface UnmetDemand {
  licenseId: string;
  organizationId: string;
  subject: DemandSubject;
  /** The hour (epoch ms) the denials fell in. */
  hour: number;
}

/** Told, in the transaction of a flush, of the licenses whose written denials left demand unmet (the alert module's). */
export interface UnmetDemandObserver {
  unmet(tx: Tx, unmet: readonly UnmetDemand[], now: Date): Promise<void>;
}

/** A client's denials of one subject within an hour, not yet written. */
interface PendingDenial {
  licenseId: string;
  organizationId: string;
  subject: DemandSubject;
  feature: string;
  client: string;
  hour: number;
  count: number;
  last: Date;
  retried: boolean;
}

/** A feature's uses by a license within a day, not yet written. */
interface PendingUse {
  licenseId: string;
  organizationId: string;
  feature: string;
  day: number;
  uses: number;
  denials: number;
  /** The last allowed use; null while every one was refused. */
  last: Date | null;
}

const floorTo = (at: Date, size: number) => Math.floor(at.getTime() / size) * size;

/** The license, subject and hour of each denial of a limit that no grant met, once each. */
function unmetOf(denials: readonly PendingDenial[]): UnmetDemand[] {
  const unmet = new Map<string, UnmetDemand>();
  for (const d of denials) {
    if (d.retried || d.subject === 'FEATURE') continue;
    unmet.set(`${d.licenseId}\u0000${d.subject}\u0000${d.hour}`, {
      licenseId: d.licenseId,
      organizationId: d.organizationId,
      subject: d.subject,
      hour: d.hour,
    });
  }
  return [...unmet.values()];
}

/**
 * Responsible for the demand facts: denials (by what refused them, with the clients refused) and feature uses, told
 * by the seat ledgers, the usage meter and validation, which must not wait for them. They are added up in memory and
 * written by a flush (a periodic job, and shutdown), many rows a statement, so that a burst of refused checkouts, read
 * without a lock, stays read-only. A denial is written once its retry window has passed: a grant to the same client
 * within a minute of the client's last denial in that hour makes all of them retries. Were the database away, a
 * flush keeps what it could not write for the next one; a crash loses at most what a flush had not written yet.
 */
export class DemandLog implements DemandRecorder {
  private denials = new Map<string, PendingDenial>();
  private uses = new Map<string, PendingUse>();
  private flushing: Promise<number> | undefined;

  constructor(
    private readonly db: SqlGateway,
    private readonly grants: Partial<Record<DemandSubject, GrantLookup>>,
    private readonly clock: Clock,
    private readonly logger?: Pick<Logger, 'error'>,
    private readonly observer?: UnmetDemandObserver,
  ) {}

  denied(denial: Denial): void {
    const hour = floorTo(denial.at, HOUR_MS);
    const feature = denial.feature ?? '';
    const client = denial.client?.slice(0, 200) ?? '';
    const key = `${denial.licenseId}\u0000${denial.subject}\u0000${feature}\u0000${client}\u0000${hour}`;
    const pending = this.denials.get(key);
    if (pending) {
      pending.count++;
      if (denial.at > pending.last) pending.last = denial.at;
    } else {
      this.denials.set(key, { ...denial, feature, client, hour, count: 1, last: denial.at, retried: false });
    }
    if (feature) this.use({ ...denial, feature, allowed: false });
    this.flushWhenFull();
  }

  used(use: FeatureUse): void {
    if (use.allowed) this.use(use);
    // A refused use is told as a denial, which counts it.
    else this.denied({ ...use, subject: 'FEATURE', client: use.client ?? null });
  }

  private use(use: FeatureUse): void {
    const day = floorTo(use.at, DAY_MS);
    const key = `${use.licenseId}\u0000${use.feature}\u0000${day}`;
    const pending = this.uses.get(key) ?? { ...use, day, uses: 0, denials: 0, last: null };
    if (!use.allowed) pending.denials++;
    else {
      pending.uses++;
      if (!pending.last || use.at > pending.last) pending.last = use.at;
    }
    this.uses.set(key, pending);
    this.flushWhenFull();
  }

  /** Past MAX_PENDING, everything is written at once: a retry that comes later is then counted as unmet demand. */
  private flushWhenFull(): void {
    if (this.denials.size + this.uses.size >= MAX_PENDING && !this.flushing) void this.flush({ all: true });
  }

  /**
   * Writes the feature uses and the denials whose retry window has passed (all of them when `all`, at shutdown);
   * returns how many rows it wrote. One flush at a time: a flush asked for while one runs waits for it.
   */
  async flush(options: { all?: boolean; now?: Date } = {}): Promise<number> {
    while (this.flushing) await this.flushing;
    this.flushing = this.write(options.now ?? this.clock.now(), options.all ?? false).finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async write(now: Date, all: boolean): Promise<number> {
    const settledBy = now.getTime() - RETRY_WINDOW_MS;
    const denials = [...this.denials].filter(([, d]) => all || d.last.getTime() <= settledBy);
    const uses = [...this.uses];
    if (!denials.length && !uses.length) return 0;
    for (const [key] of denials) this.denials.delete(key);
    this.uses = new Map();
    let written = 0;
    // A transaction a slice: a flush of tens of thousands of denials (a burst of machines refused) holds neither
    // SQLite's one writer nor the event loop for more than a slice's few milliseconds at a time.
    for (let from = 0; from === 0 || from < denials.length; from += DENIALS_PER_TRANSACTION) {
      const slice = denials.slice(from, from + DENIALS_PER_TRANSACTION);
      const sliceUses = from === 0 ? uses : [];
      try {
        written += await this.db.write(async (tx) => {
          const pending = slice.map(([, d]) => d);
          await this.markRetries(tx, pending);
          const rows =
            (await this.writeDenials(tx, pending)) +
            (await this.writeUses(
              tx,
              sliceUses.map(([, u]) => u),
            ));
          await this.observer?.unmet(tx, unmetOf(pending), now);
          return rows;
        });
      } catch (error) {
        // Kept for the next flush, this slice and those after it: nothing told is lost while the database is away.
        this.keep(denials.slice(from), sliceUses);
        this.logger?.error({ err: error }, 'demand facts not written; kept for the next flush');
        break;
      }
    }
    return written;
  }

  private keep(denials: [string, PendingDenial][], uses: [string, PendingUse][]): void {
    for (const [key, d] of denials) {
      this.merge(this.denials, key, d, (into) => {
        into.count += d.count;
      });
    }
    for (const [key, u] of uses) {
      this.merge(this.uses, key, u, (into) => {
        into.uses += u.uses;
        into.denials += u.denials;
      });
    }
  }

  private merge<T extends { last: Date | null }>(map: Map<string, T>, key: string, value: T, add: (into: T) => void): void {
    const into = map.get(key);
    if (!into) {
      map.set(key, value);
      return;
    }
    add(into);
    if (value.last && (!into.last || value.last > into.last)) into.last = value.last;
  }

  /** Marks the denials that a grant to the same client followed within the retry window: one look-up a license and subject. */
  private async markRetries(sql: SqlRunner, denials: PendingDenial[]): Promise<void> {
    const groups = new Map<string, PendingDenial[]>();
    for (const d of denials) {
      if (!d.client || !this.grants[d.subject]) continue;
      const key = `${d.licenseId}\u0000${d.subject}`;
      const group = groups.get(key);
      if (group) group.push(d);
      else groups.set(key, [d]);
    }
    // Linear in the denials however many clients a burst had (a flush may hold tens of thousands of one license's).
    for (const group of groups.values()) {
      const { licenseId, subject } = group[0]!;
      const since = new Date(group.reduce((earliest, d) => Math.min(earliest, d.last.getTime()), Number.POSITIVE_INFINITY));
      const clients = [...new Set(group.map((d) => d.client))];
      const grantsOf = new Map<string, number[]>();
      for (let from = 0; from < clients.length; from += CLIENTS_PER_LOOKUP) {
        const grants = await this.grants[subject]!.grantsSince(sql, licenseId, clients.slice(from, from + CLIENTS_PER_LOOKUP), since);
        for (const grant of grants) {
          const times = grantsOf.get(grant.client);
          if (times) times.push(grant.at.getTime());
          else grantsOf.set(grant.client, [grant.at.getTime()]);
        }
      }
      for (const d of group) {
        const last = d.last.getTime();
        d.retried = grantsOf.get(d.client)?.some((at) => at > last && at <= last + RETRY_WINDOW_MS) ?? false;
      }
    }
  }

  private async writeDenials(sql: Tx, denials: PendingDenial[]): Promise<number> {
    // Added up by the key of each table first: a bucket's row and a client's row of a day each once per statement.
    const buckets = new Map<string, { d: PendingDenial; resolution: UsageResolution; start: number; denials: number; retries: number }>();
    const clients = new Map<string, { d: PendingDenial; day: number; denials: number; retries: number; last: Date }>();
    for (const d of denials) {
      const day = Math.floor(d.hour / DAY_MS) * DAY_MS;
      for (const [resolution, start] of [
        [UsageResolution.HOUR, d.hour],
        [UsageResolution.DAY, day],
      ] as const) {
        const key = `${d.licenseId}\u0000${d.subject}\u0000${d.feature}\u0000${resolution}\u0000${start}`;
        const bucket = buckets.get(key) ?? { d, resolution, start, denials: 0, retries: 0 };
        bucket.denials += d.count;
        if (d.retried) bucket.retries += d.count;
        buckets.set(key, bucket);
      }
      if (!d.client) continue;
      // A client refused in two hours of a day has one row of the day.
      const key = `${d.licenseId}\u0000${d.subject}\u0000${d.feature}\u0000${day}\u0000${d.client}`;
      const client = clients.get(key) ?? { d, day, denials: 0, retries: 0, last: d.last };
      client.denials += d.count;
      if (d.retried) client.retries += d.count;
      if (d.last > client.last) client.last = d.last;
      clients.set(key, client);
    }
    await insertMany(
      sql,
      'insert into usage_denial (license_id, subject, feature_key, resolution, bucket_start, organization_id, denials, retries)',
      [...buckets.values()].map(({ d, resolution, start, denials: count, retries }) => [
        d.licenseId,
        d.subject,
        d.feature,
        resolution,
        new Date(start),
        d.organizationId,
        count,
        retries,
      ]),
      `on conflict (license_id, subject, feature_key, resolution, bucket_start) do update set
         denials = usage_denial.denials + excluded.denials, retries = usage_denial.retries + excluded.retries`,
    );
    await insertMany(
      sql,
      'insert into usage_denial_client (license_id, subject, feature_key, day, client, organization_id, denials, retries, last_denied_at)',
      [...clients.values()].map(({ d, day, denials: count, retries, last }) => [
        d.licenseId,
        d.subject,
        d.feature,
        new Date(day),
        d.client,
        d.organizationId,
        count,
        retries,
        last,
      ]),
      `on conflict (license_id, subject, feature_key, day, client) do update set
         denials = usage_denial_client.denials + excluded.denials, retries = usage_denial_client.retries + excluded.retries,
         last_denied_at = case when excluded.last_denied_at > usage_denial_client.last_denied_at
           then excluded.last_denied_at else usage_denial_client.last_denied_at end`,
    );
    return buckets.size + clients.size;
  }

  private async writeUses(sql: Tx, uses: PendingUse[]): Promise<number> {
    await insertMany(
      sql,
      'insert into feature_use (license_id, feature_key, day, organization_id, uses, denials, last_used_at)',
      uses.map((u) => [u.licenseId, u.feature, new Date(u.day), u.organizationId, u.uses, u.denials, u.last]),
      `on conflict (license_id, feature_key, day) do update set
         uses = feature_use.uses + excluded.uses, denials = feature_use.denials + excluded.denials,
         last_used_at = case when feature_use.last_used_at is null or excluded.last_used_at > feature_use.last_used_at
           then coalesce(excluded.last_used_at, feature_use.last_used_at) else feature_use.last_used_at end`,
    );
    return uses.length;
  }

  /** Drops the hourly denial buckets past the usage series' retention (the daily ones stay); returns how many. */
  prune(before: Date): Promise<number> {
    return this.db.write((sql) =>
      sql.run('delete from usage_denial where resolution = ? and bucket_start < ?', [UsageResolution.HOUR, before]),
    );
  }
}
