import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import { type DocumentNode, GraphQLError, type GraphQLSchema, getOperationAST } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { type WebSocket, WebSocketServer } from 'ws';
import { Principal } from '../auth/principal';
import type { Logger } from '../logger';
import type { GraphQLContext } from './context';
import { asServiceUnavailable, formatError, isUnavailable, isUnexpected, logUnavailable } from './errors';
import type { RateLimits } from './rate-limits';
import type { RequestBounds } from './request-bounds';
import { CLOSE_FORBIDDEN, type SocketGuard } from './socket-guard';
import { SubscriptionLane } from './subscription-lane';
import { ErrorCode } from '../errors';
import type { ServerMetrics } from './metrics';
import { codesOf, principalKind, type RequestLog, type RunningOperation } from './request-log';

/**
 * Close code 1013, Try Again Later (RFC 6455 registry), and its reasons: for a client too slow to read what it is
 * sent, and for one whose token could not be checked because the database is unavailable.
 */
const TRY_AGAIN_LATER = 1013;
const TOO_SLOW_REASON = 'subscriber too slow; resume from your last cursor';
const UNAVAILABLE_REASON = 'service unavailable; connect again shortly';
/** graphql-ws's close code for too many attempts, for an address that failed to authenticate too often. */
const RATE_LIMITED = 4429;
/** How many bytes may wait to be written to one socket, by default, before it is closed as too slow. */
export const DEFAULT_MAX_BUFFERED_BYTES = 1024 * 1024;

export interface WebSocketOptions {
  schema: GraphQLSchema;
  maxPayload: number;
  /** Bytes that may wait to be written to one socket before it is closed with 1013; 1 MiB unless given. */
  maxBufferedBytes?: number;
  authenticate(authorization: string | undefined): Promise<Principal>;
  contextFor(principal: Principal, requestId: string): GraphQLContext;
  logger: Logger;
  /** Closes the sockets of revoked tokens. */
  guard?: SocketGuard;
  bounds?: RequestBounds;
  limits?: RateLimits;
  /** Logs each operation and subscription, and counts them (connections, deliveries, cut-offs) for the metrics. */
  requests?: RequestLog;
}

/** Logs a kind of line at most once an interval, saying how many were left out in between. */
class ThrottledLog {
  private last = 0;
  private suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  warn(fields: Record<string, unknown>, message: string): void {
    const now = Date.now();
    if (now - this.last < this.intervalMs) {
      this.suppressed += 1;
      return;
    }
    this.logger.warn({ ...fields, ...(this.suppressed ? { suppressed: this.suppressed } : {}) }, message);
    this.last = now;
    this.suppressed = 0;
  }
}

/** The `authorization` (or `Authorization`) entry of connection parameters or headers, when it is a string. */
function authorizationOf(entries: Record<string, unknown> | undefined): string | undefined {
  const value = entries?.authorization ?? entries?.Authorization;
  return typeof value === 'string' ? value : undefined;
}

/** The headers GraphiQL puts in a subscribe message's `extensions`. */
function headersOf(extensions: Record<string, unknown> | null | undefined): Record<string, unknown> | undefined {
  const headers = extensions?.headers;
  return headers && typeof headers === 'object' && !Array.isArray(headers) ? (headers as Record<string, unknown>) : undefined;
}

/**
 * GraphQL over WebSocket (graphql-ws) on the HTTP server's port and path. The token comes in `connection_init`
 * (`{ authorization: "Bearer …" }`); a token that is not recognized closes the socket with 4403, and a client that
 * stops reading while more than `maxBufferedBytes` wait for it is closed with 1013.
 * Returns the graphql-ws server, whose `dispose()` closes every socket.
 */
