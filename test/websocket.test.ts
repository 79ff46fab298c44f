import { createClient } from 'graphql-ws';
import { print } from 'graphql';
import { expect, it } from 'vitest';
import WebSocket from 'ws';
import { ValidateLicenseDocument } from './generated/graphql';
import { licensed } from './support/factories';
import { describeEachDatabase } from './support/server';

describeEachDatabase('GraphQL over WebSocket', (server) => {
  it('answers operations on the same port and path as HTTP', async () => {
    const t = server();
    const { key } = await licensed(t, 'SUBSCRIPTION');
    const client = createClient({
      url: t.url.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${t.admin}` },
    });
    try {
      const result = await new Promise<unknown>((resolve, reject) => {
        let value: unknown;
        client.subscribe(
          { query: print(ValidateLicenseDocument), variables: { key } },
          { next: (v) => (value = v), error: reject, complete: () => resolve(value) },
        );
      });
      expect(result).toMatchObject({ data: { validateLicense: { valid: true, code: 'VALID' } } });
    } finally {
      await client.dispose();
    }
  });

  it('closes the socket with 4403 when the token in connection_init is not recognized', async () => {
    const t = server();
    const code = await new Promise<number>((resolve) => {
      const socket = new WebSocket(t.url.replace('http', 'ws'), 'graphql-transport-ws');
      socket.on('open', () =>
        socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer alm_${'x'.repeat(43)}` } })),
      );
      socket.on('close', (closeCode) => resolve(closeCode));
    });
    expect(code).toBe(4403);
  });
});
