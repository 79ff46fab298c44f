import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';
import type { Principal } from '../auth/principal';
import type { Config } from '../config';
import { AppError, ErrorCode } from '../errors';
import { type Logger, unredacted } from '../logger';
import type { GraphQLContext } from './context';
import { type Lane, type ServerMetrics, UNKNOWN_OPERATION } from './metrics';

/** Where a context keeps the record of the HTTP request it serves. */
const RECORD = Symbol('request record');

/** The outcome of a request that answered no error. */
export const OK = 'OK';
/** Longest client-given operation name kept in a log line. */
const OPERATION_NAME_MAX = 100;

/** One request served, as its log line and its metrics see it. */
export interface RequestEntry {
  lane: Lane;
  requestId: string;
  /** The root field, as the metrics label it. */
  operation: string;
  /** The operation's name as the client gave it, if any. */
  operationName?: string | null;
  /** API_TOKEN, LICENSE_KEY or ANONYMOUS; never the token or the key. */
  principal: string;
  organizationId?: string | null;
  startedAt: number;
  /** The codes of the errors answered, in order. */
  codes: readonly string[];
}

/** An operation running over WebSocket: its errors are added as they are answered. */
export interface RunningOperation extends Omit<RequestEntry, 'lane' | 'codes'> {
  codes: string[];
  subscription: boolean;
}

/** What is known of an HTTP request served by Apollo, filled in as it goes through. */
interface HttpRecord {
  startedAt: number;
  requestId?: string;
  operation: string;
  operationName?: string | null;
  principal: string;
  organizationId?: string | null;
  codes: string[];
}

/** The codes of a response's errors. */
export function codesOf(errors: readonly GraphQLFormattedError[] | undefined): string[] {
  return (errors ?? []).map((error) =>
    typeof error.extensions?.code === 'string' ? error.extensions.code : ErrorCode.INTERNAL_SERVER_ERROR,
  );
}

/** How a principal is named in a log line. */
export function principalKind(principal: Principal): string {
  return principal.actor?.type ?? 'ANONYMOUS';
}

/**
 * Responsible for what is told of every request once it is served: its duration and error codes to the metrics, and
 * one JSON line (request id, operation, lane, principal kind and organization, duration, outcome) at the configured
 * level, or none at all when that level is `silent`. Keys, tokens and variables are never part of it.
 */
export class RequestLog {
  private readonly http = new WeakMap<ServerResponse, HttpRecord>();
  private readonly received = new WeakMap<IncomingMessage, number>();
  private readonly write: ((line: Record<string, unknown>, message: string) => void) | undefined;

  constructor(
    readonly metrics: ServerMetrics,
    logger: Logger,
    level: NonNullable<Config['requestLogLevel']>,
  ) {
    // Request lines hold no key, token or variables: they skip the redaction that every other line goes through.
    const lines = unredacted(logger);
    this.write = level === 'silent' || !lines.isLevelEnabled(level) ? undefined : lines[level].bind(lines);
  }

  /** One request served. */
  done(entry: RequestEntry): void {
    const ms = performance.now() - entry.startedAt;
    this.metrics.request(entry.lane, entry.operation, ms / 1000, entry.codes);
    if (!this.write) return;
    this.write(
      {
        requestId: entry.requestId,
        lane: entry.lane,
        operation: entry.operation,
        operationName: entry.operationName?.slice(0, OPERATION_NAME_MAX) ?? undefined,
        principal: entry.principal,
        organizationId: entry.organizationId ?? undefined,
        durationMs: Math.round(ms * 100) / 100,
        outcome: entry.codes[0] ?? OK,
      },
      'request',
    );
  }

  /** An operation over WebSocket began: a subscription is counted as active, and logged as started. */
  began(running: RunningOperation): void {
    if (!running.subscription) return;
    this.metrics.subscriptions.inc({ operation: running.operation });
    this.subscription('start', running);
  }

