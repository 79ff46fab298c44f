import { GraphQLError, getNamedType, isInputObjectType, isObjectType, print } from 'graphql';
import { createClient } from 'graphql-ws';
import { describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { formatError, isUnexpected } from '../src/server/errors';
import { buildAppSchema } from '../src/server/schema';
import {
  AssignSeatDocument,
  AuditLogDocument,
  CreateProductDocument,
  IssueLicenseDocument,
  LicenseDocument,
  LicensesDocument,
  LicenseUsageDocument,
  MigrateLicenseDocument,
  OrganizationsDocument,
  RecordUsageDocument,
  UsageHistoryDocument,
  ViolationsDocument,
} from './generated/graphql';
import { licensed, unique } from './support/factories';
import { describeEachDatabase, type GraphQLErrorBody, type TestServer } from './support/server';

describeEachDatabase('every error coded, every unexpected one logged', (server) => {
  it('answers more than 50 bad variable values with BAD_USER_INPUT, not an internal error', async () => {
    const t = server();
    const kinds = Array.from({ length: 60 }, (_, i) => `NOT_A_KIND_${i}`);
    const answer = await t.request(ViolationsDocument, { filter: { kinds } } as never);
    expect(answer.errors?.length).toBeGreaterThan(0);
    expect(new Set(answer.errors?.map((e) => e.extensions?.code))).toEqual(new Set(['BAD_USER_INPUT']));
    expect(answer.errors?.[0]?.extensions?.requestId).toEqual(expect.any(String));
    expect(t.logs.filter((line) => line.includes('unexpected error'))).toEqual([]);
  });

  it('refuses a count past what the API can represent, writes nothing, and the usage stays readable', async () => {
    const t = server();
    const { key, licenseId } = await licensed(t, 'SUBSCRIPTION', { limits: { apiCallsPerPeriod: null } });
    const big = Number.MAX_SAFE_INTEGER;
    const first = await t.ok(RecordUsageDocument, { key, metric: 'API_CALLS', amount: big });
    expect(first.recordUsage.usage.value).toBe(big);
    const audited = (await t.ok(AuditLogDocument, { filter: { objectId: licenseId }, first: 100 })).auditLog.nodes.length;

    const second = await t.request(RecordUsageDocument, { key, metric: 'API_CALLS', amount: big });
    expect(second.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'amount' });
    const third = await t.request(RecordUsageDocument, { key, metric: 'API_CALLS', amount: 1 });
    expect(third.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    const usage = await t.ok(LicenseUsageDocument, { licenseId });
    expect(usage.licenseUsage.find((u) => u.metric === 'API_CALLS')?.value).toBe(big);
    const history = await t.request(UsageHistoryDocument, { licenseId, metric: 'API_CALLS', resolution: 'HOUR' } as never);
    expect(history.errors).toBeUndefined();
    expect((await t.ok(AuditLogDocument, { filter: { objectId: licenseId }, first: 100 })).auditLog.nodes).toHaveLength(audited);
  });

  it('logs a WebSocket message over the size limit as one JSON line, never a stack trace', async () => {
    const t = server();
    const printed = vi.spyOn(console, 'error');
    try {
      const code = await new Promise<number>((resolve) => {
        const socket = new WebSocket(t.url.replace('http', 'ws'), 'graphql-transport-ws');
        socket.on('open', () => socket.send('x'.repeat(t.server.config.maxBodyBytes + 1)));
        socket.on('close', (closeCode) => resolve(closeCode));
        socket.on('error', () => undefined);
      });
      expect(code).toBe(1009);
      // The server logs it in the handler that would otherwise have printed the stack trace.
      await vi.waitFor(() => expect(t.logs.some((line) => line.includes('WebSocket closed on a bad message'))).toBe(true), {
        timeout: 5_000,
        interval: 10,
      });
      expect(printed).not.toHaveBeenCalled();
      const lines = t.logs.filter((line) => line.includes('WebSocket closed on a bad message'));
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, reason: 'Max payload size exceeded' });
    } finally {
      printed.mockRestore();
    }
  });
});

