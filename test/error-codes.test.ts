import { GraphQLError } from 'graphql';
import { describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { formatError, isUnexpected } from '../src/server/errors';
import { AuditLogDocument, LicenseUsageDocument, RecordUsageDocument, UsageHistoryDocument, ViolationsDocument } from './generated/graphql';
import { licensed } from './support/factories';
import { describeEachDatabase } from './support/server';

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
      await new Promise((r) => setTimeout(r, 100));
      expect(printed).not.toHaveBeenCalled();
      const lines = t.logs.filter((line) => line.includes('WebSocket closed on a bad message'));
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, reason: 'Max payload size exceeded' });
    } finally {
      printed.mockRestore();
    }
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