export function serveWebSocket(http: Server, options: WebSocketOptions) {
  const maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  const lane = new SubscriptionLane(options.schema, options.bounds);
  const metrics = options.requests?.metrics;
  const tooSlow = (socket: WebSocket) => {
    const closed = closeIfTooSlow(socket, maxBufferedBytes);
    if (closed) metrics?.cutOff.inc({ reason: 'socket_backlog' });
    return closed;
  };
  const track = (principal: Principal, socket: WebSocket) => {
    if (principal.actor?.type === 'API_TOKEN' && principal.actor.id) options.guard?.track(principal.actor.id, socket);
  };
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload });
  acceptUpgrades(http, wss, new ThrottledLog(options.logger, 1_000), metrics);
  const formatErrors = errorFormatter(options.logger);
  return useServer<Record<string, unknown>, Extra>(
    {
      schema: options.schema,
      onConnect: (ctx) => connect(ctx, options, track),
      // Every operation is authorized again when it comes, with the token it carries in `extensions.headers` (as
      // GraphiQL sends it) or else the socket's: a token revoked since connection_init closes the socket (4403).
      // Documents come parsed and validated from the lane's cache, with a context that tells the lane where the
      // subscription's messages go; results other than the lane's go out through graphql-ws, checked likewise.
      onSubscribe: async (ctx, id, payload) => {
        const socket = ctx.extra.socket;
        const own = authorizationOf(headersOf(payload.extensions));
        let principal: Principal;
        try {
          principal = await options.authenticate(own ?? ctx.extra.authorization);
        } catch (error) {
          if (own === undefined && !asServiceUnavailable(error)) socket.close(CLOSE_FORBIDDEN, 'token revoked');
          return [error instanceof GraphQLError ? error : new GraphQLError('Internal server error', { originalError: error as Error })];
        }
        track(principal, socket);
        const text = options.bounds?.checkText(payload.query, payload.variables);
        if (text) return [text];
        const prepared = lane.prepare(payload.query);
        if ('errors' in prepared) return prepared.errors;
        const costly = options.bounds?.checkCost(prepared.document, payload.variables ?? undefined, payload.operationName);
        if (costly) return [costly];
        const contextValue = options.contextFor(principal, randomUUID());
        const running = runningOperation(ctx.extra, id, prepared.document, payload.operationName, contextValue, options.requests);
        const delivered = running?.subscription ? metrics?.deliveryCounter(running.operation) : undefined;
        lane.bind(contextValue, { socket, id, closeIfTooSlow: () => tooSlow(socket), delivered });
        return {
          schema: options.schema,
          document: prepared.document,
          variableValues: payload.variables,
          operationName: payload.operationName,
          contextValue,
        };
      },
      subscribe: (args) => lane.subscribe(args),
      // Errors are coded as over HTTP, those refusing an operation as those of its results: masked when unexpected,
      // SERVICE_UNAVAILABLE when the database could not serve them, each with the request id its log lines carry.
      onError: (ctx, id, payload, errors) => {
        const running = ctx.extra.running?.get(id);
        const formatted = formatErrors(errors, running?.requestId ?? randomUUID(), payload.operationName);
        const codes = codesOf(formatted);
        if (codes.includes(ErrorCode.SUBSCRIBER_TOO_SLOW)) metrics?.cutOff.inc({ reason: 'stream_backlog' });
        if (running) running.codes.push(...codes);
        else metrics?.errorsAnswered('websocket', codes); // refused before it ran
        return formatted;
      },
      onComplete: (ctx, id) => endOperation(ctx.extra, id, options.requests),
      onNext: (ctx, id, payload, args, result) => {
        tooSlow(ctx.extra.socket);
        const running = ctx.extra.running?.get(id);
        if (running?.subscription) metrics?.deliveryCounter(running.operation)();
        if (!result.errors?.length) return;
        const requestId = (args.contextValue as { requestId?: string } | undefined)?.requestId ?? randomUUID();
        const errors = formatErrors(result.errors, requestId, payload.operationName);
        running?.codes.push(...codesOf(errors));
        return { ...result, errors };
      },
    },
    wss,
  );
}

/**
 * What graphql-ws keeps of each socket: the socket and request, the token of its connection_init, and the operations
 * running on it (while the request log follows them).
 */
type Extra = { socket: WebSocket; request: IncomingMessage; authorization?: string; running?: Map<string, RunningOperation> };

/** Follows an operation from its start: a subscription is logged as started now, anything else when it ends. */
function runningOperation(
  extra: Extra,
  id: string,
  document: DocumentNode,
  operationName: string | null | undefined,
  context: GraphQLContext,
  requests: RequestLog | undefined,
): RunningOperation | undefined {
  if (!requests) return undefined;
  const operation = getOperationAST(document, operationName);
  const running: RunningOperation = {
    requestId: context.requestId,
    operation: requests.metrics.operationOf(operation),
    operationName,
    principal: principalKind(context.principal),
    organizationId: context.principal.organizationId,
    startedAt: performance.now(),
    codes: [],
    subscription: operation?.operation === 'subscription',
  };
  if (!extra.running) {
    const all = new Map<string, RunningOperation>();
    extra.running = all;
    // A socket that closes ends what still runs on it (graphql-ws may not complete every one of them).
    extra.socket.once('close', () => {
      for (const key of [...all.keys()]) endOperation(extra, key, requests);
    });
  }
  endOperation(extra, id, requests); // an id used again ends the operation it named before
  extra.running.set(id, running);
  requests.began(running);
  return running;
}

