import { print } from 'graphql';
import { expect, it } from 'vitest';
import { CheckoutSeatDocument, ValidateLicenseDocument } from './generated/graphql';
import { licensed } from './support/factories';
import { describeEachDatabase, type GraphQLErrorBody, type TestServer } from './support/server';

const VALIDATE = print(ValidateLicenseDocument);
// The same operation with a root field that is no client operation: Apollo serves it, not the client lane.
const VALIDATE_THROUGH_APOLLO = VALIDATE.replace('validateLicense(', '__typename\n  validateLicense(');

interface Answer {
  data?: Record<string, Record<string, unknown>> | null;
  errors: GraphQLErrorBody[];
}

async function post(t: TestServer, body: unknown) {
  const response = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return {
    status: response.status,
    requestId: response.headers.get('x-request-id'),
    allowOrigin: response.headers.get('access-control-allow-origin'),
    body: (await response.json()) as Answer,
  };
}

describeEachDatabase('the client lane', (server) => {
  it('answers client operations exactly as Apollo does', async () => {
    const t = server();
    const { key } = await licensed(t, 'USER');
    const variables = { key, user: 'nobody@example.com', feature: 'premium.sso' };
    const lane = await post(t, { query: VALIDATE, variables });
    const apollo = await post(t, { query: VALIDATE_THROUGH_APOLLO, variables });
    expect(lane.status).toBe(200);
    expect(lane.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const { validatedAt: _a, ...fromLane } = lane.body.data!.validateLicense!;
    const { validatedAt: _b, ...fromApollo } = apollo.body.data!.validateLicense!;
    expect(fromLane).toEqual(fromApollo);
    // Browsers get the same CORS answer on both paths.
    expect([lane.allowOrigin, apollo.allowOrigin]).toEqual(['*', '*']);
    expect(fromLane.code).toBe('NO_SEAT_ASSIGNED');
  });

  it('answers coded errors as Apollo does: an unknown key, variables that do not fit', async () => {
    const t = server();
    const unknown = { key: 'AINX-00000000-00000000-00000000-00000000' };
    for (const query of [VALIDATE, VALIDATE_THROUGH_APOLLO]) {
      const refused = await post(t, { query, variables: unknown });
      expect(refused.body.errors[0]).toMatchObject({
        message: 'This license key is not recognized.',
        extensions: { code: 'UNAUTHENTICATED' },
      });
      const missing = await post(t, { query, variables: {} });
      expect(missing.status).toBe(400);
      expect(missing.body.errors[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(missing.body.data).toBeUndefined();
    }
  });

  it('refuses bad credentials that come along, as on any operation', async () => {
    const t = server();
    const { key } = await licensed(t, 'SUBSCRIPTION');
    const response = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer nonsense' },
      body: JSON.stringify({ query: VALIDATE, variables: { key } }),
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as Answer).errors[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('masks and logs an unexpected failure under its request id', async () => {
    const t = server();
    const { key } = await licensed(t, 'CONCURRENT');
    const original = t.server.services.leaseLedger.checkout;
    t.server.services.leaseLedger.checkout = async () => {
      throw new Error('sqlite disk I/O error');
    };
    try {
      const result = await post(t, { query: print(CheckoutSeatDocument), variables: { key, fingerprint: 'host' } });
      const error = result.body.errors[0]!;
      expect(error).toMatchObject({
        message: 'Internal server error',
        extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: result.requestId },
      });
      const logged = t.logs.map((l) => JSON.parse(l)).find((l) => l.requestId === result.requestId);
      expect(logged?.err?.message).toBe('sqlite disk I/O error');
    } finally {
      t.server.services.leaseLedger.checkout = original;
    }
  });

  it('leaves documents it does not serve to Apollo: management fields, several operations, a wrong operation name', async () => {
    const t = server();
    const { key } = await licensed(t, 'SUBSCRIPTION');
    const two = await post(t, { query: `${VALIDATE}\nquery Other { __typename }`, variables: { key }, operationName: 'ValidateLicense' });
    expect(two.body.data?.validateLicense?.valid).toBe(true);
    const wrongName = await post(t, { query: VALIDATE, variables: { key }, operationName: 'Nope' });
    expect(wrongName.status).toBe(400);
    expect(wrongName.body.errors[0]?.extensions?.code).toBe('OPERATION_RESOLUTION_FAILURE');
  });
});
