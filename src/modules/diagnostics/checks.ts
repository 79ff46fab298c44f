import type { Clock } from '../../common/clock';
import type { RateLimitConfig } from '../../config';
import { MIGRATIONS } from '../../db/orm';
import type { DiagnosticsStore, InstanceRecord, JobRunRecord, StoredJobRun } from './diagnostics-store';
import { check, ms, signed, worst } from './check-result';
import { type CheckResult, DiagnosticCode, DiagnosticStatus, type SecretUse } from './diagnostics.types';
import { INSTANCE_LIVE_MS } from './instance-beacon';
import { RECORD_RUNS_EVERY_MS } from './job-runs';
import { secretCheck, type SecretSources, secretUses } from './secret-check';

/** Answers when Redis answers a PING; rejects when it cannot be reached. */
export interface RedisProbe {
  ping(): Promise<void>;
}

/** A signing key as diagnostics see it (the certificate module's). */
export interface SigningKeyState {
  kid: string;
  createdAt: Date;
  retiredAt: Date | null;
  /** When the last certificate it signed expires. */
  lastExpiresAt: Date | null;
  /** The id of the secret its private half is sealed under; null for a seal from before seals carried it. */
  sealedUnder: string | null;
}

/** A periodic job as it is scheduled. */
export interface JobSchedule {
  name: string;
  intervalMs: number;
}

/** Everything the checks read: the same whether a server answers the `diagnostics` query or `doctor` runs them. */
export interface CheckSources extends SecretSources {
  store: DiagnosticsStore;
  /** The clock of whoever checks (a server, or the doctor command). */
  clock: Clock;
  /** Null when Redis is not configured. */
  redis: RedisProbe | null;
  rateLimits: RateLimitConfig;
  jobs: readonly JobSchedule[];
  signingKeys(): Promise<SigningKeyState[]>;
  /** The instance that checks, when a server does. */
  instanceId?: string;
}

export interface DiagnosticsReport {
  status: DiagnosticStatus;
  checkedAt: Date;
  checks: CheckResult[];
  instances: (InstanceRecord & { live: boolean; current: boolean })[];
  jobs: StoredJobRun[];
  secrets: SecretUse[];
}

/** How long the database or Redis may take to answer a check before it is taken as unreachable. */
const PROBE_TIMEOUT_MS = 3_000;
/** A round trip slower than this is worth a warning. */
const SLOW_MS = 500;
/** Clocks further apart than this are worth a warning; further than CLOCK_ERROR_MS, an error. */
const CLOCK_WARNING_MS = 2_000;
const CLOCK_ERROR_MS = 30_000;

const SYNC_CLOCK =
  'Synchronize the clock with NTP (chrony, or `timedatectl set-ntp true` with systemd-timesyncd) on that host, and keep it synchronized: license terms, lease expiry, certificates and the clientTime checks all read it.';

export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms(timeoutMs)}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A driver's error in a sentence an operator acts on. */
export function describeConnectionError(error: unknown): string {
  const e = error as { code?: string; address?: string; port?: number; hostname?: string; message?: string };
  if (e?.code === 'ECONNREFUSED') return `connection refused at ${e.address ?? '?'}:${e.port ?? '?'} (nothing listens there)`;
  if (e?.code === 'ENOTFOUND') return `the host ${e.hostname ?? ''} cannot be resolved`;
  if (e?.code === 'ETIMEDOUT') return 'the connection timed out (a firewall dropping packets, or the host is down)';
  if (e?.code === '3D000') return 'the database named in the URL does not exist';
  if (e?.code === '28P01' || e?.code === '28000') return 'the server refused the user or password';
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n')[0] ?? 'unknown error').replace(/\.$/, '').slice(0, 300);
}

