import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import { expect, it } from 'vitest';
import WebSocket from 'ws';
import { OrganizationsDocument } from './generated/graphql';
import { describeEachDatabase } from './support/server';

describeEachDatabase('errors', (server) => {
  it('masks an unexpected failure as INTERNAL_SERVER_ERROR and logs it under the request id', async () => {
    const t = server();
    const original = t.server.services.organizations.list;
    t.server.services.organizations.list = async () => {
      throw new Error('disk quota exceeded at /var/lib/secret-path');
    };
    try {
      const result = await t.request(OrganizationsDocument, {});
      const error = result.errors?.[0];
      expect(error?.message).toBe('Internal server error');
      expect(error?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      expect(JSON.stringify(result)).not.toContain('secret-path');
      const requestId = error?.extensions?.requestId;
      expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
      const line = t.logs.map((l) => JSON.parse(l)).find((l) => l.requestId === requestId);
      expect(line).toMatchObject({
        msg: 'unexpected error',
        operationName: 'Organizations',
        err: { message: expect.stringContaining('secret-path') },
      });
    } finally {
      t.server.services.organizations.list = original;
    }
  });

  it('masks an unexpected failure of a query over WebSocket alike, and gives coded errors their request id there too', async () => {
    const t = server();
    const client = createClient({
      url: t.url.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${t.admin}` },
    });
    const run = (query: string) =>
      new Promise<{ errors?: { message: string; extensions?: Record<string, unknown> }[] }>((resolve, reject) => {
        let value: unknown;
        client.subscribe({ query }, { next: (v) => (value = v), error: reject, complete: () => resolve(value as never) });
      });
    const original = t.server.services.organizations.list;
    t.server.services.organizations.list = async () => {
      throw new Error('disk quota exceeded at /var/lib/secret-path');
    };
    try {
      const masked = await run(print(OrganizationsDocument));
      expect(JSON.stringify(masked)).not.toContain('secret-path');
      const [error] = masked.errors ?? [];
      expect(error).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      const line = t.logs.map((l) => JSON.parse(l)).find((l) => l.requestId === error?.extensions?.requestId);
      expect(line).toMatchObject({ msg: 'unexpected error', err: { message: expect.stringContaining('secret-path') } });
      const coded = await run('{ license(id: "00000000-0000-7000-8000-000000000000") { id } }');
      expect(coded.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    } finally {
      t.server.services.organizations.list = original;
      await client.dispose();
    }
  });

  it('answers coded errors for requests that are not GraphQL', async () => {
    const t = server();
    const post = (body: string) => fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const malformed = await post('{"query": ');
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).errors[0].extensions.code).toBe('BAD_USER_INPUT');
    const huge = await post(JSON.stringify({ query: `{ __typename }`, variables: { pad: 'x'.repeat(300 * 1024) } }));
    expect(huge.status).toBe(413);
    expect((await huge.json()).errors[0].extensions.code).toBe('BAD_USER_INPUT');
    const invalid = await post(JSON.stringify({ query: '{ noSuchField }' }));
    expect((await invalid.json()).errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('refuses a malformed Authorization header with UNAUTHENTICATED and HTTP 401', async () => {
    const t = server();
    const result = await t.request(OrganizationsDocument, {}, 'not-a-token');
    expect(result.status).toBe(401);
    expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
