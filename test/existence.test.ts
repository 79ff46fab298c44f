import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { expect, it } from 'vitest';
import {
  AcknowledgeAlertDocument,
  AssignSeatDocument,
  CancelLicenseMigrationDocument,
  LicenseDocument,
  MergeFeatureLicenseDocument,
  PreviewLicenseMigrationDocument,
  RecordUsageDocument,
  ReleaseSeatDocument,
  RemediateViolationDocument,
  RevokeApiTokenDocument,
  type Role,
  SetThresholdRuleDocument,
  SplitFeatureLicenseDocument,
  SuspendLicenseDocument,
  ViolationDocument,
  AlertsDocument,
  ViolationsDocument,
} from './generated/graphql';
import { issueToken, licensed, organization } from './support/factories';
import { describeEachDatabase } from './support/server';

const ROLES: Role[] = ['ORG_ADMIN', 'LICENSE_MANAGER', 'AUDITOR', 'INTEGRATOR'];
const RANDOM_ID = '01900000-0000-7000-8000-000000000000';

describeEachDatabase('one answer for "not yours" and "not there"', (server) => {
  it('answers an object of another organization exactly as an id that names nothing, for every role and operation', async () => {
    const t = server();
    // Organization A's objects: a USER license with a seat, a storage overage (a violation) and an alert.
    const a = await licensed(t, 'USER', {}, { limits: { namedUsers: 1, storageBytes: 100 } });
    const { assignSeat } = await t.ok(AssignSeatDocument, { licenseId: a.licenseId, userId: 'ada@example.com' });
    await t.ok(RecordUsageDocument, { key: a.key, metric: 'STORAGE_BYTES', value: 200 });
    const violationId = (await t.ok(ViolationsDocument, { filter: { licenseId: a.licenseId } })).violations.nodes[0]!.id;
    const alertId = (await t.ok(AlertsDocument, { filter: { licenseId: a.licenseId } })).alerts.nodes[0]!.id;
    const adminOfA = await issueToken(t, 'ORG_ADMIN', a.organizationId);
    const feature = await licensed(t, 'FEATURE', { organizationId: a.organizationId });

    // Each operation, given A's object and given an id that names nothing.
    type Call = [string, TypedDocumentNode<unknown, Record<string, unknown>>, (id: string) => Record<string, unknown>, string];
    const calls: Call[] = [
      ['license', LicenseDocument as never, (id) => ({ id }), a.licenseId],
      ['assignSeat', AssignSeatDocument as never, (id) => ({ licenseId: id, userId: 'eve@example.com' }), a.licenseId],
      ['releaseSeat', ReleaseSeatDocument as never, (id) => ({ seatId: id }), assignSeat.seat!.id],
      ['suspendLicense', SuspendLicenseDocument as never, (id) => ({ id, reason: 'probe' }), a.licenseId],
      ['violation', ViolationDocument as never, (id) => ({ id }), violationId],
      ['acknowledgeAlert', AcknowledgeAlertDocument as never, (id) => ({ id }), alertId],
      [
        'remediateViolation',
        RemediateViolationDocument as never,
        (id) => ({ input: { violationId: id, action: 'SUSPEND_LICENSE' } }),
        violationId,
      ],
      [
        'setThresholdRule',
        SetThresholdRuleDocument as never,
        (id) => ({ input: { licenseId: id, metric: 'STORAGE_BYTES', thresholds: [50] } }),
        a.licenseId,
      ],
      [
        'previewLicenseMigration',
        PreviewLicenseMigrationDocument as never,
        (id) => ({ licenseId: id, target: { limits: { namedUsers: 2 } } }),
        a.licenseId,
      ],
      ['cancelLicenseMigration', CancelLicenseMigrationDocument as never, (id) => ({ licenseId: id }), a.licenseId],
      [
        'splitFeatureLicense',
        SplitFeatureLicenseDocument as never,
        (id) => ({ licenseId: id, featureKeys: ['premium.analytics'] }),
        a.licenseId,
      ],
      [
        'mergeFeatureLicense',
        MergeFeatureLicenseDocument as never,
        (id) => ({ featureLicenseId: id, intoLicenseId: a.licenseId }),
        feature.licenseId,
      ],
      ['revokeApiToken', RevokeApiTokenDocument as never, (id) => ({ id }), adminOfA.id],
    ];

    const other = await organization(t);
    const mismatches: string[] = [];
    let compared = 0;
    for (const role of ROLES) {
      const token = (await issueToken(t, role, other.id)).secret;
      for (const [name, document, variables, id] of calls) {
        const theirs = await t.request(document, variables(id), token);
        const nothing = await t.request(document, variables(RANDOM_ID), token);
        const code = (r: typeof theirs) => r.errors?.[0]?.extensions?.code ?? (r.data ? 'DATA' : 'NONE');
        compared += 1;
        if (code(theirs) !== code(nothing))
          mismatches.push(`${role} ${name}: ${code(theirs)} for another organization's, ${code(nothing)} for none`);
        expect(code(theirs)).not.toBe('DATA');
      }
    }
    expect(mismatches).toEqual([]);
    expect(compared).toBe(ROLES.length * calls.length);
  });
});
