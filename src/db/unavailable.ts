/**
 * Why the database could not serve a call, when an error says so: `busy` (no connection free in time, a row lock
 * or SQLite's writer held too long, a conflict to retry), `slow` (a statement past its timeout), `unreachable` (the
 * server is down, restarting or refusing us). Such a call changed nothing (its transaction did not commit) and may
 * be retried; every other error is a bug.
 */
export type Unavailability = 'busy' | 'slow' | 'unreachable';

/** PostgreSQL's SQLSTATE codes that mean "not now", by what they mean. */
const SQLSTATES: Record<string, Unavailability> = {
  '55P03': 'busy', // lock_not_available: lock_timeout
  '40001': 'busy', // serialization_failure
  '40P01': 'busy', // deadlock_detected
  '53300': 'busy', // too_many_connections
  '57014': 'slow', // query_canceled: statement_timeout
  '57P01': 'unreachable', // admin_shutdown
  '57P02': 'unreachable', // crash_shutdown
  '57P03': 'unreachable', // cannot_connect_now (starting up)
  '3D000': 'unreachable', // invalid_catalog_name: the database is not there
  '28000': 'unreachable', // invalid_authorization_specification
  '28P01': 'unreachable', // invalid_password
};

const SYSTEM_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * What node-postgres and knex say, without a code, when a connection broke or never came; knex puts the statement
 * before the driver's message (`select … - Query read timeout`).
 */
const MESSAGES: [RegExp, Unavailability][] = [
  [/(^| - )Knex: Timeout acquiring a connection/, 'busy'],
  [/(^| - )Query read timeout/, 'slow'],
  [/(^| - )Connection terminated/, 'unreachable'],
  [/(^| - )Client has encountered a connection error/, 'unreachable'],
  [/(^| - )timeout exceeded when trying to connect/, 'unreachable'],
  [/(^| - )Unable to acquire a connection/, 'unreachable'],
];

function classify(error: { code?: unknown; message?: unknown; name?: unknown }): Unavailability | undefined {
  const code = typeof error.code === 'string' ? error.code : undefined;
  if (code) {
    if (SQLSTATES[code]) return SQLSTATES[code];
    if (/^(08|53|58)/.test(code) && code.length === 5) return code.startsWith('53') ? 'busy' : 'unreachable';
    if (SYSTEM_CODES.has(code)) return 'unreachable';
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return 'busy';
  }
  if (error.name === 'KnexTimeoutError') return 'busy';
  const message = typeof error.message === 'string' ? error.message : '';
  return MESSAGES.find(([pattern]) => pattern.test(message))?.[1];
}

/** The unavailability an error (or what caused it, a few levels down) reports; undefined when it is anything else. */
export function unavailabilityOf(error: unknown): Unavailability | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const found = classify(current as Record<string, unknown>);
    if (found) return found;
    const next = current as { originalError?: unknown; cause?: unknown; previous?: unknown };
    current = next.originalError ?? next.cause ?? next.previous;
  }
  return undefined;
}
