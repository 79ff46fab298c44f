import { expect, it } from 'vitest';
import {
  AlertsDocument,
  CheckFeatureDocument,
  IssueLicenseDocument,
  LicenseDocument,
  LicenseMigrationsDocument,
  MergeFeatureLicenseDocument,
  SplitFeatureLicenseDocument,
} from './generated/graphql';
import { licensed } from './support/factories';
import { describeEachDatabase } from './support/server';

const featuresOf = (license: { features: { key: string }[] }) => license.features.map((f) => f.key).sort();

describeEachDatabase('feature licenses merged and split', (server) => {
  it('merges a FEATURE license into another license of its organization and product', async () => {
    const t = server();
    const base = await licensed(t, 'SUBSCRIPTION', { featureKeys: ['premium.analytics'] });
    const addOn = (
      await t.ok(IssueLicenseDocument, {
        input: {
          organizationId: base.organizationId,
          planId: base.planId,
          type: 'FEATURE',
          featureKeys: ['premium.sso', 'premium.analytics'],
        },
      })
    ).issueLicense;
    expect((await t.ok(CheckFeatureDocument, { key: base.key, feature: 'premium.sso' }, null)).checkFeature.allowed).toBe(false);

    const merged = (await t.ok(MergeFeatureLicenseDocument, { featureLicenseId: addOn.license.id, intoLicenseId: base.licenseId }))
      .mergeFeatureLicense;
    expect(merged.id).toBe(base.licenseId);
    expect(featuresOf(merged)).toEqual(['premium.analytics', 'premium.sso']);
    expect(merged.migrations).toMatchObject([
      { status: 'APPLIED', from: { features: ['premium.analytics'] }, to: { features: ['premium.analytics', 'premium.sso'] } },
    ]);
    expect(merged.migrations[0]!.detail).toContain('gained premium.sso');
    expect((await t.ok(CheckFeatureDocument, { key: base.key, feature: 'premium.sso' }, null)).checkFeature.allowed).toBe(true);

    const source = (await t.ok(LicenseMigrationsDocument, { id: addOn.license.id })).license;
    expect(source.migrations).toHaveLength(1);
    expect((await t.ok(LicenseDocument, { id: addOn.license.id })).license).toMatchObject({ status: 'REVOKED' });
    expect((await t.ok(CheckFeatureDocument, { key: addOn.key, feature: 'premium.sso' }, null)).checkFeature.allowed).toBe(false);
    const alerts = (await t.ok(AlertsDocument, { filter: { kind: 'LICENSE_MIGRATED', organizationId: base.organizationId } })).alerts.nodes;
    expect(alerts.map((a) => a.licenseId).sort()).toEqual([base.licenseId, addOn.license.id].sort());

    // Only a FEATURE license merges, into a license of its own organization and product, once.
    expect(await t.errorCode(MergeFeatureLicenseDocument, { featureLicenseId: base.licenseId, intoLicenseId: addOn.license.id })).toBe(
      'INVALID_STATE_TRANSITION',
    );
    const other = await licensed(t, 'FEATURE', { featureKeys: ['premium.sso'] });
    expect(await t.errorCode(MergeFeatureLicenseDocument, { featureLicenseId: other.licenseId, intoLicenseId: base.licenseId })).toBe(
      'BAD_USER_INPUT',
    );
    const user = await licensed(t, 'USER', { organizationId: base.organizationId });
    expect(await t.errorCode(MergeFeatureLicenseDocument, { featureLicenseId: user.licenseId, intoLicenseId: base.licenseId })).toBe(
      'UNSUPPORTED_LICENSE_TYPE',
    );
  });

  it('splits features off a license into a new FEATURE license with its own key, same term', async () => {
    const t = server();
    const base = await licensed(t, 'SUBSCRIPTION', { featureKeys: ['premium.analytics', 'premium.sso'] });
    const split = (await t.ok(SplitFeatureLicenseDocument, { licenseId: base.licenseId, featureKeys: ['premium.sso'] }))
      .splitFeatureLicense;
    expect(split.key).toMatch(/^AINX(-[0-9A-Z]{8}){4}$/);
    const source = (await t.ok(LicenseDocument, { id: base.licenseId })).license;
    expect(split.license).toMatchObject({ type: 'FEATURE', status: 'ACTIVE', organizationId: base.organizationId, planId: base.planId });
    expect(split.license.term.expiresAt).toBe(source.term.expiresAt);
    expect(featuresOf(split.license)).toEqual(['premium.sso']);
    expect((await t.ok(CheckFeatureDocument, { key: split.key, feature: 'premium.sso' }, null)).checkFeature.allowed).toBe(true);
    expect((await t.ok(CheckFeatureDocument, { key: base.key, feature: 'premium.sso' }, null)).checkFeature.allowed).toBe(false);
    expect((await t.ok(CheckFeatureDocument, { key: base.key, feature: 'premium.analytics' }, null)).checkFeature.allowed).toBe(true);
    expect((await t.ok(LicenseMigrationsDocument, { id: base.licenseId })).license.migrations).toHaveLength(1);

    // A feature it does not have, none at all, or a FEATURE license's last: refused, nothing changed.
    for (const featureKeys of [['premium.sso'], []]) {
      expect(await t.errorCode(SplitFeatureLicenseDocument, { licenseId: base.licenseId, featureKeys })).toBe('BAD_USER_INPUT');
    }
    expect(await t.errorCode(SplitFeatureLicenseDocument, { licenseId: split.license.id, featureKeys: ['premium.sso'] })).toBe(
      'BAD_USER_INPUT',
    );
    expect(featuresOf((await t.ok(LicenseDocument, { id: split.license.id })).license)).toEqual(['premium.sso']);
  });
});
