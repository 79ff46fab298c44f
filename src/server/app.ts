import 'reflect-metadata';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { unwrapResolverError } from '@apollo/server/errors';
import { expressMiddleware } from '@as-integrations/express5';
import type { EntityManager } from '@mikro-orm/knex';
import cors from 'cors';
import express from 'express';
import type { GraphQLSchema } from 'graphql';
import { Principal } from '../auth/principal';
import type { Config } from '../config';
import { openMigrated } from '../db/migrate';
import { type Orm, QueryCounter } from '../db/orm';
import { ENTITIES } from './entities';
import { openSqlGateway, type SqlGateway } from '../db/sql';
import { AppError, ErrorCode } from '../errors';
import { periodicJobs } from './jobs';
import type { Logger } from '../logger';
import { type GraphQLContext, requestIdFrom } from './context';
import { ClientLane } from './client-lane';
import { asServiceUnavailable, BODY_NOT_JSON, bodyTooLarge, formatError, logUnavailable, requestLogging, sendRequestError } from './errors';
import { serveHealth } from './health';
import { RateLimits } from './rate-limits';
import { boundsPlugin, RequestBounds } from './request-bounds';
import { createLoaders } from './loaders';
import { playgroundPage } from './playground';
import { mountJwks } from './jwks';
import { mountUsageChart } from './usage-chart-page';
import { buildAppSchema } from './schema';
import { createServices, type Services } from './services';
import { type Clock, systemClock } from '../common/clock';
import { LocalEventBus } from '../common/event-bus';
import { RedisEventBus } from './redis';
import { SocketGuard } from './socket-guard';
import { serveWebSocket } from './websocket';
import { mountMetrics, type ScrapeSources, ServerMetrics } from './metrics';
import { RequestLog } from './request-log';

/**
 * With several instances, how often each reads the stored logs for entries that no Redis notice told of (an instance
 * that ended between its commit and its publish): the most a subscriber then waits.
 */
const CATCH_UP_POLL_MS = 5_000;