  /** An operation over WebSocket ended: a query or mutation is one request; a subscription logs its end. */
  ended(running: RunningOperation): void {
    if (!running.subscription) {
      this.done({ ...running, lane: 'websocket' });
      return;
    }
    this.metrics.subscriptions.dec({ operation: running.operation });
    this.metrics.errorsAnswered('websocket', running.codes);
    this.subscription('end', running);
  }

  /** A subscription over WebSocket started or ended: one line each (the end with its duration and outcome). */
  private subscription(phase: 'start' | 'end', entry: Omit<RequestEntry, 'lane'>): void {
    if (!this.write) return;
    this.write(
      {
        requestId: entry.requestId,
        lane: 'websocket',
        operation: entry.operation,
        operationName: entry.operationName?.slice(0, OPERATION_NAME_MAX) ?? undefined,
        principal: entry.principal,
        organizationId: entry.organizationId ?? undefined,
        ...(phase === 'end'
          ? { durationMs: Math.round((performance.now() - entry.startedAt) * 100) / 100, outcome: entry.codes[0] ?? OK }
          : {}),
      },
      `subscription ${phase}`,
    );
  }

  /** Notes when a request came, before its body was read (the client lane reads it before Apollo gets it). */
  arrived(req: IncomingMessage, at: number): void {
    this.received.set(req, at);
  }

  /**
   * Follows an HTTP request to /graphql served by Apollo (express middleware): its line is written when its response
   * has been sent, with what the context and the plugin below learned of it.
   */
  follow(req: IncomingMessage, res: ServerResponse): void {
    const record: HttpRecord = {
      startedAt: this.received.get(req) ?? performance.now(),
      operation: UNKNOWN_OPERATION,
      principal: 'ANONYMOUS',
      codes: [],
    };
    this.http.set(res, record);
    res.once('finish', () => {
      if (record.codes.length === 0 && res.statusCode >= 400)
        record.codes.push(res.statusCode >= 500 ? ErrorCode.INTERNAL_SERVER_ERROR : ErrorCode.BAD_USER_INPUT);
      this.done({ ...record, lane: 'http', requestId: record.requestId ?? requestIdOf(res) });
    });
  }

  /** Ties the context made for a request to its record, with who is calling. */
  identified(res: ServerResponse, requestId: string, principal?: Principal, context?: GraphQLContext): void {
    const record = this.http.get(res);
    if (!record) return;
    record.requestId = requestId;
    if (principal) {
      record.principal = principalKind(principal);
      record.organizationId = principal.organizationId;
    }
    // On the context itself: Apollo runs each operation with a copy of it (which keeps its own properties).
    if (context) (context as unknown as Record<symbol, HttpRecord>)[RECORD] = record;
  }

  /** A request refused before Apollo ran it (credentials, limits): notes its code; returns the error to throw. */
  refused<E extends AppError>(res: ServerResponse, error: E): E {
    this.http.get(res)?.codes.push(error.code);
    return error;
  }

  /** The Apollo plugin that tells a request's record its operation and the codes of its errors. */
  plugin(): ApolloServerPlugin<GraphQLContext> {
    const metrics = this.metrics;
    const recordOf = (context: GraphQLContext) => (context as unknown as Record<symbol, HttpRecord | undefined>)[RECORD];
    return {
      async requestDidStart() {
        return {
          async didResolveOperation({ operation, operationName, contextValue }) {
            const record = recordOf(contextValue);
            if (!record) return;
            record.operationName = operationName;
            record.operation = metrics.operationOf(operation);
          },
          async willSendResponse({ response, contextValue }) {
            const record = recordOf(contextValue);
            if (record && response.body.kind === 'single') record.codes.push(...codesOf(response.body.singleResult.errors));
          },
        };
      },
    };
  }
}

function requestIdOf(res: ServerResponse): string {
  const id = res.getHeader('x-request-id');
  return typeof id === 'string' ? id : randomUUID();
}
