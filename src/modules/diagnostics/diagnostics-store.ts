import { BOOKKEEPING } from '../../db/orm';
import { type SqlGateway, type SqlRunner, toDate, toDateOrNull } from '../../db/sql';

/** A server instance as it records itself. */
export interface InstanceRecord {
  id: string;
  host: string;
  pid: number;
  version: string;
  secretId: string;
  startedAt: Date;
  /** By the database's clock (on SQLite, the machine's). */
  lastSeenAt: Date;
  /** Its own clock then. */
  clockReading: Date;
  /** Its clock less the database's, in milliseconds. */
  clockOffsetMs: number;
}

export type JobOutcome = 'OK' | 'FAILED';

/** A periodic job's run. */
export interface JobRunRecord {
  job: string;
  intervalMs: number;
  instanceId: string;
  startedAt: Date;
  finishedAt: Date;
  outcome: JobOutcome;
  detail: string | null;
  /** When it last ended well (read back; a run that failed leaves the one before). */
  lastSucceededAt?: Date | null;
}

/** A job's run as read back. */
export type StoredJobRun = JobRunRecord & { lastSucceededAt: Date | null };

/** The database's time, and how long it took to ask. */
export interface DatabaseTime {
  /** Null on SQLite, which has no clock of its own. */
  now: Date | null;
  roundTripMs: number;
}

const INSTANCE_COLUMNS = 'id, host, pid, version, secret_id, started_at, last_seen_at, clock_reading, clock_offset_ms';

interface InstanceRow {
  id: string;
  host: string;
  pid: number | string;
  version: string;
  secret_id: string;
  started_at: unknown;
  last_seen_at: unknown;
  clock_reading: unknown;
  clock_offset_ms: number | string;
}

interface JobRunRow {
  job: string;
  interval_ms: number | string;
  instance_id: string;
  started_at: unknown;
  finished_at: unknown;
  outcome: JobOutcome;
  detail: string | null;
  last_succeeded_at: unknown;
}

/**
 * Responsible for what the server instances record of themselves for diagnostics: the `server_instance` and `job_run`
 * tables (the only code that writes them), and the database's own time.
 */
export class DiagnosticsStore {
  constructor(private readonly db: SqlGateway) {}

  get dialect(): SqlGateway['dialect'] {
    return this.db.dialect;
  }

  /**
   * The database's time (PostgreSQL's `now()`), and the round trip it took (`elapsed` reads a monotonic clock); on
   * SQLite, a round trip that reads nothing of the kind.
   */
  async databaseTime(elapsed: () => number = performanceNow): Promise<DatabaseTime> {
    const start = elapsed();
    if (this.db.dialect === 'sqlite') {
      await this.db.read((sql) => sql.get(`${BOOKKEEPING}select 1 as one`));
      return { now: null, roundTripMs: elapsed() - start };
    }
    const row = await this.db.read((sql) => sql.get<{ now: unknown }>(`${BOOKKEEPING}select now() as now`));
    return { now: toDate(row?.now), roundTripMs: elapsed() - start };
  }

  /** The names of the migrations applied to the database (MikroORM's log of them). */
  async appliedMigrations(): Promise<string[]> {
    const rows = await this.db.read((sql) => sql.all<{ name: string }>(`${BOOKKEEPING}select name from mikro_orm_migrations order by id`));
    return rows.map((row) => row.name.replace(/\.[jt]s$/, ''));
  }

  async recordInstance(instance: InstanceRecord): Promise<void> {
    await this.db.write((tx) =>
      tx.run(
        `${BOOKKEEPING}insert into server_instance (${INSTANCE_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?)
         on conflict (id) do update set host = excluded.host, pid = excluded.pid, version = excluded.version,
           secret_id = excluded.secret_id, last_seen_at = excluded.last_seen_at, clock_reading = excluded.clock_reading,
           clock_offset_ms = excluded.clock_offset_ms`,
        [
          instance.id,
          instance.host.slice(0, 255),
          instance.pid,
          instance.version.slice(0, 64),
          instance.secretId,
          instance.startedAt,
          instance.lastSeenAt,
          instance.clockReading,
          instance.clockOffsetMs,
        ],
      ),
    );
  }

  /** Removes an instance that stopped, and those not heard from since `before`. */
  async forgetInstances(ids: readonly string[], before: Date): Promise<void> {
    await this.db.write(async (tx) => {
      for (const id of ids) await tx.run(`${BOOKKEEPING}delete from server_instance where id = ?`, [id]);
      await tx.run(`${BOOKKEEPING}delete from server_instance where last_seen_at < ?`, [before]);
    });
  }

  async instances(sql?: SqlRunner): Promise<InstanceRecord[]> {
    const read = (sql: SqlRunner) =>
      sql.all<InstanceRow>(`${BOOKKEEPING}select ${INSTANCE_COLUMNS} from server_instance order by started_at, id`);
    const rows = sql ? await read(sql) : await this.db.read(read);
    return rows.map((row) => ({
      id: row.id,
      host: row.host,
      pid: Number(row.pid),
      version: row.version,
      secretId: row.secret_id,
      startedAt: toDate(row.started_at),
      lastSeenAt: toDate(row.last_seen_at),
      clockReading: toDate(row.clock_reading),
      clockOffsetMs: Number(row.clock_offset_ms),
    }));
  }

  /** Records a job's run over the one before (a failed run keeps when the job last succeeded). */
  async recordRun(run: JobRunRecord): Promise<void> {
    await this.db.write((tx) =>
      tx.run(
        `${BOOKKEEPING}insert into job_run (job, interval_ms, instance_id, started_at, finished_at, outcome, detail, last_succeeded_at)
         values (?, ?, ?, ?, ?, ?, ?, ?)
         on conflict (job) do update set interval_ms = excluded.interval_ms, instance_id = excluded.instance_id,
           started_at = excluded.started_at, finished_at = excluded.finished_at, outcome = excluded.outcome,
           detail = excluded.detail,
           last_succeeded_at = case when excluded.outcome = 'OK' then excluded.finished_at else job_run.last_succeeded_at end`,
        [
          run.job.slice(0, 64),
          run.intervalMs,
          run.instanceId,
          run.startedAt,
          run.finishedAt,
          run.outcome,
          run.detail?.slice(0, 1000) ?? null,
          run.outcome === 'OK' ? run.finishedAt : null,
        ],
      ),
    );
  }

  async runs(): Promise<StoredJobRun[]> {
    const rows = await this.db.read((sql) =>
      sql.all<JobRunRow>(
        `${BOOKKEEPING}select job, interval_ms, instance_id, started_at, finished_at, outcome, detail, last_succeeded_at from job_run order by job`,
      ),
    );
    return rows.map((row) => ({
      job: row.job,
      intervalMs: Number(row.interval_ms),
      instanceId: row.instance_id,
      startedAt: toDate(row.started_at),
      finishedAt: toDate(row.finished_at),
      outcome: row.outcome,
      detail: row.detail,
      lastSucceededAt: toDateOrNull(row.last_succeeded_at),
    }));
  }
}

const performanceNow = () => performance.now();