/** Runs every check; the database's are left out when it cannot be reached (the first check says so). */
export async function runChecks(sources: CheckSources): Promise<DiagnosticsReport> {
  const checkedAt = sources.clock.now();
  const configured = [await redisCheck(sources.redis), rateLimitCheck(sources.rateLimits, sources.redis !== null)];
  let databaseTime: Awaited<ReturnType<DiagnosticsStore['databaseTime']>>;
  /** This clock at the middle of the round trip that read the database's. */
  let ours: Date;
  try {
    // The first statement may open the connection: the second measures the round trip alone.
    await withTimeout(sources.store.databaseTime(), PROBE_TIMEOUT_MS, 'the database');
    const before = sources.clock.now().getTime();
    databaseTime = await withTimeout(sources.store.databaseTime(), PROBE_TIMEOUT_MS, 'the database');
    ours = new Date((before + sources.clock.now().getTime()) / 2);
  } catch (error) {
    const checks = [databaseUnreachable(sources.store.dialect, error), ...configured];
    return { status: worst(checks), checkedAt, checks, instances: [], jobs: [], secrets: [] };
  }
  const reference = databaseTime.now ?? new Date();
  const instances = (await sources.store.instances()).map((instance) => ({
    ...instance,
    live: reference.getTime() - instance.lastSeenAt.getTime() <= INSTANCE_LIVE_MS,
    current: instance.id === sources.instanceId,
  }));
  const live = instances.filter((i) => i.live);
  const runs = await sources.store.runs();
  const secrets = await secretUses(sources);
  const checks = [
    databaseReachable(sources.store.dialect, databaseTime.roundTripMs),
    migrationsCheck(await sources.store.appliedMigrations()),
    configured[0]!,
    databaseClockCheck(databaseTime.now, ours),
    ...instanceChecks(live),
    ...signingKeyChecks(await sources.signingKeys(), sources, reference),
    ...jobChecks(sources.jobs, runs, live, reference),
    rateLimitCheck(sources.rateLimits, sources.redis !== null, live.length),
    secretCheck(secrets, sources),
  ];
  return { status: worst(checks), checkedAt, checks, instances, jobs: runs, secrets };
}

function databaseUnreachable(dialect: DiagnosticsStore['dialect'], error: unknown): CheckResult {
  const postgres = dialect === 'postgresql';
  return check(
    DiagnosticCode.DATABASE_REACHABLE,
    DiagnosticStatus.ERROR,
    `The database cannot be reached: ${describeConnectionError(error)}. Nothing that needs it was checked; the server answers SERVICE_UNAVAILABLE meanwhile, and /readyz says 503.`,
    {
      action: postgres
        ? 'Check DATABASE_URL (host, port, database name, user and password), that PostgreSQL runs, and that this host may connect to it (firewall rules for its port, 5432 by default; pg_hba.conf).'
        : 'Check SQLITE_PATH: the file must exist and be readable and writable by the server (a first start creates it).',
    },
  );
}

function databaseReachable(dialect: DiagnosticsStore['dialect'], roundTripMs: number): CheckResult {
  const name = dialect === 'postgresql' ? 'PostgreSQL' : 'SQLite';
  if (roundTripMs > SLOW_MS) {
    return check(
      DiagnosticCode.DATABASE_REACHABLE,
      DiagnosticStatus.WARNING,
      `${name} answers, but slowly: one round trip took ${ms(roundTripMs)}.`,
      {
        value: ms(roundTripMs),
        action: 'Look at the database server’s load and the network between it and the server (the same data centre, no VPN hairpin).',
      },
    );
  }
  return check(DiagnosticCode.DATABASE_REACHABLE, DiagnosticStatus.OK, `${name} answers (one round trip).`, { value: ms(roundTripMs) });
}