export interface LicenseServer {
  readonly config: Config;
  readonly orm: Orm;
  readonly db: SqlGateway;
  readonly services: Services;
  readonly schema: GraphQLSchema;
  readonly http: Server;
  readonly queries: QueryCounter;
  /**
   * The platform-admin token created once this server listened, when the database had none (and no other instance
   * made one first); shown once.
   */
  readonly bootstrapToken: string | null;
  /** Listens on the configured port; resolves to the URL of the GraphQL endpoint. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

/**
 * Builds the whole server: database and migrations, services, schema, HTTP (Apollo) and WebSocket (graphql-ws)
 * on one port and path, the playground, health, and the periodic jobs. Nothing listens until `listen()`. Services
 * and jobs read the time from `clock`.
 */
export async function createLicenseServer(config: Config, logger: Logger, clock: Clock = systemClock): Promise<LicenseServer> {
  const queries = new QueryCounter();
  const orm = await openMigrated(config, ENTITIES, logger, queries);
  const db = openSqlGateway(orm, queries, config.database);
  const redis = config.redisUrl ? new RedisEventBus(config.redisUrl, logger) : null;
  const limits = new RateLimits(config.rateLimits, redis?.commands ?? null, config.redisChannelPrefix, clock);
  const services = createServices(config, db, {
    clientCalls: limits,
    bus: redis ?? new LocalEventBus(),
    catchUpPollMs: redis ? CATCH_UP_POLL_MS : 0,
    logger,
    channelPrefix: config.redisChannelPrefix,
    fork: () => orm.em.fork() as EntityManager,
    clock,
    // The metrics are made once the schema is (their operation labels are its root fields); nothing is told before.
    observer: { checkedOut: (outcome) => metrics.checkedOut(outcome), alertRaised: (kind) => metrics.alertRaised(kind) },
    redisProbe: redis ? { ping: async () => void (await redis.commands.ping()) } : null,
  });
  const schema = await buildAppSchema(services);
  const metrics = new ServerMetrics(schema, scrapeSources(orm, db, services, redis), logger);
  const requests = new RequestLog(metrics, logger, config.requestLogLevel ?? 'info');
  const contextFor = contextMaker(orm, services);
  const bounds = new RequestBounds(schema);
  const app = express();
  const lane = new ClientLane(
    schema,
    (requestId) => contextFor(Principal.anonymous(), requestId),
    async (authorization) => void (await services.tokens.authenticate(authorization)),
    logger,
    config.maxBodyBytes,
    bounds,
    limits,
    requests,
  );
  const http = createServer(routeRequests(app, lane, logger, requests));
  const guard = new SocketGuard(services.tokenRevocations, services.tokens, logger);
  const wsServer = serveWebSocket(http, {
    schema,
    maxPayload: config.maxBodyBytes,
    authenticate: (authorization) => services.tokens.authenticate(authorization),
    contextFor,
    logger,
    guard,
    bounds,
    limits,
    requests,
  });
  const apollo = createApollo({ schema, http, wsServer, bounds, limits, logger, requests });
  await apollo.start();
  mountMetrics(app, metrics, config.metricsToken, logger);
  mountHttp(app, { config, db, redis, apollo, logger, limits, services, contextFor, requests });
  const jobs = periodicJobs(config, services, logger).map((job) =>
    job.observe((name, seconds, failed) => metrics.jobRan(name, seconds, failed)),
  );
  services.diagnostics.scheduled(jobs);

  let closed = false;
  let bootstrapToken: string | null = null;
  return {
    config,
    orm,
    db,
    services,
    schema,
    http,
    queries,
    get bootstrapToken() {
      return bootstrapToken;
    },
    async listen() {
      await listenOn(http, config);
      // Only a server that serves makes the first token: a start that failed to listen leaves none that nobody saw.
      bootstrapToken = await services.tokens.bootstrap(orm.em.fork() as EntityManager);
      await services.signingKeys.ensure();
      // Recorded at once for diagnostics (then every 30 s by its job); serving does not wait on it.
      await services.instance.beat().catch((error) => logger.warn({ err: error }, 'cannot record this instance for diagnostics'));
      for (const job of jobs) job.start();
      return endpointOf(http, config);
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(jobs.map((job) => job.stop()));
      guard.dispose();
      await apollo.stop(); // drains HTTP, then closes every WebSocket (the drainServer hook below)
      // What the requests drained told the demand log, written before the database closes.
      await services.demand.flush({ all: true });
      await services.instance.leave().catch(() => undefined); // forgotten a day later otherwise
      await db.close();
      await orm.close(true);
      await redis?.close();
    },
  };
}

type ContextFor = (principal: Principal, requestId: string, clientAddress?: string) => GraphQLContext;

/**
 * The context of each operation. The fork and the loaders are made on first use: client calls (validation, leases)
 * run plain SQL and need neither, and they are the calls that come by the thousand.
 */
function contextMaker(orm: Orm, services: Services): ContextFor {
  const streams = { alerts: services.alertStream, usage: services.usageStream, compliance: services.complianceStream };
  return (principal, requestId, clientAddress) => new OperationContext(orm, services, streams, principal, requestId, clientAddress);
}

/**
 * An operation's context. A class, its lazy `em` and `loaders` on the prototype: an object literal with getters was
 * made property by property at run time, on every client call (3 % of a validation's CPU, profiled).
 */
class OperationContext implements GraphQLContext {
  private fork: EntityManager | undefined;
  private batchLoaders: GraphQLContext['loaders'] | undefined;

  constructor(
    private readonly orm: Orm,
    private readonly services: Services,
    readonly streams: GraphQLContext['streams'],
    readonly principal: Principal,
    readonly requestId: string,
    readonly clientAddress: string | undefined,
  ) {}

  get em(): EntityManager {
    this.fork ??= this.orm.em.fork() as EntityManager;
    return this.fork;
  }