function endOperation(extra: Extra, id: string, requests: RequestLog | undefined): void {
  const running = extra.running?.get(id);
  if (!running) return;
  extra.running?.delete(id);
  requests?.ended(running);
}

/**
 * Hands upgrades to /graphql to the WebSocket server. It does not attach to the HTTP server itself, so that an HTTP
 * listen error (a port in use) reaches main.ts rather than graphql-ws's error logger.
 */
function acceptUpgrades(http: Server, wss: WebSocketServer, socketErrors: ThrottledLog, metrics: ServerMetrics | undefined): void {
  http.on('upgrade', (request, socket, head) => {
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== '/graphql') {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(request, socket, head, (client) => {
      wss.emit('connection', client, request);
      metrics?.connections.inc();
      client.once('close', () => metrics?.connections.dec());
      // graphql-ws prints a socket's errors (a message over the size limit, a malformed frame) as stack traces on
      // stdout, unauthenticated: one JSON line instead, at most one a second. ws has closed the socket already.
      client.removeAllListeners('error');
      client.on('error', (error: Error & { code?: string }) =>
        socketErrors.warn({ code: error.code, reason: error.message }, 'WebSocket closed on a bad message'),
      );
    });
  });
}

/** Authenticates connection_init; a refusal closes the socket (4403, 4429 when rate limited, 1013 when unavailable). */
async function connect(
  ctx: { connectionParams?: Readonly<Record<string, unknown>>; extra: Extra },
  options: WebSocketOptions,
  track: (principal: Principal, socket: WebSocket) => void,
): Promise<boolean> {
  const authorization = authorizationOf(ctx.connectionParams);
  const address = ctx.extra.request.socket.remoteAddress;
  if (options.limits?.refusalFor(address)) {
    ctx.extra.socket.close(RATE_LIMITED, 'too many failed authentications; retry later');
    return false;
  }
  try {
    const principal = await options.authenticate(authorization);
    ctx.extra.authorization = authorization;
    track(principal, ctx.extra.socket);
    return true;
  } catch (error) {
    if (asServiceUnavailable(error)) {
      logUnavailable(options.logger, randomUUID(), error, 'connection_init');
      ctx.extra.socket.close(TRY_AGAIN_LATER, UNAVAILABLE_REASON);
    } else {
      await options.limits?.failed(address);
    }
    return false; // graphql-ws closes the socket with 4403 Forbidden (unless it is closed already)
  }
}

/** Codes errors as over HTTP, logging the unexpected ones and those of an unavailable database under the request id. */
function errorFormatter(logger: Logger) {
  return (errors: readonly GraphQLError[], requestId: string, operationName: string | null | undefined) => {
    const unavailable = errors.find(isUnavailable);
    if (unavailable) logUnavailable(logger, requestId, unavailable, operationName);
    for (const error of errors) {
      if (isUnexpected(error)) logger.error({ requestId, err: error.originalError ?? error }, 'unexpected error');
    }
    return errors.map((error) => {
      const formatted = formatError(error.toJSON(), error);
      return { ...formatted, extensions: { ...formatted.extensions, requestId } };
    });
  };
}

/**
 * Closes the socket of a client that stopped reading once more than `maxBufferedBytes` wait to be written to it.
 * graphql-ws writes one message per operation at a time, so this is what many operations in flight (or large
 * results) pile up; each subscription's own backlog is bounded by its stream. The close frame goes out after what
 * is already queued: the client reads up to where it was cut off, then the reason; nothing more is queued after it.
 */
function closeIfTooSlow(socket: WebSocket, maxBufferedBytes: number): boolean {
  if (socket.readyState !== socket.OPEN || socket.bufferedAmount <= maxBufferedBytes) return false;
  socket.close(TRY_AGAIN_LATER, TOO_SLOW_REASON);
  return true;
}
