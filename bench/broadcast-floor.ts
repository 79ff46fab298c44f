/**
 * Child process: the floor of alert delivery, a bare `ws` WebSocketServer on a `node:http` server on 127.0.0.1 and
 * an ephemeral port. It speaks just enough graphql-ws (`graphql-transport-ws`) for the subscriber harness to treat
 * it as it treats the project: `connection_init` → `connection_ack`, `subscribe` remembered, `ping` → `pong`.
 *
 *   POST /graphql   the project's `recordUsage` request; a value at or above <limit> raises one alert, which is
 *                   serialized once and sent as a graphql-ws `next` message to every subscription, the same shape
 *                   and size as the project's `alertRaised`; it answers like the project;
 *   GET  /alerts    the ids of the alerts raised so far, in order: `{ "ids": [...] }`.
 *
 * Usage: broadcast-floor.ts <limit>. Prints one JSON line `{ url }` once it listens; closes on SIGTERM.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RawData, WebSocket, WebSocketServer } from 'ws';

const PROTOCOL = 'graphql-transport-ws';
const LICENSE_ID = randomUUID();

/** Each socket's subscription ids. */
const subscriptions = new Map<WebSocket, string[]>();
const raised: string[] = [];

function reply(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** The alert the project raises when storage reaches 100 % of its limit, with the same fields in the same order. */
function alertFor(value: number, limit: number) {
  return {
    id: randomUUID(),
    licenseId: LICENSE_ID,
    kind: 'THRESHOLD',
    severity: 'CRITICAL',
    metric: 'STORAGE_BYTES',
    threshold: 100,
    value,
    limit,
    message: `STORAGE_BYTES reached 100 % of its limit (${value} of ${limit}).`,
    raisedAt: new Date().toISOString(),
  };
}

/** The essential work of delivery: one serialization, then one frame per subscription. */
function broadcast(value: number, limit: number): void {
  const alert = alertFor(value, limit);
  raised.push(alert.id);
  const payload = JSON.stringify({ data: { alertRaised: alert } });
  for (const [socket, ids] of subscriptions) {
    for (const id of ids) socket.send(`{"id":${JSON.stringify(id)},"type":"next","payload":${payload}}`);
  }
}

function recordUsage(body: string, limit: number, res: ServerResponse): void {
  const value = Number((JSON.parse(body) as { variables?: { value?: unknown } }).variables?.value);
  if (!Number.isSafeInteger(value)) {
    reply(res, 400, '{"errors":[{"message":"`value` must be an integer."}]}');
    return;
  }
  if (value >= limit) broadcast(value, limit);
  reply(res, 200, JSON.stringify({ data: { recordUsage: { usage: { value } } } }));
}

function onMessage(socket: WebSocket, data: RawData): void {
  const message = JSON.parse(data.toString()) as { type?: string; id?: string };
  if (message.type === 'connection_init') socket.send('{"type":"connection_ack"}');
  else if (message.type === 'ping') socket.send('{"type":"pong"}');
  else if (message.type === 'subscribe' && message.id) subscriptions.get(socket)?.push(message.id);
  else if (message.type === 'complete') subscriptions.set(socket, subscriptions.get(socket)?.filter((id) => id !== message.id) ?? []);
}

function main(): void {
  const limit = Number(process.argv[2]);
  if (!(limit > 0)) throw new Error('usage: broadcast-floor.ts <limit>');

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'GET' && req.url === '/alerts') {
      reply(res, 200, JSON.stringify({ ids: raised }));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        recordUsage(Buffer.concat(chunks).toString('utf8'), limit, res);
      } catch (error) {
        process.stderr.write(`${String(error)}\n`);
        reply(res, 500, '{"errors":[{"message":"internal error"}]}');
      }
    });
  });
  const wss = new WebSocketServer({
    server,
    path: '/graphql',
    handleProtocols: (protocols) => (protocols.has(PROTOCOL) ? PROTOCOL : false),
  });
  wss.on('connection', (socket) => {
    subscriptions.set(socket, []);
    socket.on('message', (data) => onMessage(socket, data));
    socket.on('close', () => subscriptions.delete(socket));
  });
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}/graphql` })}\n`);
  });
  process.once('SIGTERM', () => {
    for (const socket of wss.clients) socket.terminate();
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}

main();