function migrationsCheck(applied: readonly string[]): CheckResult {
  const known = MIGRATIONS.map((m) => m.name);
  const appliedSet = new Set(applied);
  const missing = known.filter((name) => !appliedSet.has(name));
  const unknown = applied.filter((name) => !known.includes(name));
  const value = `${known.length - missing.length} of ${known.length}`;
  if (missing.length > 0) {
    return check(
      DiagnosticCode.MIGRATIONS_CURRENT,
      DiagnosticStatus.ERROR,
      `The database lacks ${missing.length} migration(s) this build needs: ${missing.join(', ')}.`,
      {
        value,
        action:
          'Start a server of this build: it migrates the database before it serves (with several instances, one migrates while the others wait).',
      },
    );
  }
  if (unknown.length > 0) {
    return check(
      DiagnosticCode.MIGRATIONS_CURRENT,
      DiagnosticStatus.WARNING,
      `The database holds ${unknown.length} migration(s) this build does not know (${unknown.join(', ')}): a newer version ran on it.`,
      { value, action: 'Run the newest version on every instance; an older one may not understand what the newer one stores.' },
    );
  }
  return check(DiagnosticCode.MIGRATIONS_CURRENT, DiagnosticStatus.OK, 'The database holds every migration this build knows.', { value });
}

async function redisCheck(redis: RedisProbe | null): Promise<CheckResult> {
  if (!redis) {
    return check(
      DiagnosticCode.REDIS_CONNECTED,
      DiagnosticStatus.OK,
      'Redis is not configured: events reach the subscribers of this instance directly, and rate limits are counted in process. That is right for one instance; several need REDIS_URL.',
    );
  }
  const start = performance.now();
  try {
    await withTimeout(redis.ping(), PROBE_TIMEOUT_MS, 'Redis');
  } catch (error) {
    return check(
      DiagnosticCode.REDIS_CONNECTED,
      DiagnosticStatus.ERROR,
      `Redis cannot be reached: ${describeConnectionError(error)}. Nothing is lost (every event is stored first), but events reach other instances' subscribers late (read from the store every few seconds), and rate limits are counted per instance.`,
      {
        action:
          'Check REDIS_URL, that Redis runs, and that this host may connect to it (firewall rules for its port, 6379 by default). With a single instance, REDIS_URL may be left unset instead.',
      },
    );
  }
  const roundTrip = performance.now() - start;
  return check(
    DiagnosticCode.REDIS_CONNECTED,
    roundTrip > SLOW_MS ? DiagnosticStatus.WARNING : DiagnosticStatus.OK,
    roundTrip > SLOW_MS ? `Redis answers, but slowly (a PING took ${ms(roundTrip)}).` : 'Redis answers a PING.',
    { value: ms(roundTrip), action: roundTrip > SLOW_MS ? 'Look at the load of the Redis server and the network to it.' : null },
  );
}

function clockStatus(offsetMs: number): DiagnosticStatus {
  const apart = Math.abs(offsetMs);
  if (apart >= CLOCK_ERROR_MS) return DiagnosticStatus.ERROR;
  return apart >= CLOCK_WARNING_MS ? DiagnosticStatus.WARNING : DiagnosticStatus.OK;
}

function databaseClockCheck(databaseNow: Date | null, ours: Date): CheckResult {
  if (!databaseNow) {
    return check(
      DiagnosticCode.DATABASE_CLOCK,
      DiagnosticStatus.OK,
      "SQLite has no clock of its own (it reads the machine's): there is no database clock to compare with. Instances are compared with their machine's clock instead (INSTANCE_CLOCKS).",
    );
  }
  const offset = ours.getTime() - databaseNow.getTime();
  const status = clockStatus(offset);
  return check(
    DiagnosticCode.DATABASE_CLOCK,
    status,
    status === DiagnosticStatus.OK
      ? "This clock and the database's agree."
      : `This clock is ${signed(offset)} from the database's (PostgreSQL's now()).`,
    { value: signed(offset), action: status === DiagnosticStatus.OK ? null : `${SYNC_CLOCK} Check the database server's clock too.` },
  );
}

