import type { ServerResponse } from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { type Unavailability, unavailabilityOf } from '../db/unavailable';
import { AppError, ErrorCode } from '../errors';
import type { Logger } from '../logger';
import type { GraphQLContext } from './context';

/** What a client is told when the database cannot serve its call, and how long it should wait before the next try. */
const UNAVAILABLE: Record<Unavailability, [why: string, retryAfter: number]> = {
  busy: ['The server is too busy to serve this call now.', 1],
  slow: ['The database did not answer in time.', 2],
  unreachable: ['The database cannot be reached.', 5],
};

/**
 * The coded, retryable error a client gets for a failure that means "not now" (the database away, too slow or too
 * busy); undefined for any other error. The driver's own message is never sent.
 */
export function asServiceUnavailable(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error.code === ErrorCode.SERVICE_UNAVAILABLE ? error : undefined;
  const unavailability = unavailabilityOf(error);
  if (!unavailability) return undefined;
  const [why, retryAfter] = UNAVAILABLE[unavailability];
  return AppError.serviceUnavailable(why, retryAfter);
}

/**
 * The HTTP status and `Retry-After` of an answer whose errors ask the caller to come back later: 429 when it is
 * RATE_LIMITED, 503 when it is SERVICE_UNAVAILABLE (the longest wait); undefined when none does.
 */
export function retryOf(errors: readonly GraphQLFormattedError[] | undefined): { status: 429 | 503; retryAfter: number } | undefined {
  let retry: { status: 429 | 503; retryAfter: number } | undefined;
  for (const error of errors ?? []) {
    const code = error.extensions?.code;
    if (code !== ErrorCode.SERVICE_UNAVAILABLE && code !== ErrorCode.RATE_LIMITED) continue;
    const status = code === ErrorCode.RATE_LIMITED ? 429 : 503;
    const retryAfter = Math.max(retry?.retryAfter ?? 0, Number(error.extensions?.retryAfter ?? 1));
    retry = { status: retry?.status === 429 ? 429 : status, retryAfter };
  }
  return retry;
}

/** One log line for a call the database could not serve: what the driver said stays here, with the request id. */
export function logUnavailable(logger: Logger, requestId: string, error: unknown, operationName?: string | null): void {
  const cause = unwrapResolverError(error) as { code?: unknown; message?: unknown };
  logger.warn(
    { requestId, operationName: operationName ?? undefined, cause: { code: cause?.code, message: cause?.message } },
    'call not served: the database is unavailable',
  );
}

/**
 * Whether an error was meant for the client as it is: ours, or one GraphQL itself raised about the request with a
 * code of its own (parse, validation, variables). A GraphQL error without a code raised while executing (a value a
 * scalar cannot represent) is a bug of ours: masked and logged.
 */
function isExpected(error: unknown): boolean {
  if (!(error instanceof GraphQLError)) return false;
  const code = error.extensions?.code;
  return typeof code === 'string' && code !== ErrorCode.INTERNAL_SERVER_ERROR;
}

/**
 * A GraphQL error without a code about the request as a whole, raised by graphql-js itself (not by a resolver, nor
 * for a field), such as giving up on variables past 50 errors: the caller's input, answered BAD_USER_INPUT.
 */
function isAboutTheRequest(error: unknown): boolean {
  return (
    error instanceof GraphQLError && error.extensions?.code === undefined && error.path === undefined && error.originalError === undefined
  );
}

/**
 * Normalizes every error before it is sent: our coded errors and GraphQL's own request errors pass; a unique
 * constraint that a race hit becomes CONFLICT; anything else is masked as INTERNAL_SERVER_ERROR (and logged by the
 * request logger with its request id).
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const unavailable = asServiceUnavailable(original);
  if (unavailable) return { message: unavailable.message, path: formatted.path, extensions: { ...unavailable.extensions } };
  if (original === error && isAboutTheRequest(error)) {
    return { message: (error as GraphQLError).message, extensions: { code: ErrorCode.BAD_USER_INPUT } };
  }
  if (original instanceof UniqueConstraintViolationException) {
    return {
      message: 'The change conflicts with existing data; it was not made.',
      path: formatted.path,
      extensions: { code: ErrorCode.CONFLICT },
    };
  }
  if (isExpected(original)) {
    const extensions = { ...formatted.extensions };
    delete extensions.stacktrace;
    delete extensions.http; // how Apollo is told the HTTP status, not part of the answer
    return { ...formatted, extensions };
  }
  return { message: 'Internal server error', path: formatted.path, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
}

/** Errors that must be logged as bugs: those that formatError masks. */
export function isUnexpected(error: unknown): boolean {
  const original = unwrapResolverError(error);
  if (original === error && isAboutTheRequest(error)) return false;
  return !(original instanceof UniqueConstraintViolationException) && !isExpected(original) && !unavailabilityOf(original);
}

/** Errors that say the database could not serve the call (logged once per call, not as bugs). */
export function isUnavailable(error: unknown): boolean {
  const original = unwrapResolverError(error);
  return original instanceof AppError ? original.code === ErrorCode.SERVICE_UNAVAILABLE : unavailabilityOf(original) !== undefined;
}

/** Answers a request that is not GraphQL at all (a body that is not JSON, or too large) with a coded error. */
export function sendRequestError(res: ServerResponse, status: 400 | 413, message: string): void {
  const json = JSON.stringify({ errors: [{ message, extensions: { code: ErrorCode.BAD_USER_INPUT } }] });
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

export const bodyTooLarge = (limit: number) => `Request body over ${limit} bytes.`;
export const BODY_NOT_JSON = 'The request body is not valid JSON.';

/**
 * Logs the unexpected errors of each request with its request id (the client sees only that id), and once a call
 * the database could not serve; answers the latter with HTTP 503 and `Retry-After`.
 */
export function requestLogging(logger: Logger): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue, operationName }) {
          const unavailable = errors.find(isUnavailable);
          if (unavailable) logUnavailable(logger, contextValue.requestId, unavailable, operationName);
          for (const error of errors) {
            if (isUnexpected(error)) {
              logger.error({ requestId: contextValue.requestId, operationName, err: error.originalError ?? error }, 'unexpected error');
            }
          }
        },
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind === 'single' && response.body.singleResult.errors) {
            for (const error of response.body.singleResult.errors) {
              (error.extensions as Record<string, unknown>).requestId = contextValue.requestId;
            }
            const retry = retryOf(response.body.singleResult.errors);
            if (retry) {
              response.http.status = retry.status;
              response.http.headers.set('retry-after', String(retry.retryAfter));
            }
          }
        },
      };
    },
  };
}
