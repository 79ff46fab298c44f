import { GraphQLError } from 'graphql';

/**
 * Every exceptional failure the API reports carries one of these codes in `extensions.code`.
 * Expected business outcomes (no seat free, license suspended) are typed results, not errors.
 */
export enum ErrorCode {
  /** No credentials, or credentials that are not recognized. */
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  /** Recognized credentials without the right to this operation or this organization. */
  FORBIDDEN = 'FORBIDDEN',
  /** The object does not exist, or the caller may not know that it exists. */
  NOT_FOUND = 'NOT_FOUND',
  /** The input is malformed or out of range. */
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  /** The input conflicts with existing data (a duplicate name, a key already taken). */
  CONFLICT = 'CONFLICT',
  /**
   * The request asks more than the server answers at once: too many tokens, too deep, too many aliases or
   * directives, or too costly (`extensions.limit` names the bound, `extensions.maximum` its value). Nothing ran.
   */
  QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX',
  /** The object's current state does not allow the operation (resuming a revoked license). */
  INVALID_STATE_TRANSITION = 'INVALID_STATE_TRANSITION',
  /** The operation does not apply to this kind of license (a lease on a site license). */
  UNSUPPORTED_LICENSE_TYPE = 'UNSUPPORTED_LICENSE_TYPE',
  /** A subscriber fell too far behind and its subscription ended; subscribe again with `after` = `extensions.after`. */
  SUBSCRIBER_TOO_SLOW = 'SUBSCRIBER_TOO_SLOW',
  /** Too many calls, or failed authentications, from this caller: retry after `extensions.retryAfter` seconds (HTTP 429). */
  RATE_LIMITED = 'RATE_LIMITED',
  /**
   * The server cannot answer now (its database is unreachable or too slow, or a license is too busy): nothing was
   * changed, and the same call may be retried after `extensions.retryAfter` seconds.
   */
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
  /** Anything unexpected; details are logged with the request id, never sent. */
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
}

/** One problem of a call's input: the path of the value, and what is wrong with it. */
export interface InputProblem {
  field: string;
  message: string;
}

/** Base class of the errors that reach clients as they are: a message and a stable code. */
export class AppError extends GraphQLError {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message, { extensions: { ...details, code } });
    this.code = code;
    this.name = 'AppError';
  }

  static unauthenticated(message = 'Authentication required: send an API token as "Authorization: Bearer <token>".') {
    return new AppError(ErrorCode.UNAUTHENTICATED, message);
  }

  static forbidden(message: string) {
    return new AppError(ErrorCode.FORBIDDEN, message);
  }

  static notFound(entity: string, id: string) {
    return new AppError(ErrorCode.NOT_FOUND, `${entity} ${JSON.stringify(id)} was not found.`, { entity, id });
  }

  /**
   * Input that is malformed or out of range: `field` is its path as the API names it, relative to the operation's
   * `input` argument (`limits.namedUsers`) or starting with the argument's name (`target.limits.namedUsers`).
   * `errors` lists every problem when there are several; the first is the message and the field.
   */
  static badInput(message: string, field?: string, errors?: readonly InputProblem[]) {
    return new AppError(ErrorCode.BAD_USER_INPUT, message, { ...(field ? { field } : {}), ...(errors ? { errors } : {}) });
  }

  static conflict(message: string, details: Record<string, unknown> = {}) {
    return new AppError(ErrorCode.CONFLICT, message, details);
  }

  static invalidTransition(entity: string, from: string, action: string) {
    return new AppError(ErrorCode.INVALID_STATE_TRANSITION, `Cannot ${action} a ${entity} that is ${from}.`, { entity, from, action });
  }

  /**
   * Ends the subscription of a subscriber that fell too far behind; `after` is the cursor of the last event it was
   * sent, from which it subscribes again and misses nothing.
   */
  static subscriberTooSlow(limit: number, after: string | null) {
    return new AppError(
      ErrorCode.SUBSCRIBER_TOO_SLOW,
      `This subscriber fell more than ${limit} events behind and was cut off: subscribe again with \`after\` set to the id of the last one received.`,
      { after },
    );
  }

  /**
   * The call could not be served now and changed nothing; `retryAfter` is how many seconds to wait before trying
   * again. `why` says what was unavailable, in words fit for a client (never a driver's message).
   */
  static serviceUnavailable(why: string, retryAfter: number) {
    return new AppError(ErrorCode.SERVICE_UNAVAILABLE, `${why} Nothing was changed; retry in ${retryAfter} s.`, { retryAfter });
  }

  /** The caller must wait `retryAfter` seconds; `why` says which limit it reached. */
  static rateLimited(why: string, retryAfter: number) {
    return new AppError(ErrorCode.RATE_LIMITED, `${why} Retry in ${retryAfter} s.`, {
      retryAfter,
      http: { status: 429, headers: new Map([['retry-after', String(retryAfter)]]) },
    });
  }

  static unsupportedLicenseType(operation: string, type: string, expected: string[]) {
    return new AppError(
      ErrorCode.UNSUPPORTED_LICENSE_TYPE,
      `${operation} applies to ${expected.join(' or ')} licenses; this license is ${type}.`,
      { licenseType: type, expected },
    );
  }
}
