/**
 * The messages between the subscriber pool (in the benchmark's process) and its client processes, over Node's IPC
 * channel with the `advanced` serialization, which carries a Map as it is.
 */

/** The `subscribe` payload of graphql-ws: the document and its variables. */
export interface SubscribePayload {
  query: string;
  variables: Record<string, unknown>;
}

/** What a client process is told once it has started: which server to subscribe to, and with how many sockets. */
export interface OpenCommand {
  type: 'open';
  /** The `ws://` URL of the GraphQL endpoint. */
  url: string;
  /** The `connection_init` payload, which carries the token. */
  connectionParams: Record<string, unknown>;
  subscribe: SubscribePayload;
  sockets: number;
}

/** `mark` opens the measured window (the CPU a client uses is counted from there); `finish` asks for the receipts. */
export type PoolCommand = OpenCommand | { type: 'mark' } | { type: 'finish' };

/** What one client process received over the whole run. */
export interface Receipts {
  /** For each alert id, when each socket that got it received it: wall-clock ms, one entry per socket. */
  byAlert: Map<string, number[]>;
  /** A `next` message for an alert id its socket had already received. */
  duplicates: number;
  /** Messages that are not the expected `next` of the subscription: `error`, `complete`, unknown ones. */
  protocolErrors: number;
  /** Sockets that closed after they subscribed. */
  closed: number;
  /** The first of these problems, in words. */
  firstProblem: string | null;
  /** CPU the process used since `mark`, user + system. */
  cpuSeconds: number;
  /** The size of the largest `next` message received, in bytes. */
  messageBytes: number;
}

export type ClientReport =
  /** Every socket has either subscribed or failed to. */
  | { type: 'opened'; subscribed: number; failed: number; firstError: string | null }
  /** The first socket of this process received an alert id it had not seen before. */
  | { type: 'first'; alertId: string }
  /** Every subscribed socket of this process has received that alert. */
  | { type: 'complete'; alertId: string }
  | ({ type: 'receipts' } & Receipts);

/** A wall-clock time in milliseconds with sub-millisecond precision, comparable across processes on one machine. */
export const wallClock = (): number => performance.timeOrigin + performance.now();
