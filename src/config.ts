import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';

/** Where the data lives: the embedded SQLite file, or a PostgreSQL server. */
export type DatabaseConfig = { driver: 'sqlite'; path: string } | { driver: 'postgresql'; url: string };

/**
 * How long a call may wait on the database before it is answered SERVICE_UNAVAILABLE (PostgreSQL; SQLite waits
 * for its single writer up to its busy timeout).
 */
export interface DatabaseLimits {
  /** Connections per instance. */
  poolSize: number;
  /** Longest wait for a free connection. */
  poolTimeoutMs: number;
  /** Longest statement (also enforced by the client, should the server stop answering altogether). */
  statementTimeoutMs: number;
  /** Longest wait for a row lock (a busy license). */
  lockTimeoutMs: number;
}

export const DEFAULT_DATABASE_LIMITS: DatabaseLimits = {
  poolSize: 10,
  poolTimeoutMs: 5_000,
  statementTimeoutMs: 15_000,
  lockTimeoutMs: 5_000,
};

/** How often a caller may fail to authenticate, or call with one token. */
export interface RateLimitConfig {
  /** Failed authentications (unknown license keys, bad tokens) per client address in `authFailureWindowS`. */
  authFailures: number;
  authFailureWindowS: number;
  /** Management calls per API token per minute; 0 for no limit. */
  tokenCallsPerMinute: number;
}

export const DEFAULT_RATE_LIMITS: RateLimitConfig = { authFailures: 20, authFailureWindowS: 10, tokenCallsPerMinute: 6_000 };

/** The whole server configuration, read once from the environment and validated. */
export interface Config {
  port: number;
  host?: string;
  database: DatabaseConfig;
  databaseLimits: DatabaseLimits;
  rateLimits: RateLimitConfig;
  /** Key of the HMAC digests under which license keys and API tokens are stored. */
  secretKey: Buffer;
  /** Where the generated secret was kept, when it was not given. */
  secretKeySource: 'env' | 'file';
  /**
   * The secret before a rotation (`SECRET_KEY_PREVIOUS`): keys, tokens and sealed signing keys made under it are still
   * found, and made anew under `secretKey` when first used. Remove it once they all have been.
   */
  secretKeyPrevious?: Buffer;
  redisUrl?: string;
  /** Put before the name of each Redis channel, so that deployments sharing one Redis keep their events apart. */
  redisChannelPrefix: string;
  /** How often expired leases are swept up, in milliseconds. */
  leaseReaperIntervalMs: number;
  /** How often licenses nearing or past the end of their term are looked for, in milliseconds. */
  expiryWatchIntervalMs: number;
  /** How often every active license is scanned for compliance, in milliseconds. */
  complianceScanIntervalMs: number;
  /** How often the audit events committed since are sealed into the chain, in milliseconds. */
  auditSealIntervalMs: number;
  /** How often the audit chain's head is anchored (signed and stored), in milliseconds. */
  auditAnchorIntervalMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** The level of the one line logged per request (`silent`: none); `info` unless given. */
  requestLogLevel?: Config['logLevel'];
  /** The bearer token `/metrics` asks for; without one, `/metrics` is served to this machine only. */
  metricsToken?: string;
  /** Largest accepted request body. */
  maxBodyBytes: number;
  production: boolean;
}

/** A configuration problem, reported as one line before the process exits. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be a whole number, got ${JSON.stringify(raw)}`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function databaseFrom(env: Env): DatabaseConfig {
  const url = env.DATABASE_URL?.trim();
  if (!url) return { driver: 'sqlite', path: resolve(env.SQLITE_PATH?.trim() || 'data/license-manager.sqlite') };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('DATABASE_URL is not a valid URL (expected postgres://user@host:5432/database)');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new ConfigError(`DATABASE_URL must start with postgres:// (got ${parsed.protocol}//); leave it unset for SQLite`);
  }
  if (!parsed.hostname) throw new ConfigError('DATABASE_URL has no host');
  if (parsed.pathname.length <= 1) throw new ConfigError('DATABASE_URL names no database (…/database)');
  return { driver: 'postgresql', url };
}

/**
 * Where the data lives, read from the environment as the server reads it (DATABASE_URL, else SQLITE_PATH), for the
 * tools that need nothing else of the configuration (backup and restore).
 */
export function loadDatabaseConfig(env: Env = process.env): DatabaseConfig {
  return databaseFrom(env);
}

function secretFrom(env: Env, database: DatabaseConfig): Pick<Config, 'secretKey' | 'secretKeySource'> {
  const given = env.SECRET_KEY?.trim();
  if (given) {
    if (given.length < 32) throw new ConfigError('SECRET_KEY must be at least 32 characters long');
    return { secretKey: Buffer.from(given, 'utf8'), secretKeySource: 'env' };
  }
  if (database.driver !== 'sqlite') {
    // Several instances share one PostgreSQL database: each must digest keys with the same secret.
    throw new ConfigError('SECRET_KEY is required with DATABASE_URL (every instance must share it)');
  }
  // The embedded default keeps a generated secret beside its database file, readable by its owner only.
  const file = resolve(dirname(database.path), 'secret.key');
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
  }
  return { secretKey: Buffer.from(readFileSync(file, 'utf8').trim(), 'utf8'), secretKeySource: 'file' };
}

