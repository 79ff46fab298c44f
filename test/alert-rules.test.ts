import { expect, it } from 'vitest';
import {
  AlertRulesDocument,
  AlertsDocument,
  CheckoutSeatDocument,
  RecordUsageDocument,
  SetExpiryNoticesDocument,
  SetThresholdRuleDocument,
} from './generated/graphql';
import { issueToken, licensed } from './support/factories';
import { describeEachDatabase, type TestServer } from './support/server';

const alertsOf = async (t: TestServer, licenseId: string) =>
  (await t.ok(AlertsDocument, { filter: { licenseId }, first: 200 })).alerts.nodes;

const storage = (t: TestServer, key: string, value: number) => t.ok(RecordUsageDocument, { key, metric: 'STORAGE_BYTES', value }, null);

describeEachDatabase('alert rules', (server) => {
  it('gives every license the default rules until its plan or itself sets others', async () => {
    const t = server();
    const { licenseId, planId } = await licensed(t, 'SUBSCRIPTION');
    const { alertRules } = await t.ok(AlertRulesDocument, { licenseId });
    expect(alertRules).toEqual({
      licenseId,
      planId,
      thresholds: ['ACTIVE_USERS', 'CONCURRENT_SESSIONS', 'STORAGE_BYTES', 'API_CALLS'].map((metric) => ({
        metric,
        thresholds: [80, 90, 100],
        rearmMargin: 5,
        source: 'DEFAULT',
      })),
      expiry: { daysBefore: [90, 30, 7, 1], source: 'DEFAULT' },
    });
  });

  it("lets a plan set its licenses' rules, a license override them, and null go back to what it inherits", async () => {
    const t = server();
    const { licenseId, planId } = await licensed(t, 'SUBSCRIPTION');
    const storageRule = async () =>
      (await t.ok(AlertRulesDocument, { licenseId })).alertRules.thresholds.find((r) => r.metric === 'STORAGE_BYTES');

    await t.ok(SetThresholdRuleDocument, { input: { planId, metric: 'STORAGE_BYTES', thresholds: [95, 70] } });
    expect(await storageRule()).toEqual({ metric: 'STORAGE_BYTES', thresholds: [70, 95], rearmMargin: 5, source: 'PLAN' });
    const { alertRules: planRules } = await t.ok(AlertRulesDocument, { planId });
    expect(planRules.licenseId).toBeNull();
    expect(planRules.thresholds.find((r) => r.metric === 'STORAGE_BYTES')?.source).toBe('PLAN');

    await t.ok(SetThresholdRuleDocument, { input: { licenseId, metric: 'STORAGE_BYTES', thresholds: [50], rearmMargin: 20 } });
    expect(await storageRule()).toEqual({ metric: 'STORAGE_BYTES', thresholds: [50], rearmMargin: 20, source: 'LICENSE' });

    await t.ok(SetThresholdRuleDocument, { input: { licenseId, metric: 'STORAGE_BYTES', thresholds: null } });
    expect(await storageRule()).toMatchObject({ thresholds: [70, 95], source: 'PLAN' });
    await t.ok(SetThresholdRuleDocument, { input: { planId, metric: 'STORAGE_BYTES', thresholds: null } });
    expect(await storageRule()).toMatchObject({ thresholds: [80, 90, 100], source: 'DEFAULT' });

    await t.ok(SetExpiryNoticesDocument, { input: { planId, daysBefore: [14, 60] } });
    expect((await t.ok(AlertRulesDocument, { licenseId })).alertRules.expiry).toEqual({ daysBefore: [60, 14], source: 'PLAN' });
    await t.ok(SetExpiryNoticesDocument, { input: { licenseId, daysBefore: [] } });
    expect((await t.ok(AlertRulesDocument, { licenseId })).alertRules.expiry).toEqual({ daysBefore: [], source: 'LICENSE' });
  });

  it("raises alerts at a license's own thresholds and re-arms them by its own margin", async () => {
    const t = server();
    const { key, licenseId } = await licensed(t, 'SUBSCRIPTION', { limits: { storageBytes: 1000 } });
    await t.ok(SetThresholdRuleDocument, {
      input: { licenseId, metric: 'STORAGE_BYTES', thresholds: [50], rearmMargin: 20, repeatIntervalMinutes: 0 },
    });
    // 350 is above 50 - 20 %: no re-arm; 250 is below it, so 600 fires again. 80/90/100 % are not thresholds here.
    for (const value of [600, 350, 1000, 250, 600]) await storage(t, key, value);
    expect((await alertsOf(t, licenseId)).map((a) => [a.threshold, a.severity, a.value])).toEqual([
      [50, 'INFO', 600],
      [50, 'INFO', 600],
    ]);
  });

  it("applies a plan's thresholds to its licenses, and none at all where the rule lists none", async () => {
    const t = server();
    const a = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 4 } });
    await t.ok(SetThresholdRuleDocument, { input: { planId: a.planId, metric: 'CONCURRENT_SESSIONS', thresholds: [75] } });
    for (const fingerprint of ['m1', 'm2', 'm3']) await t.ok(CheckoutSeatDocument, { key: a.key, fingerprint }, null);
    expect((await alertsOf(t, a.licenseId)).map((x) => [x.metric, x.threshold, x.value])).toEqual([['CONCURRENT_SESSIONS', 75, 3]]);

    const b = await licensed(t, 'SUBSCRIPTION', { limits: { storageBytes: 1000 } });
    await t.ok(SetThresholdRuleDocument, { input: { licenseId: b.licenseId, metric: 'STORAGE_BYTES', thresholds: [] } });
    await storage(t, b.key, 1500);
    expect(await alertsOf(t, b.licenseId)).toEqual([]);
  });

  it('refuses rules it cannot keep, with BAD_USER_INPUT naming the field, and changes nothing', async () => {
    const t = server();
    const { licenseId, planId } = await licensed(t, 'SUBSCRIPTION');
    const before = await t.ok(AlertRulesDocument, { licenseId });
    const metric = 'API_CALLS' as const;
    const refusals: [Parameters<typeof t.request<unknown, { input: object }>>[1]['input'], string][] = [
      [{ licenseId, metric, thresholds: [0] }, 'thresholds'],
      [{ licenseId, metric, thresholds: [1001] }, 'thresholds'],
      [{ licenseId, metric, thresholds: [80, 80] }, 'thresholds'],
      [{ licenseId, metric, thresholds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] }, 'thresholds'],
      [{ licenseId, metric, thresholds: [80], rearmMargin: 51 }, 'rearmMargin'],
      [{ licenseId, metric, thresholds: [80], rearmMargin: -1 }, 'rearmMargin'],
      [{ licenseId, metric, thresholds: null, rearmMargin: 10 }, 'rearmMargin'],
      [{ licenseId, metric, thresholds: [80], repeatIntervalMinutes: -1 }, 'repeatIntervalMinutes'],
      [{ licenseId, metric, thresholds: [80], repeatIntervalMinutes: 1441 }, 'repeatIntervalMinutes'],
      [{ licenseId, metric, thresholds: null, repeatIntervalMinutes: 0 }, 'repeatIntervalMinutes'],
      [{ metric, thresholds: [80] }, 'licenseId'],
      [{ licenseId, planId, metric, thresholds: [80] }, 'licenseId'],
    ];
    for (const [input, field] of refusals) {
      const response = await t.request(SetThresholdRuleDocument, { input: input as never });
      expect(response.errors?.[0]?.extensions, JSON.stringify(input)).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    for (const daysBefore of [[0], [3651], [7, 7]]) {
      const response = await t.request(SetExpiryNoticesDocument, { input: { licenseId, daysBefore } });
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'daysBefore' });
    }
    expect(await t.ok(AlertRulesDocument, { licenseId })).toEqual(before);
  });

  it("lets a license manager set its organization's license rules, and only the catalog's managers set a plan's", async () => {
    const t = server();
    const { licenseId, planId, organizationId } = await licensed(t, 'SUBSCRIPTION');
    const manager = await issueToken(t, 'LICENSE_MANAGER', organizationId);
    const integrator = await issueToken(t, 'INTEGRATOR', organizationId);
    const input = { licenseId, metric: 'API_CALLS' as const, thresholds: [50, 100] };
    expect((await t.ok(SetThresholdRuleDocument, { input }, manager.secret)).setThresholdRule.thresholds.at(-1)).toMatchObject({
      metric: 'API_CALLS',
      thresholds: [50, 100],
      source: 'LICENSE',
    });
    expect(await t.errorCode(SetThresholdRuleDocument, { input }, integrator.secret)).toBe('FORBIDDEN');
    expect(await t.errorCode(SetThresholdRuleDocument, { input: { ...input, licenseId: undefined, planId } }, manager.secret)).toBe(
      'FORBIDDEN',
    );
    // Reading them is open to every role of the organization, and a plan's to every token.
    expect((await t.ok(AlertRulesDocument, { licenseId }, integrator.secret)).alertRules.licenseId).toBe(licenseId);
    expect((await t.ok(AlertRulesDocument, { planId }, integrator.secret)).alertRules.planId).toBe(planId);
  });
});