function instanceChecks(live: readonly InstanceRecord[]): CheckResult[] {
  if (live.length === 0) {
    return [
      check(
        DiagnosticCode.INSTANCE_CLOCKS,
        DiagnosticStatus.OK,
        'No running instance has recorded itself in the last 90 seconds (each does every 30): no clock to compare.',
      ),
    ];
  }
  const name = (i: InstanceRecord) => `${i.host} (pid ${i.pid}, instance ${i.id.slice(0, 8)})`;
  const off = live.filter((i) => clockStatus(i.clockOffsetMs) !== DiagnosticStatus.OK);
  const furthest = live.reduce((a, b) => (Math.abs(b.clockOffsetMs) > Math.abs(a.clockOffsetMs) ? b : a));
  const clocks =
    off.length === 0
      ? check(
          DiagnosticCode.INSTANCE_CLOCKS,
          DiagnosticStatus.OK,
          `The clocks of the ${live.length} running instance(s) agree with the database's.`,
          {
            value: signed(furthest.clockOffsetMs),
          },
        )
      : check(
          DiagnosticCode.INSTANCE_CLOCKS,
          clockStatus(furthest.clockOffsetMs),
          `${off.map((i) => `The clock of ${name(i)} is ${signed(i.clockOffsetMs)} from the database's`).join('; ')}. Licenses would expire, leases run out and certificates start or end at the wrong moment on it, and clients' clientTime would be judged against a wrong time.`,
          { value: signed(furthest.clockOffsetMs), action: SYNC_CLOCK },
        );
  const secretIds = new Set(live.map((i) => i.secretId));
  const secrets =
    secretIds.size <= 1
      ? check(DiagnosticCode.INSTANCE_SECRETS, DiagnosticStatus.OK, 'The running instances share one server secret.', {
          value: [...secretIds][0] ?? null,
        })
      : check(
          DiagnosticCode.INSTANCE_SECRETS,
          DiagnosticStatus.ERROR,
          `The running instances use ${secretIds.size} different server secrets (${live.map((i) => `${name(i)}: ${i.secretId}`).join('; ')}): a key or token stored by one is not recognized by the others.`,
          {
            value: [...secretIds].join(', '),
            action: 'Give every instance the same SECRET_KEY (and SECRET_KEY_PREVIOUS), then restart the odd ones.',
          },
        );
  return [clocks, secrets];
}

function signingKeyChecks(keys: readonly SigningKeyState[], sources: SecretSources, now: Date): CheckResult[] {
  const signer = keys.find((k) => k.retiredAt === null);
  const opens = (k: SigningKeyState) =>
    k.sealedUnder === null || k.sealedUnder === sources.secretIds.current || k.sealedUnder === sources.secretIds.previous;
  let present: CheckResult;
  if (!signer) {
    present = check(DiagnosticCode.SIGNING_KEY, DiagnosticStatus.ERROR, 'There is no signing key: license certificates cannot be issued.', {
      action: 'Start a server: it makes one when there is none. Or call rotateSigningKey as a platform admin.',
    });
  } else if (!opens(signer)) {
    present = check(
      DiagnosticCode.SIGNING_KEY,
      DiagnosticStatus.ERROR,
      `The signing key ${signer.kid} is sealed under a secret this server does not have (${signer.sealedUnder}): certificates cannot be issued.`,
      {
        value: signer.kid,
        action:
          'Give that secret as SECRET_KEY_PREVIOUS (it is then sealed anew under SECRET_KEY when first used), or rotate the signing key (rotateSigningKey).',
      },
    );
  } else {
    present = check(
      DiagnosticCode.SIGNING_KEY,
      DiagnosticStatus.OK,
      `The signing key ${signer.kid} (made ${signer.createdAt.toISOString()}) signs certificates.`,
      {
        value: signer.kid,
      },
    );
  }
  const retiring = keys.filter((k) => k.retiredAt !== null && k.lastExpiresAt !== null && k.lastExpiresAt > now);
  const published = check(
    DiagnosticCode.RETIRING_SIGNING_KEYS,
    DiagnosticStatus.OK,
    retiring.length === 0
      ? 'No retired signing key is still published: every certificate in force was signed by the current key.'
      : `Retired signing keys still published in /.well-known/jwks.json, because certificates they signed are still valid: ${retiring
          .map((k) => `${k.kid} until ${k.lastExpiresAt!.toISOString()}`)
          .join('; ')}. Offline clients must keep a JWKS with them until then.`,
    { value: String(retiring.length) },
  );
  return [present, published];
}

function jobChecks(
  schedule: readonly JobSchedule[],
  runs: readonly JobRunRecord[],
  live: readonly InstanceRecord[],
  now: Date,
): CheckResult[] {
  const byName = new Map(runs.map((run) => [run.job, run]));
  const where = (id: string) => {
    const instance = live.find((i) => i.id === id);
    return instance ? `${instance.host} (pid ${instance.pid})` : `instance ${id.slice(0, 8)} (no longer running)`;
  };
  // Since the oldest running instance started (by the database's clock): how long the jobs have had to run.
  const upMs = live.length ? Math.max(...live.map((i) => now.getTime() - (i.startedAt.getTime() - i.clockOffsetMs))) : 0;
  return schedule.map(({ name, intervalMs }) => {
    const run = byName.get(name);
    const dueWithin = 3 * Math.max(intervalMs, RECORD_RUNS_EVERY_MS);
    const at = (more: object = {}) => ({ subject: name, ...more });
    if (!run) {
      const overdue = live.length > 0 && upMs > dueWithin;
      return check(
        DiagnosticCode.JOB_LAST_RUN,
        overdue ? DiagnosticStatus.WARNING : DiagnosticStatus.OK,
        overdue
          ? `No run of ${name} is recorded, though an instance has run for ${ms(upMs)} and the job runs every ${ms(intervalMs)}.`
          : `No run of ${name} is recorded yet: it first runs one interval (${ms(intervalMs)}) after an instance starts.`,
        at({ action: overdue ? 'Look in the logs of the instances for lines with "job" and "pass failed".' : null }),
      );
    }
    const ago = now.getTime() - run.finishedAt.getTime();
    const value = `${run.outcome} ${ms(ago)} ago on ${where(run.instanceId)}`;
    if (run.outcome === 'FAILED') {
      const since = run.lastSucceededAt ? `last succeeded ${run.lastSucceededAt.toISOString()}` : 'never succeeded';
      const long = !run.lastSucceededAt || now.getTime() - run.lastSucceededAt.getTime() > dueWithin;
      return check(
        DiagnosticCode.JOB_LAST_RUN,
        long ? DiagnosticStatus.ERROR : DiagnosticStatus.WARNING,
        `The last run of ${name} failed (${run.detail ?? 'no detail'}); it ${since}. It is retried every ${ms(intervalMs)}.`,
        at({ value, action: `Read the log of ${where(run.instanceId)} for "${name} pass failed"; a database outage is the usual cause.` }),
      );
    }
    if (live.length > 0 && ago > dueWithin) {
      return check(
        DiagnosticCode.JOB_LAST_RUN,
        DiagnosticStatus.WARNING,
        `${name} last ran ${ms(ago)} ago, though it runs every ${ms(intervalMs)}.`,
        at({ value, action: 'Look in the logs of the instances for this job; a pass that never ends holds the next ones back.' }),
      );
    }
    return check(
      DiagnosticCode.JOB_LAST_RUN,
      DiagnosticStatus.OK,
      `${name} runs every ${ms(intervalMs)}; its last run went well.`,
      at({ value }),
    );
  });
}

function rateLimitCheck(limits: RateLimitConfig, redis: boolean, instances = 1): CheckResult {
  const value = `${limits.authFailures} failed authentications per ${limits.authFailureWindowS} s per address; ${
    limits.tokenCallsPerMinute === 0 ? 'no limit' : `${limits.tokenCallsPerMinute} calls per minute`
  } per API token`;
  const where = redis ? 'Counted in Redis, the same on every instance.' : 'Counted in the memory of each instance.';
  if (!redis && instances > 1) {
    return check(
      DiagnosticCode.RATE_LIMITS,
      DiagnosticStatus.WARNING,
      `${where} With ${instances} instances and no Redis, a caller spreading its calls gets up to ${instances} times the limits.`,
      { value, action: 'Set REDIS_URL on every instance.' },
    );
  }
  return check(
    DiagnosticCode.RATE_LIMITS,
    DiagnosticStatus.OK,
    `${where} Client calls of a license are limited where its plan or the license sets a limit.`,
    {
      value,
    },
  );
}
