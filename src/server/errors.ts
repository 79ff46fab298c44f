import type { ServerResponse } from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ErrorCode } from '../errors';
import type { Logger } from '../logger';
import type { GraphQLContext } from './context';

/** Whether an error was meant for the client as it is: ours, or one GraphQL itself raised about the request. */
function isExpected(error: unknown): boolean {
  return error instanceof GraphQLError;
}

/**
 * Normalizes every error before it is sent: our coded errors and GraphQL's own request errors pass; a unique
 * constraint that a race hit becomes CONFLICT; anything else is masked as INTERNAL_SERVER_ERROR (and logged by the
 * request logger with its request id).
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = unwrapResolverError(error);
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
    return { ...formatted, extensions };
  }
  return { message: 'Internal server error', path: formatted.path, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
}

/** Errors that must be logged: those that formatError masks. */
export function isUnexpected(error: unknown): boolean {
  const original = unwrapResolverError(error);
  return !(original instanceof UniqueConstraintViolationException) && !isExpected(original);
}

/** Answers a request that is not GraphQL at all (a body that is not JSON, or too large) with a coded error. */
export function sendRequestError(res: ServerResponse, status: 400 | 413, message: string): void {
  const json = JSON.stringify({ errors: [{ message, extensions: { code: ErrorCode.BAD_USER_INPUT } }] });
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

export const bodyTooLarge = (limit: number) => `Request body over ${limit} bytes.`;
export const BODY_NOT_JSON = 'The request body is not valid JSON.';

/** Logs the unexpected errors of each request with its request id (the client sees only that id). */
export function requestLogging(logger: Logger): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue, operationName }) {
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
          }
        },
      };
    },
  };
}