  get loaders(): GraphQLContext['loaders'] {
    this.batchLoaders ??= createLoaders(this.em, this.services);
    return this.batchLoaders;
  }
}

/** What the metrics read when scraped: counts from the owning modules, the pool's state, Redis's. */
function scrapeSources(orm: Orm, db: SqlGateway, services: Services, redis: RedisEventBus | null): ScrapeSources {
  const pool = () =>
    (
      (orm.em as unknown as EntityManager).getConnection().getKnex().client as {
        pool?: { numUsed(): number; numPendingAcquires(): number };
      }
    ).pool;
  return {
    liveLeases: () => services.leaseLedger.liveCounts(),
    activeViolations: () => services.violations.activeCounts(),
    // On SQLite a write waits for its batch, not for the connection: both are calls waiting for the database.
    pool: () => ({ inUse: pool()?.numUsed() ?? 0, waiting: (pool()?.numPendingAcquires() ?? 0) + db.queuedWrites }),
    redisConnected: redis ? () => redis.connected : undefined,
  };
}

/** Client calls go to the client lane; what it does not handle (and everything else) to express and Apollo. */
function routeRequests(app: express.Express, lane: ClientLane, logger: Logger, requests: RequestLog) {
  return (req: IncomingMessage, res: ServerResponse) => {
    if (!ClientLane.mayHandle(req)) {
      app(req, res);
      return;
    }
    const arrived = performance.now();
    lane.handle(req, res).then(
      (outcome) => {
        if (outcome.handled) return;
        requests.arrived(req, arrived);
        // Apollo serves it; the body is read already, and express.json() leaves a read body alone.
        (req as { body?: unknown }).body = outcome.body;
        app(req, res);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'client lane failed');
        if (!res.headersSent) res.writeHead(500).end();
      },
    );
  };
}

function createApollo(parts: {
  schema: GraphQLSchema;
  http: Server;
  wsServer: { dispose(): unknown };
  bounds: RequestBounds;
  limits: RateLimits;
  logger: Logger;
  requests: RequestLog;
}): ApolloServer<GraphQLContext> {
  const { schema, http, wsServer, bounds, limits, logger, requests } = parts;
  return new ApolloServer<GraphQLContext>({
    schema,
    formatError,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    // Bounded before it runs (POST bodies are bounded by the client lane already; this and boundsPlugin cover GET).
    parseOptions: { maxTokens: bounds.limits.tokens },
    // Shutdown is ours (main.ts): it also stops the jobs and closes the database.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: http }),
      // Apollo's landing page loads Sandbox from a CDN; the playground is served instead.
      ApolloServerPluginLandingPageDisabled(),
      // No response is cacheable (every answer depends on its credentials), and without this plugin Apollo does
      // not wrap every field resolver of the schema, which the client lane shares.
      ApolloServerPluginCacheControlDisabled(),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await wsServer.dispose();
            },
          };
        },
      },
      requestLogging(logger),
      requests.plugin(),
      boundsPlugin(bounds),
      {
        // A license key not recognized in an operation served here counts as a failed authentication too.
        async requestDidStart() {
          return {
            async didEncounterErrors({ errors, contextValue }) {
              if (errors.some((e) => (unwrapResolverError(e) as { code?: unknown })?.code === ErrorCode.UNAUTHENTICATED)) {
                await limits.failed(contextValue.clientAddress);
              }
            },
          };
        },
      },
    ],
  });
}

