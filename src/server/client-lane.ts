import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type ExecutionResult,
  type GraphQLError,
  type GraphQLFormattedError,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  validate,
} from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import { AppError, ErrorCode } from '../errors';
import type { Logger } from '../logger';
import { performance } from 'node:perf_hooks';
import { UNKNOWN_OPERATION } from './metrics';
import type { RateLimits } from './rate-limits';
import { codesOf, type RequestLog } from './request-log';
import type { RequestBounds } from './request-bounds';
import { TurnEndWriter } from './turn-end-writer';
import { type GraphQLContext, requestIdFrom } from './context';
import {
  asServiceUnavailable,
  BODY_NOT_JSON,
  bodyTooLarge,
  formatError,
  isUnavailable,
  isUnexpected,
  logUnavailable,
  retryOf,
  sendRequestError,
} from './errors';

/** The operations client applications call on every start and every session, authorized by the key alone. */
export const CLIENT_OPERATIONS: ReadonlySet<string> = new Set([
  'validateLicense',
  'checkFeature',
  'checkoutSeat',
  'heartbeatSeat',
  'checkinSeat',
  'recordUsage',
  'checkQuota',
  'issueLicenseCertificate',
  'borrowSeat',
]);

const MAX_CACHED_DOCUMENTS = 500;
const NO_CODES: readonly string[] = [];
/** Client operations are short documents; a longer one is never cached. */
const MAX_DOCUMENT_LENGTH = 16 * 1024;

type Prepared =
  | { lane: true; compiled: CompiledQuery; operationName: string | null; operation: string }
  | { lane: false }
  /** Past a bound of the request's size or shape: answered here, before anything parses or validates it further. */
  | { lane: false; refused: AppError };

/** What a request answered here is logged with. */
interface Answer {
  requestId: string;
  operation: string;
  operationName?: string | null;
  codes: readonly string[];
}

type Served = { handled: true; answer: Answer } | { handled: false; body: unknown };

interface Body {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
}

/**
 * The client lane: GraphQL requests whose every root field is a client operation (the calls client applications
 * make on every start and every session) are executed here, compiled once per document with graphql-jit and run
 * without Express and Apollo's request pipeline, which cost several times what the operation itself costs.
 * Everything else (management, the playground, introspection, anything this lane does not recognise) goes on to
 * Apollo unchanged: the lane hands the request over with its body already read. Responses are the same either way
 * (test/client-lane.test.ts compares them).
 */
