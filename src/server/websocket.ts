import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { Principal } from '../auth/principal';
import type { GraphQLContext } from './context';

export interface WebSocketOptions {
  schema: GraphQLSchema;
  maxPayload: number;
  authenticate(authorization: string | undefined): Promise<Principal>;
  contextFor(principal: Principal, requestId: string): GraphQLContext;
}

/**
 * GraphQL over WebSocket (graphql-ws) on the HTTP server's port and path. The token comes in `connection_init`
 * (`{ authorization: "Bearer …" }`); a token that is not recognized closes the socket with 4403.
 * Returns the graphql-ws server, whose `dispose()` closes every socket.
 */
export function serveWebSocket(http: Server, options: WebSocketOptions) {
  // The WebSocket server does not attach to the HTTP server itself, so that an HTTP listen error (a port in use)
  // reaches main.ts rather than graphql-ws's error logger; upgrades to /graphql are handed over here.
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload });
  http.on('upgrade', (request, socket, head) => {
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== '/graphql') {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(request, socket, head, (client) => wss.emit('connection', client, request));
  });
  return useServer<Record<string, unknown>, { principal?: Principal }>(
    {
      schema: options.schema,
      onConnect: async (ctx) => {
        const authorization = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        try {
          ctx.extra.principal = await options.authenticate(typeof authorization === 'string' ? authorization : undefined);
          return true;
        } catch {
          return false; // graphql-ws closes the socket with 4403 Forbidden
        }
      },
      context: (ctx) => options.contextFor(ctx.extra.principal ?? Principal.anonymous(), randomUUID()),
    },
    wss,
  );
}