/** Health, the playground, and GraphQL over HTTP (Apollo), with coded answers to bodies that are not GraphQL. */
function mountHttp(
  app: express.Express,
  parts: {
    config: Config;
    db: SqlGateway;
    redis: RedisEventBus | null;
    apollo: ApolloServer<GraphQLContext>;
    logger: Logger;
    limits: RateLimits;
    services: Pick<Services, 'tokens' | 'signingKeys'>;
    contextFor: ContextFor;
    requests: RequestLog;
  },
): void {
  const { config, db, redis, apollo, logger, limits, requests } = parts;
  app.disable('x-powered-by');
  serveHealth(app, { db, redis: redis ? () => redis.state : undefined });
  mountUsageChart(app);
  mountJwks(app, parts.services.signingKeys, logger);
  app.get('/graphql', (req, res, next) => {
    // A browser asking for a page gets the playground (also with GraphiQL's own `?query=` in the address);
    // GraphQL clients using GET ask for JSON and go on to Apollo.
    if (req.accepts(['application/json', 'application/graphql-response+json', 'text/html']) === 'text/html') {
      res.type('html').send(playgroundPage());
      return;
    }
    next();
  });
  app.use(
    '/graphql',
    (req, res, next) => {
      requests.follow(req, res);
      next();
    },
    cors<cors.CorsRequest>(),
    express.json({ limit: config.maxBodyBytes }),
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        const requestId = requestIdFrom(req.header('x-request-id'));
        res.setHeader('x-request-id', requestId);
        requests.identified(res, requestId);
        const address = req.socket.remoteAddress;
        const limited = limits.refusalFor(address);
        if (limited) throw requests.refused(res, withRequestId(limited, requestId));
        let principal: Principal;
        try {
          principal = await parts.services.tokens.authenticate(req.header('authorization'));
        } catch (error) {
          if (error instanceof AppError && error.code === ErrorCode.UNAUTHENTICATED) await limits.failed(address);
          throw requests.refused(res, contextError(error, requestId, logger));
        }
        const busy = principal.actor?.type === 'API_TOKEN' && principal.actor.id ? await limits.tokenCall(principal.actor.id) : undefined;
        if (busy) throw requests.refused(res, withRequestId(busy, requestId));
        const context = parts.contextFor(principal, requestId, address);
        requests.identified(res, requestId, principal, context);
        return context;
      },
    }),
  );
  // Bodies over the limit and malformed JSON are refused with a coded error, not a stack trace.
  app.use((error: { type?: string; status?: number }, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (error?.type === 'entity.too.large') sendRequestError(res, 413, bodyTooLarge(config.maxBodyBytes));
    else if (error?.type === 'entity.parse.failed') sendRequestError(res, 400, BODY_NOT_JSON);
    else next(error);
  });
}

function listenOn(http: Server, config: Config): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    http.once('error', onError);
    http.listen(config.port, config.host, () => {
      http.off('error', onError);
      resolve();
    });
  });
}

/** The URL of the GraphQL endpoint: bound to every interface, localhost reaches it; bound to one address, only that. */
function endpointOf(http: Server, config: Config): string {
  const { port } = http.address() as AddressInfo;
  const host = !config.host || config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/graphql`;
}

/**
 * What a request whose credentials could not be checked is answered (Apollo sends it before any plugin runs, so it
 * carries its request id itself): 401 for bad credentials, 503 with `Retry-After` when the database could not be
 * asked, and a masked, logged INTERNAL_SERVER_ERROR for anything else.
 */
function withRequestId(error: AppError, requestId: string): AppError {
  return new AppError(error.code, error.message, { ...error.extensions, requestId });
}

function contextError(error: unknown, requestId: string, logger: Logger): AppError {
  if (error instanceof AppError && error.code === ErrorCode.UNAUTHENTICATED) {
    return new AppError(ErrorCode.UNAUTHENTICATED, error.message, { requestId, http: { status: 401 } });
  }
  const unavailable = asServiceUnavailable(error);
  if (unavailable) {
    logUnavailable(logger, requestId, error);
    const retryAfter = Number(unavailable.extensions.retryAfter);
    return new AppError(ErrorCode.SERVICE_UNAVAILABLE, unavailable.message, {
      retryAfter,
      requestId,
      http: { status: 503, headers: new Map([['retry-after', String(retryAfter)]]) },
    });
  }
  logger.error({ requestId, err: error }, 'unexpected error');
  return new AppError(ErrorCode.INTERNAL_SERVER_ERROR, 'Internal server error', { requestId, http: { status: 500 } });
}
