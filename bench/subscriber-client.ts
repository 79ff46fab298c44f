/**
 * Child process: a share of the subscribers of the alert-delivery benchmark, each a WebSocket speaking the
 * graphql-ws protocol (`graphql-transport-ws`) with one subscription. Told over IPC what to open, it connects,
 * authenticates in `connection_init`, subscribes, and then stamps every `next` message with the wall-clock time
 * of its arrival before anything else is done with it. It tells the pool when an alert first arrives and when every
 * socket has it, and hands over all the receipts on `finish`. It speaks to the project and to the floor alike.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import type { ClientReport, OpenCommand, PoolCommand, Receipts } from './subscriber-messages';
import { wallClock } from './subscriber-messages';

const PROTOCOL = 'graphql-transport-ws';
/** Sockets connecting at once: enough to be quick, few enough not to overflow the server's accept backlog. */
const CONNECTING_AT_ONCE = 100;
const CONNECT_TIMEOUT_MS = 30_000;

interface Subscriber {
  socket: WebSocket;
  subscriptionId: string;
  /** The alert ids this socket has received. */
  seen: Set<string>;
}

interface NextMessage {
  id?: unknown;
  type?: unknown;
  payload?: { data?: { alertRaised?: { id?: unknown } } };
}

const report = (message: ClientReport) => process.send!(message);

const receipts: Receipts = {
  byAlert: new Map(),
  duplicates: 0,
  protocolErrors: 0,
  closed: 0,
  firstProblem: null,
  cpuSeconds: 0,
  messageBytes: 0,
};
const subscribers: Subscriber[] = [];
let finishing = false;
let cpuAtMark = process.cpuUsage();

function problem(description: string, count: 'duplicates' | 'protocolErrors' | 'closed'): void {
  receipts[count] += 1;
  receipts.firstProblem ??= description;
}

function parse(text: string): NextMessage {
  try {
    return JSON.parse(text) as NextMessage;
  } catch {
    return {};
  }
}

/** One `next` message: checked, then counted once per socket and alert id. */
function receive(subscriber: Subscriber, text: string, at: number): void {
  const message = parse(text);
  const alertId = message.payload?.data?.alertRaised?.id;
  if (message.type !== 'next' || message.id !== subscriber.subscriptionId || typeof alertId !== 'string') {
    problem(`unexpected message: ${text.slice(0, 300)}`, 'protocolErrors');
    return;
  }
  if (subscriber.seen.has(alertId)) {
    problem(`alert ${alertId} received twice by one socket`, 'duplicates');
    return;
  }
  subscriber.seen.add(alertId);
  receipts.messageBytes = Math.max(receipts.messageBytes, Buffer.byteLength(text));
  let times = receipts.byAlert.get(alertId);
  if (!times) {
    times = [];
    receipts.byAlert.set(alertId, times);
    report({ type: 'first', alertId });
  }
  times.push(at);
  if (times.length === subscribers.length) report({ type: 'complete', alertId });
}

/**
 * Connects one socket and subscribes it; resolves once the `subscribe` message is sent (graphql-ws acknowledges
 * the connection, not the subscription). Fails on an error, a close or a timeout before that.
 */
function subscribe(command: OpenCommand): Promise<Subscriber> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(command.url, PROTOCOL, { perMessageDeflate: false });
    const subscriber: Subscriber = { socket, subscriptionId: randomUUID(), seen: new Set() };
    let subscribed = false;
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`not subscribed within ${CONNECT_TIMEOUT_MS} ms`));
    }, CONNECT_TIMEOUT_MS);

    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: command.connectionParams })));
    socket.on('message', (data: Buffer) => {
      const at = wallClock();
      const text = data.toString('utf8');
      if (subscribed) {
        receive(subscriber, text, at);
        return;
      }
      const { type } = parse(text);
      if (type === 'connection_ack') {
        socket.send(JSON.stringify({ id: subscriber.subscriptionId, type: 'subscribe', payload: command.subscribe }));
        subscribed = true;
        clearTimeout(timer);
        resolve(subscriber);
      } else if (type === 'ping') {
        socket.send('{"type":"pong"}');
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', (code, reason) => {
      clearTimeout(timer);
      if (!subscribed) reject(new Error(`closed before subscribing: ${code} ${reason.toString()}`));
      else if (!finishing) problem(`a socket closed: ${code} ${reason.toString()}`, 'closed');
    });
  });
}

/** Opens the sockets a few at a time, then says how many subscribed. */
async function open(command: OpenCommand): Promise<void> {
  let next = 0;
  let failed = 0;
  let firstError: string | null = null;
  const worker = async () => {
    while (next < command.sockets) {
      next += 1;
      try {
        subscribers.push(await subscribe(command));
      } catch (error) {
        failed += 1;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONNECTING_AT_ONCE, command.sockets) }, worker));
  report({ type: 'opened', subscribed: subscribers.length, failed, firstError });
}

function finish(): void {
  finishing = true;
  const cpu = process.cpuUsage(cpuAtMark);
  report({ type: 'receipts', ...receipts, cpuSeconds: (cpu.user + cpu.system) / 1e6 });
  for (const { socket } of subscribers) socket.terminate();
}

process.on('message', (command: PoolCommand) => {
  if (command.type === 'open') void open(command);
  else if (command.type === 'mark') cpuAtMark = process.cpuUsage();
  else finish();
});
// The pool disconnects once it has the receipts, or when it is gone.
process.on('disconnect', () => process.exit(0));
