import { Writable } from 'node:stream';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { afterAll, beforeAll, describe } from 'vitest';
import { type Config, DEFAULT_DATABASE_LIMITS, DEFAULT_RATE_LIMITS } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createLicenseServer, type LicenseServer } from '../../src/server/app';
import { TestClock } from './clock';
import { expectJsonLines } from './json-lines';
import { createTestDatabase, DATABASE_KINDS, type DatabaseKind, type TestDatabase } from './databases';

export interface GraphQLErrorBody {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; requestId?: string; [key: string]: unknown };
}

export interface GraphQLResponse<T> {
  status: number;
  data?: T | null;
  errors?: GraphQLErrorBody[];
}

export interface TestServer {
  kind: DatabaseKind;
  database: TestDatabase;
  server: LicenseServer;
  /** The server's clock: a test moves it instead of waiting for time to pass. */
  clock: TestClock;
  url: string;
  /** The bootstrap platform-admin token. */
  admin: string;
  /** Every line the server logged. */
  logs: string[];
  /** Runs an operation over HTTP; `token` defaults to the platform admin's, null sends none. */
  request<R, V>(document: TypedDocumentNode<R, V>, variables: V, token?: string | null): Promise<GraphQLResponse<R>>;
  /** Like request, but fails the test on any error. */
  ok<R, V>(document: TypedDocumentNode<R, V>, variables: V, token?: string | null): Promise<R>;
  /** The code of the first error, failing when the call succeeded. */
  errorCode<R, V>(document: TypedDocumentNode<R, V>, variables: V, token?: string | null): Promise<string | undefined>;
  close(): Promise<void>;
}

export const TEST_SECRET = 'test-secret-key-of-at-least-thirty-two-characters';

/** What tests need of a server to call it over HTTP: in this process or another. */
export type GraphQLApi = Pick<TestServer, 'url' | 'admin' | 'request' | 'ok' | 'errorCode'>;

/** Calls the GraphQL endpoint at `url`, as the platform admin `admin` unless told otherwise. */
export function graphqlClient(url: string, admin: string): GraphQLApi {
  const request = async <R, V>(document: TypedDocumentNode<R, V>, variables: V, token: string | null = admin) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query: print(document), variables }),
    });
    const body = (await response.json()) as { data?: R | null; errors?: GraphQLErrorBody[] };
    return { status: response.status, ...body };
  };
  return {
    url,
    admin,
    request,
    async ok(document, variables, token) {
      const result = await request(document, variables, token);
      if (result.errors?.length || !result.data) throw new Error(`unexpected errors: ${JSON.stringify(result.errors)}`);
      return result.data;
    },
    async errorCode(document, variables, token) {
      const result = await request(document, variables, token);
      if (!result.errors?.length) throw new Error(`expected an error, got ${JSON.stringify(result.data)}`);
      return result.errors[0]?.extensions?.code;
    },
  };
}

/**
 * A server on a fresh database of the kind; or, to restart one, on `restart`'s database (which stays its owner's
 * to drop) with its platform admin's token and its clock.
 */
export async function startTestServer(kind: DatabaseKind, overrides: Partial<Config> = {}, restart?: TestServer): Promise<TestServer> {
  const database = restart ? { ...restart.database, drop: async () => undefined } : await createTestDatabase(kind);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const config: Config = {
    port: 0,
    host: '127.0.0.1',
    database: database.config,
    secretKey: Buffer.from(TEST_SECRET),
    secretKeySource: 'env',
    databaseLimits: DEFAULT_DATABASE_LIMITS,
    // Tests send many wrong keys and tokens, and many calls with one token: only the rate-limit tests limit them.
    rateLimits: { ...DEFAULT_RATE_LIMITS, authFailures: 1_000_000, tokenCallsPerMinute: 0 },
    redisChannelPrefix: 'license-manager:',
    leaseReaperIntervalMs: 3_600_000, // tests run the reaper's passes themselves, or move the clock
    expiryWatchIntervalMs: 86_400_000, // and the expiry watch's passes
    complianceScanIntervalMs: 86_400_000, // and the compliance scans
    auditAnchorIntervalMs: 86_400_000, // and the audit anchors
    logLevel: 'info',
    maxBodyBytes: 256 * 1024,
    production: false,
    ...overrides,
  };
  const clock = restart?.clock ?? new TestClock();
  const server = await createLicenseServer(config, createLogger(config.logLevel, sink), clock);
  // The test's client pools its sockets to the server; a socket the server drops after its keep-alive timeout (5 s)
  // just as a burst of requests takes it from the pool answers ECONNRESET, a race a busy machine loses now and then.
  // Idle sockets are left for the client to close.
  server.http.keepAliveTimeout = 0;
  const url = await server.listen();
  const admin = restart?.admin ?? server.bootstrapToken;
  if (!admin) throw new Error('a fresh database must yield a bootstrap token');

  const api = graphqlClient(url, admin);
  return {
    kind,
    database,
    server,
    clock,
    ...api,
    logs,
    async close() {
      await server.close();
      await database.drop();
      // Every line a server writes is JSON, whatever happened during the test (outages included).
      expectJsonLines(logs, `the ${kind} test server`);
    },
  };
}

/**
 * Runs a suite once per database kind (SQLite always, PostgreSQL when TEST_DATABASE_URL is set), each against
 * its own server on a fresh database.
 */
export function describeEachDatabase(title: string, suite: (server: () => TestServer) => void, overrides: Partial<Config> = {}): void {
  for (const kind of DATABASE_KINDS) {
    describe(`${title} [${kind}]`, () => {
      let current: TestServer | undefined;
      beforeAll(async () => {
        current = await startTestServer(kind, overrides);
      });
      afterAll(async () => {
        await current?.close();
      });
      suite(() => {
        if (!current) throw new Error('server not started');
        return current;
      });
    });
  }
}