export class ClientLane {
  private readonly documents = new Map<string, Prepared>();
  private readonly answers = new TurnEndWriter();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly contextFor: (requestId: string) => GraphQLContext,
    /**
     * Checks an Authorization header that came along. Client operations are authorized by the license key
     * alone, but bad credentials are refused as on any other operation.
     */
    private readonly checkCredentials: (authorization: string) => Promise<void>,
    private readonly logger: Logger,
    private readonly maxBodyBytes: number,
    private readonly bounds: RequestBounds,
    private readonly limits: RateLimits,
    private readonly requests?: RequestLog,
  ) {}

  /** Whether a request may be for this lane at all: a JSON POST to /graphql. */
  static mayHandle(req: IncomingMessage): boolean {
    return req.method === 'POST' && req.url === '/graphql' && (req.headers['content-type'] ?? '').startsWith('application/json');
  }

  /**
   * What to do with a document: every GraphQL POST is bounded here (tokens, depth, aliases, directives), and client
   * operations are compiled for this lane (their cost, which no variable changes, checked once).
   */
  private prepare(query: string): Prepared {
    let prepared = this.documents.get(query);
    if (prepared) return prepared;
    prepared = { lane: false };
    try {
      const badText = this.bounds.checkText(query, undefined);
      if (badText) return this.remember(query, { lane: false, refused: badText });
      const document = this.bounds.parse(query);
      const refused = this.bounds.checkShape(document);
      if (refused) return this.remember(query, { lane: false, refused });
      const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
      const operation = operations.length === 1 ? operations[0]! : undefined;
      const clientOnly =
        operation !== undefined &&
        operation.operation !== 'subscription' &&
        operation.selectionSet.selections.every((s) => s.kind === Kind.FIELD && CLIENT_OPERATIONS.has(s.name.value));
      // Anything invalid is left to Apollo, so that its errors are exactly Apollo's.
      if (clientOnly && validate(this.schema, document).length === 0) {
        // Compiled once into plain JavaScript (graphql-jit): executing it costs a fraction of graphql-js's walk.
        const costly = this.bounds.checkCost(document, undefined, operation.name?.value);
        if (costly) return this.remember(query, { lane: false, refused: costly });
        const compiled = compileQuery(this.schema, document, operation.name?.value);
        if (isCompiledQuery(compiled)) {
          const label = this.requests?.metrics.operationOf(operation) ?? UNKNOWN_OPERATION;
          prepared = { lane: true, compiled, operationName: operation.name?.value ?? null, operation: label };
        }
      }
    } catch (error) {
      if (error instanceof AppError) return this.remember(query, { lane: false, refused: error });
      // a syntax error: Apollo answers it
    }
    return this.remember(query, prepared);
  }

  private remember(query: string, prepared: Prepared): Prepared {
    if (query.length > MAX_DOCUMENT_LENGTH) return prepared;
    if (this.documents.size >= MAX_CACHED_DOCUMENTS) this.documents.delete(this.documents.keys().next().value!);
    this.documents.set(query, prepared);
    return prepared;
  }

  /**
   * Reads the body and serves the request if it belongs to this lane (or is not GraphQL at all), logging it;
   * otherwise returns the parsed body for Apollo to serve.
   */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<{ handled: true } | { handled: false; body: unknown }> {
    const startedAt = performance.now();
    const served = await this.serve(req, res);
    if (!served.handled) return served;
    // Client operations are authorized by the license key they carry.
    this.requests?.done({ lane: 'client', startedAt, principal: 'LICENSE_KEY', ...served.answer });
    return { handled: true };
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<Served> {
    const notGraphQL = (status: 400 | 413, message: string): Served => {
      sendRequestError(res, status, message);
      const requestId = requestIdFrom(req.headers['x-request-id']);
      return { handled: true, answer: { requestId, operation: UNKNOWN_OPERATION, codes: [ErrorCode.BAD_USER_INPUT] } };
    };
    const text = await readBody(req, this.maxBodyBytes);
    if (text === null) return notGraphQL(413, bodyTooLarge(this.maxBodyBytes));
    let body: Body;
    try {
      body = JSON.parse(text) as Body;
    } catch {
      return notGraphQL(400, BODY_NOT_JSON);
    }
    if (typeof body?.query !== 'string') return { handled: false, body };
    // The document's text is checked once with the rest of its preparation, the variables on every request.
    const prepared = this.prepare(body.query);
    const refused = 'refused' in prepared ? prepared.refused : this.bounds.checkText(null, body.variables);
    if (refused) {
      const requestId = requestIdFrom(req.headers['x-request-id']);
      const { http: _http, ...extensions } = refused.extensions as Record<string, unknown>;
      const codes = this.send(res, 400, requestId, { errors: [{ message: refused.message, extensions: { ...extensions, requestId } }] });
      return { handled: true, answer: { requestId, operation: UNKNOWN_OPERATION, codes } };
    }
    const variables = body.variables ?? undefined;
    if (!prepared.lane || (variables !== undefined && (typeof variables !== 'object' || Array.isArray(variables)))) {
      return { handled: false, body };
    }
    if (body.operationName != null && body.operationName !== prepared.operationName) return { handled: false, body };

    const requestId = requestIdFrom(req.headers['x-request-id']);
    const { operation, operationName } = prepared;
    const answered = (codes: readonly string[]): Served => ({ handled: true, answer: { requestId, operation, operationName, codes } });
    const address = req.socket.remoteAddress;
    // An address that failed to authenticate too often is refused before any key or token is looked at.
    const limited = this.limits.refusalFor(address);
    if (limited) {
      const { http: _http, ...extensions } = limited.extensions as Record<string, unknown>;
      const codes = this.send(
        res,
        429,
        requestId,
        { errors: [{ message: limited.message, extensions: { ...extensions, requestId } }] },
        Number(extensions.retryAfter),
      );
      return answered(codes);
    }
    if (req.headers.authorization !== undefined) {
      try {
        await this.checkCredentials(req.headers.authorization);
      } catch (error) {
        const unavailable = asServiceUnavailable(error);
        if (unavailable) {
          logUnavailable(this.logger, requestId, error, prepared.operationName);
          const codes = this.send(res, 503, requestId, {
            errors: [{ message: unavailable.message, extensions: { ...unavailable.extensions, requestId } }],
          });
          return answered(codes);
        }
        if (!(error instanceof AppError)) throw error;
        await this.limits.failed(address);
        return answered(
          this.send(res, 401, requestId, { errors: [{ message: error.message, extensions: { code: error.code, requestId } }] }),
        );
      }
    }
    const context = this.contextFor(requestId);
    const result: ExecutionResult = await prepared.compiled.query(undefined, context, variables as Record<string, unknown> | undefined);
    // Variables that do not fit the operation: no data at all, as Apollo answers them (400, BAD_USER_INPUT).
    const badVariables = result.data === undefined && result.errors !== undefined;
    const payload: { data?: unknown; errors?: GraphQLFormattedError[] } = {};
    if (result.errors) {
      const unavailable = result.errors.find(isUnavailable);
      if (unavailable) logUnavailable(this.logger, requestId, unavailable, prepared.operationName);
      payload.errors = result.errors.map((error) => this.format(error, requestId, badVariables));
    }
    if (result.data !== undefined) payload.data = result.data;
    if (payload.errors?.some((error) => error.extensions?.code === ErrorCode.UNAUTHENTICATED)) await this.limits.failed(address);
    const retry = retryOf(payload.errors);
    return answered(this.send(res, retry?.status ?? (badVariables ? 400 : 200), requestId, payload, retry?.retryAfter));
  }

  /** Sends an answer (at the end of this turn of the event loop); returns the codes of its errors. */
  private send(
    res: ServerResponse,
    status: number,
    requestId: string,
    payload: { errors?: readonly GraphQLFormattedError[] },
    retryAfter?: number,
  ): readonly string[] {
    const json = JSON.stringify(payload);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(json),
      'x-request-id': requestId,
      // As the cors() middleware answers Apollo's requests: browsers may call client operations from any origin.
      'access-control-allow-origin': '*',
      ...(retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) }),
    });
    this.answers.end(res, json);
    return payload.errors ? codesOf(payload.errors) : NO_CODES;
  }

  private format(error: GraphQLError, requestId: string, badVariables: boolean): GraphQLFormattedError {
    if (isUnexpected(error)) this.logger.error({ requestId, err: error.originalError ?? error }, 'unexpected error');
    const formatted = formatError(error.toJSON(), error);
    const extensions: Record<string, unknown> = { ...formatted.extensions, requestId };
    if (badVariables) extensions.code = ErrorCode.BAD_USER_INPUT;
    return { ...formatted, extensions };
  }
}

/** The body as text, or null when it is larger than allowed or the client went away. */
function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(null));
  });
}