function previousSecretFrom(env: Env): Pick<Config, 'secretKeyPrevious'> {
  const previous = env.SECRET_KEY_PREVIOUS?.trim();
  if (!previous) return {};
  if (previous.length < 32) throw new ConfigError('SECRET_KEY_PREVIOUS must be at least 32 characters long');
  if (previous === env.SECRET_KEY?.trim()) throw new ConfigError('SECRET_KEY_PREVIOUS must differ from SECRET_KEY');
  return { secretKeyPrevious: Buffer.from(previous, 'utf8') };
}

function logLevelFrom(env: Env, name: string): Config['logLevel'] {
  const level = (env[name]?.trim() || 'info') as Config['logLevel'];
  if (!LOG_LEVELS.includes(level)) throw new ConfigError(`${name} must be one of ${LOG_LEVELS.join(', ')}`);
  return level;
}

/** A token long enough not to be guessed, sent as a bearer token (printable, no spaces). */
function metricsTokenFrom(env: Env): Pick<Config, 'metricsToken'> {
  const token = env.METRICS_TOKEN?.trim();
  if (!token) return {};
  if (token.length < 16 || !/^[\x21-\x7e]+$/.test(token)) {
    throw new ConfigError('METRICS_TOKEN must be at least 16 printable characters without spaces');
  }
  return { metricsToken: token };
}

/** Reads and validates the configuration; throws a {@link ConfigError} that says what to fix. */
export function loadConfig(env: Env = process.env): Config {
  const logLevel = logLevelFrom(env, 'LOG_LEVEL');
  const requestLogLevel = logLevelFrom(env, 'REQUEST_LOG_LEVEL');
  const redisUrl = env.REDIS_URL?.trim() || undefined;
  if (redisUrl && !/^rediss?:\/\/[^/]/.test(redisUrl)) {
    throw new ConfigError('REDIS_URL must look like redis://host:6379');
  }
  const redisChannelPrefix = env.REDIS_CHANNEL_PREFIX?.trim() ?? 'license-manager:';
  if (!/^[\w.:-]{0,64}$/.test(redisChannelPrefix)) {
    throw new ConfigError('REDIS_CHANNEL_PREFIX may hold up to 64 letters, digits and . : _ -');
  }
  const database = databaseFrom(env);
  return {
    port: integer(env, 'PORT', 4000, 0, 65535),
    host: env.HOST?.trim() || undefined,
    database,
    databaseLimits: {
      poolSize: integer(env, 'DATABASE_POOL_SIZE', DEFAULT_DATABASE_LIMITS.poolSize, 1, 500),
      poolTimeoutMs: integer(env, 'DATABASE_POOL_TIMEOUT_MS', DEFAULT_DATABASE_LIMITS.poolTimeoutMs, 100, 600_000),
      statementTimeoutMs: integer(env, 'DATABASE_STATEMENT_TIMEOUT_MS', DEFAULT_DATABASE_LIMITS.statementTimeoutMs, 100, 3_600_000),
      lockTimeoutMs: integer(env, 'DATABASE_LOCK_TIMEOUT_MS', DEFAULT_DATABASE_LIMITS.lockTimeoutMs, 100, 3_600_000),
    },
    rateLimits: {
      authFailures: integer(env, 'RATE_LIMIT_AUTH_FAILURES', DEFAULT_RATE_LIMITS.authFailures, 1, 1_000_000),
      authFailureWindowS: integer(env, 'RATE_LIMIT_AUTH_FAILURE_WINDOW_S', DEFAULT_RATE_LIMITS.authFailureWindowS, 1, 86_400),
      tokenCallsPerMinute: integer(env, 'RATE_LIMIT_TOKEN_CALLS_PER_MINUTE', DEFAULT_RATE_LIMITS.tokenCallsPerMinute, 0, 100_000_000),
    },
    ...secretFrom(env, database),
    ...previousSecretFrom(env),
    redisUrl,
    redisChannelPrefix,
    leaseReaperIntervalMs: integer(env, 'LEASE_REAPER_INTERVAL_MS', 10_000, 100, 3_600_000),
    expiryWatchIntervalMs: integer(env, 'EXPIRY_WATCH_INTERVAL_MS', 60_000, 100, 86_400_000),
    complianceScanIntervalMs: integer(env, 'COMPLIANCE_SCAN_INTERVAL_MS', 300_000, 100, 86_400_000),
    auditSealIntervalMs: integer(env, 'AUDIT_SEAL_INTERVAL_MS', 1_000, 100, 86_400_000),
    auditAnchorIntervalMs: integer(env, 'AUDIT_ANCHOR_INTERVAL_MS', 600_000, 1_000, 86_400_000),
    logLevel,
    requestLogLevel,
    ...metricsTokenFrom(env),
    maxBodyBytes: integer(env, 'MAX_BODY_BYTES', 256 * 1024, 1024, 16 * 1024 * 1024),
    production: env.NODE_ENV === 'production',
  };
}
