import {
  createSourceEventStream,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
  type GraphQLSchema,
  getOperationAST,
  Kind,
  parse,
  subscribe,
  validate,
  GraphQLError,
} from 'graphql';
import type { WebSocket } from 'ws';
import { AppError } from '../errors';
import { LiveQueue } from '../common/live-queue';
import type { RequestBounds } from './request-bounds';

/**
 * Subscription fields whose payload is the event itself, whoever subscribed: every subscriber asking for the same
 * selection of the same event gets the same JSON, so it is executed and serialized once per event, not once per
 * subscriber. What differs between subscribers (which events they may see) is decided by each one's stream.
 */
const SHARED_FIELDS = new Set(['alertRaised', 'licenseUsageChanged', 'complianceEvents']);
/** Distinct documents kept parsed and validated; subscribers send the same few again and again. */
const DOCUMENT_CACHE_SIZE = 500;

/** Where a subscription's messages go: its socket, and its id in the graphql-transport-ws protocol. */
export interface Subscriber {
  socket: WebSocket;
  id: string;
  /** Closes the socket if more than the limit waits to be written to it; says whether it did. */
  closeIfTooSlow(): boolean;
  /** Told of each message written (the server's metrics). */
  delivered?(): void;
}

/**
 * Responsible for subscriptions at scale: documents are parsed and validated once per distinct text, and the events
 * of shared fields are executed once per (event, document, variables) and written to each subscriber's socket as
 * the same serialized payload, framed with its own id, after the write before it has been taken by the socket (as
 * graphql-ws does): a subscriber that stops reading stops taking events from its own stream, never anyone else's.
 */
export class SubscriptionLane {
  private readonly documents = new Map<string, { document: DocumentNode } | { errors: readonly GraphQLError[] }>();
  private readonly payloads = new WeakMap<object, Map<DocumentNode, Map<string, string | Promise<string>>>>();
  private readonly subscribers = new WeakMap<object, Subscriber>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly bounds?: RequestBounds,
  ) {}

  /** The parsed and validated document of a query text, or why it is not one. */
  prepare(query: string): { document: DocumentNode } | { errors: readonly GraphQLError[] } {
    let prepared = this.documents.get(query);
    if (!prepared) {
      // Coded as Apollo codes them over HTTP.
      try {
        const document = this.bounds ? this.bounds.parse(query) : parse(query);
        const refused = this.bounds?.checkShape(document);
        if (refused) throw refused;
        const errors = validate(this.schema, document);
        prepared = errors.length > 0 ? { errors: errors.map((e) => coded(e, 'GRAPHQL_VALIDATION_FAILED')) } : { document };
      } catch (error) {
        prepared = { errors: [error instanceof AppError ? error : coded(error as GraphQLError, 'GRAPHQL_PARSE_FAILED')] };
      }
      if (this.documents.size >= DOCUMENT_CACHE_SIZE) this.documents.clear();
      this.documents.set(query, prepared);
    }
    return prepared;
  }

  /** Marks the context of one subscription with where its messages go. */
  bind(contextValue: object, subscriber: Subscriber): void {
    this.subscribers.set(contextValue, subscriber);
  }

  /** graphql-ws's `subscribe`: a shared field goes through the lane, anything else through graphql-js. */
  async subscribe(args: ExecutionArgs): Promise<AsyncIterable<ExecutionResult> | ExecutionResult> {
    const subscriber = this.subscribers.get(args.contextValue as object);
    if (!subscriber || !isShared(args)) return subscribe(args);
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source;
    const variablesKey = `${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`;
    const frameStart = `{"id":${JSON.stringify(subscriber.id)},"type":"next","payload":`;
    return new DirectStream(source as AsyncIterable<object>, (event) =>
      this.send(subscriber, frameStart, this.payloadOf(event, args, variablesKey)),
    );
  }

  /**
   * The serialized result of a subscription's selection for an event, shared by every subscriber asking the same:
   * same document (one object per distinct text, see prepare) and same variables.
   */
  private payloadOf(event: object, args: ExecutionArgs, variablesKey: string): string | Promise<string> {
    let byDocument = this.payloads.get(event);
    if (!byDocument) {
      byDocument = new Map();
      this.payloads.set(event, byDocument);
    }
    let byVariables = byDocument.get(args.document);
    if (!byVariables) {
      byVariables = new Map();
      byDocument.set(args.document, byVariables);
    }
    const known = byVariables.get(variablesKey);
    if (known !== undefined) return known;
    const result = execute({ ...args, rootValue: event });
    if (!(result instanceof Promise)) {
      const json = JSON.stringify(result);
      byVariables.set(variablesKey, json);
      return json;
    }
    const pending = result.then((r) => {
      const json = JSON.stringify(r);
      byVariables.set(variablesKey, json);
      return json;
    });
    byVariables.set(variablesKey, pending);
    return pending;
  }

  /**
   * Writes one `next` message. When the socket could not hand it all to the kernel at once, the returned promise
   * settles once it has (or the socket is gone), and the subscription takes no further event until then.
   */
  private send(subscriber: Subscriber, frameStart: string, payload: string | Promise<string>): Promise<void> | undefined {
    if (typeof payload !== 'string') return payload.then((json) => this.send(subscriber, frameStart, json));
    const { socket } = subscriber;
    if (socket.readyState !== socket.OPEN || subscriber.closeIfTooSlow()) return undefined;
    let written = false;
    let resume: (() => void) | undefined;
    socket.send(`${frameStart}${payload}}`, () => {
      written = true;
      resume?.();
    });
    subscriber.delivered?.();
    // Taken by the kernel at once (the usual case): nothing to wait for, and no promise made.
    if (socket.bufferedAmount === 0) return undefined;
    return new Promise<void>((resolve) => {
      resume = resolve;
      if (written) resolve();
    });
  }
}

function coded(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    extensions: { ...error.extensions, code },
  });
}

/** Whether the operation is a subscription to one shared field. */
function isShared(args: ExecutionArgs): boolean {
  const operation = getOperationAST(args.document, args.operationName);
  const selections = operation?.selectionSet.selections ?? [];
  return selections.length === 1 && selections[0]!.kind === Kind.FIELD && SHARED_FIELDS.has(selections[0]!.name.value);
}

/**
 * What graphql-ws iterates for a subscription whose messages the lane writes itself: it yields nothing, ends when
 * the source ends (graphql-ws then sends `complete`), fails when the source fails (graphql-ws sends `error`), and
 * `return()` (the client's `complete`, or its socket closing) ends the source at once.
 */
class DirectStream implements AsyncIterableIterator<ExecutionResult> {
  private readonly source: AsyncIterator<object>;
  private readonly finished: Promise<IteratorResult<ExecutionResult>>;

  constructor(source: AsyncIterable<object>, deliver: (event: object) => Promise<void> | undefined) {
    this.source = source[Symbol.asyncIterator]();
    // The live queues of the server's streams hand each event straight to the socket: no promise per event.
    this.finished =
      source instanceof LiveQueue ? source.sinkInto(deliver).then(() => ({ done: true, value: undefined })) : this.pump(deliver);
    // graphql-ws asks for the next result at once and sees a failure there; this only keeps it from counting as unhandled.
    this.finished.catch(() => undefined);
  }

  private async pump(deliver: (event: object) => Promise<void> | undefined): Promise<IteratorResult<ExecutionResult>> {
    for (;;) {
      const next = await this.source.next();
      if (next.done) return { done: true, value: undefined };
      const written = deliver(next.value);
      if (written) await written;
    }
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    return this.finished;
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    await this.source.return?.();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