describeEachDatabase('every input error names its field', (server) => {
  /** The one error of a refused call, after checking that it is coded BAD_USER_INPUT with a readable message. */
  async function refused(t: TestServer, call: Promise<{ data?: unknown; errors?: GraphQLErrorBody[] }>) {
    const answer = await call;
    expect(answer.errors).toHaveLength(1);
    const error = answer.errors![0]!;
    expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    expect(error.message).not.toMatch(/Argument Validation Error/);
    expect(error.extensions).not.toHaveProperty('validationErrors');
    expect(t.logs.filter((line) => line.includes('unexpected error'))).toEqual([]);
    return error;
  }

  it('names a top-level argument that breaks a constraint', async () => {
    const t = server();
    const page = await refused(t, t.request(OrganizationsDocument, { first: 0 }));
    expect(page.message).toBe('`first` must not be less than 1.');
    expect(page.extensions?.field).toBe('first');

    // Of several arguments at fault, the first the field declares is answered.
    const both = await refused(t, t.request(OrganizationsDocument, { filter: { nameContains: '' }, first: 0 }));
    expect(both).toMatchObject({
      message: '`filter.nameContains` must be longer than or equal to 1 characters.',
      extensions: { field: 'filter.nameContains' },
    });

    const { licenseId } = await licensed(t, 'USER');
    const seat = await refused(t, t.request(AssignSeatDocument, { licenseId, userId: 'u'.repeat(321) }));
    expect(seat.message).toBe('`userId` must be shorter than or equal to 320 characters.');
    expect(seat.extensions?.field).toBe('userId');

    const audit = await refused(t, t.request(AuditLogDocument, { filter: { action: 'a'.repeat(61) } }));
    expect(audit).toMatchObject({
      message: '`filter.action` must be shorter than or equal to 60 characters.',
      extensions: { field: 'filter.action' },
    });
  });

  it('names a nested input by its whole path, and changes nothing', async () => {
    const t = server();
    const l = await licensed(t, 'USER');
    const before = await t.ok(LicenseDocument, { id: l.licenseId });
    const audited = (await t.ok(AuditLogDocument, { filter: { objectId: l.licenseId }, first: 100 })).auditLog.nodes.length;

    const migration = await refused(
      t,
      t.request(MigrateLicenseDocument, {
        licenseId: l.licenseId,
        target: { limits: { namedUsers: -1 } },
        onConflict: { strategy: 'REJECT' },
      }),
    );
    expect(migration.message).toBe('`target.limits.namedUsers` must not be less than 0.');
    expect(migration.extensions?.field).toBe('target.limits.namedUsers');

    // The fields of an `input` argument are named from within it, as the services name theirs.
    const issued = await refused(
      t,
      t.request(IssueLicenseDocument, { input: { organizationId: l.organizationId, planId: l.planId, limits: { namedUsers: -1 } } }),
    );
    expect(issued.message).toBe('`limits.namedUsers` must not be less than 0.');
    expect(issued.extensions?.field).toBe('limits.namedUsers');

    expect(await t.ok(LicenseDocument, { id: l.licenseId })).toEqual(before);
    expect((await t.ok(AuditLogDocument, { filter: { objectId: l.licenseId }, first: 100 })).auditLog.nodes).toHaveLength(audited);
    expect((await t.ok(LicensesDocument, { filter: { organizationId: l.organizationId } })).licenses.nodes).toHaveLength(1);
  });

  it('names a list for a bad element, and an element of a list of inputs by its index', async () => {
    const t = server();
    const l = await licensed(t, 'SUBSCRIPTION');
    const keys = await refused(
      t,
      t.request(MigrateLicenseDocument, {
        licenseId: l.licenseId,
        target: { featureKeys: ['premium.sso', ''] },
        onConflict: { strategy: 'REJECT' },
      }),
    );
    expect(keys.message).toBe(
      'Each value in `target.featureKeys` must be longer than or equal to 1 and shorter than or equal to 100 characters.',
    );
    expect(keys.extensions?.field).toBe('target.featureKeys');

    const tooMany = await refused(
      t,
      t.request(MigrateLicenseDocument, {
        licenseId: l.licenseId,
        target: { featureKeys: Array.from({ length: 501 }, (_, i) => `feature.${i}`) },
        onConflict: { strategy: 'REJECT' },
      }),
    );
    expect(tooMany).toMatchObject({
      message: '`target.featureKeys` must contain no more than 500 elements.',
      extensions: { field: 'target.featureKeys' },
    });

    const features = [
      { key: 'core.inference', name: 'Inference', tier: 'CORE' as const },
      { key: 'premium.sso', name: 'n'.repeat(201), tier: 'PREMIUM' as const },
    ];
    const product = await refused(t, t.request(CreateProductDocument, { input: { key: unique('product'), name: 'Platform', features } }));
    expect(product.message).toBe('`features[1].name` must be shorter than or equal to 200 characters.');
    expect(product.extensions?.field).toBe('features[1].name');
  });

  it('answers the first of several problems, in the order the input declares them, and lists them all', async () => {
    const t = server();
    const l = await licensed(t, 'USER');
    const error = await refused(
      t,
      t.request(IssueLicenseDocument, {
        input: { organizationId: l.organizationId, planId: l.planId, termDays: 0, limits: { namedUsers: -1, concurrentSessions: -2 } },
      }),
    );
    expect(error.message).toBe('`termDays` must not be less than 1.');
    expect(error.extensions?.field).toBe('termDays');
    expect(error.extensions?.errors).toEqual([
      { field: 'termDays', message: '`termDays` must not be less than 1.' },
      { field: 'limits.namedUsers', message: '`limits.namedUsers` must not be less than 0.' },
      { field: 'limits.concurrentSessions', message: '`limits.concurrentSessions` must not be less than 0.' },
    ]);
  });

  it('answers the same over WebSocket', async () => {
    const t = server();
    const client = createClient({
      url: t.url.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${t.admin}` },
    });
    try {
      const result = await new Promise<{ errors?: GraphQLErrorBody[] }>((resolve, reject) => {
        let value: { errors?: GraphQLErrorBody[] } = {};
        client.subscribe(
          { query: print(OrganizationsDocument), variables: { first: 0 } },
          { next: (v) => (value = v as typeof value), error: reject, complete: () => resolve(value) },
        );
      });
      expect(result.errors).toHaveLength(1);
      expect(result.errors![0]).toMatchObject({
        message: '`first` must not be less than 1.',
        extensions: { code: 'BAD_USER_INPUT', field: 'first' },
      });
    } finally {
      await client.dispose();
    }
  });
});

describe('input paths', () => {
  it('can tell every argument by its input type: no field takes two arguments of one input type', async () => {
    const schema = await buildAppSchema();
    const shared: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      for (const field of Object.values(type.getFields())) {
        const inputs = field.args
          .map((arg) => getNamedType(arg.type))
          .filter(isInputObjectType)
          .map((input) => input.name);
        if (new Set(inputs).size !== inputs.length) shared.push(`${type.name}.${field.name}`);
      }
    }
    expect(shared).toEqual([]);
  });
});

describe('formatting', () => {
  it('masks and logs a GraphQL error without a code raised for a field (a value a scalar cannot represent)', () => {
    const serialization = new GraphQLError('Int cannot represent non 32-bit signed integer value: 1e+30', {
      path: ['licenseUsage', 0, 'value'],
    });
    expect(formatError(serialization.toJSON(), serialization)).toEqual({
      message: 'Internal server error',
      path: ['licenseUsage', 0, 'value'],
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(isUnexpected(serialization)).toBe(true);
  });
});
