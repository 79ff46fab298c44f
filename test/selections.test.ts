import fc from 'fast-check';
import { expect, it } from 'vitest';
import { alertSelection } from '../src/modules/alert/alert.service';
import type { AlertKind, AlertSeverity } from '../src/modules/alert/alert.types';
import { eventSelection } from '../src/modules/compliance/violation.service';
import type { ComplianceEventNode } from '../src/modules/compliance/compliance.types';
import type { AlertNode } from '../src/modules/alert/alert.types';
import type { ComplianceEventType, ViolationKind } from '../src/kernel/compliance.enums';
import {
  AcknowledgeAlertDocument,
  AcknowledgeViolationDocument,
  AlertsDocument,
  CheckFeatureDocument,
  ComplianceEventLogDocument,
  RecordUsageDocument,
} from './generated/graphql';
import { licensed } from './support/factories';
import { describeEachDatabase, type TestServer } from './support/server';

/**
 * A subscription filter is defined once (src/common/selection.ts): the query that lists and replays the stored
 * objects, and the test of live ones. For generated filters, both select the same objects.
 */

async function organizationWithHistory(t: TestServer) {
  const a = await licensed(t, 'SUBSCRIPTION', { limits: { storageBytes: 100 }, overage: { policy: 'ALWAYS' } });
  const b = await licensed(t, 'SUBSCRIPTION', {
    organizationId: a.organizationId,
    limits: { storageBytes: 100 },
    overage: { policy: 'ALWAYS' },
  });
  // Threshold alerts at 80, 90 and 100 % and overages, on both licenses; features checked that are not entitled.
  for (const [l, values] of [
    [a, [85, 95, 130]],
    [b, [91, 150]],
  ] as const) {
    for (const value of values) await t.ok(RecordUsageDocument, { key: l.key, metric: 'STORAGE_BYTES', value }, null);
  }
  await t.ok(CheckFeatureDocument, { key: b.key, feature: 'premium.sso' }, null);
  const alerts = (await t.ok(AlertsDocument, { filter: { organizationId: a.organizationId }, first: 200 })).alerts.nodes;
  await t.ok(AcknowledgeAlertDocument, { id: alerts[0]!.id });
  const events = (await t.ok(ComplianceEventLogDocument, { filter: { organizationId: a.organizationId }, first: 200 })).complianceEventLog
    .nodes;
  await t.ok(AcknowledgeViolationDocument, { id: events[0]!.violation.id });
  return { organizationId: a.organizationId, licenses: [a.licenseId, b.licenseId] };
}

const ids = <T extends { id: string }>(nodes: readonly T[]) => nodes.map((n) => n.id);

describeEachDatabase('subscription filters, defined once', (server) => {
  it('the stored alerts a filter lists are those its live test accepts', async () => {
    const t = server();
    const { organizationId, licenses } = await organizationWithHistory(t);
    const all = (await t.ok(AlertsDocument, { filter: { organizationId }, first: 200 })).alerts.nodes;
    expect(all.length).toBeGreaterThan(4);
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          licenseId: fc.option(fc.constantFrom(...licenses), { nil: undefined }),
          kind: fc.option(fc.constantFrom<AlertKind>(...(['THRESHOLD', 'LICENSE_MIGRATED'] as AlertKind[])), { nil: undefined }),
          severity: fc.option(fc.constantFrom<AlertSeverity>(...(['INFO', 'WARNING', 'CRITICAL'] as AlertSeverity[])), { nil: undefined }),
          acknowledged: fc.option(fc.boolean(), { nil: undefined }),
        }),
        async (filter) => {
          const listed = (await t.ok(AlertsDocument, { filter: { ...filter, organizationId }, first: 200 })).alerts.nodes;
          const { matches } = alertSelection(filter, organizationId);
          const live = all.filter((a) =>
            matches({ ...a, acknowledgedAt: a.acknowledgedAt ? new Date(a.acknowledgedAt) : null } as unknown as AlertNode),
          );
          expect(ids(listed)).toEqual(ids(live));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('the stored compliance events a filter lists are those its live test accepts', async () => {
    const t = server();
    const { organizationId, licenses } = await organizationWithHistory(t);
    const all = (await t.ok(ComplianceEventLogDocument, { filter: { organizationId }, first: 200 })).complianceEventLog.nodes;
    expect(all.length).toBeGreaterThan(3);
    const violations = [...new Set(all.map((e) => e.violation.id))];
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          licenseId: fc.option(fc.constantFrom(...licenses), { nil: undefined }),
          violationId: fc.option(fc.constantFrom(...violations), { nil: undefined }),
          kinds: fc.option(fc.subarray<ViolationKind>(['STORAGE_OVERAGE', 'UNLICENSED_FEATURE', 'SEAT_OVERAGE'] as ViolationKind[]), {
            nil: undefined,
          }),
          types: fc.option(fc.subarray<ComplianceEventType>(['OPENED', 'UPDATED', 'ACKNOWLEDGED'] as ComplianceEventType[]), {
            nil: undefined,
          }),
        }),
        async (filter) => {
          const listed = (await t.ok(ComplianceEventLogDocument, { filter: { ...filter, organizationId }, first: 200 })).complianceEventLog
            .nodes;
          const { matches } = eventSelection(filter, organizationId);
          const live = all.filter((e) => matches({ ...e, organizationId } as unknown as ComplianceEventNode));
          expect(ids(listed)).toEqual(ids(live));
        },
      ),
      { numRuns: 40 },
    );
  });
});
