import { expect, it } from 'vitest';
import {
  AssignSeatDocument,
  CheckoutSeatDocument,
  LicenseMigrationsDocument,
  MigrateLicenseDocument,
  PreviewLicenseMigrationDocument,
  ViolationsDocument,
} from './generated/graphql';
import { licensed } from './support/factories';
import { describeEachDatabase } from './support/server';

describeEachDatabase('license migrations', (server) => {
  it('downgrades a USER license, releasing the seats of the users inactive longest, as previewed', async () => {
    const t = server();
    const l = await licensed(t, 'USER', { limits: { namedUsers: 5 } });
    for (const user of ['a', 'b', 'c', 'd', 'e']) await t.ok(AssignSeatDocument, { licenseId: l.licenseId, userId: user });
    const target = { limits: { namedUsers: 3 } };
    const preview = (await t.ok(PreviewLicenseMigrationDocument, { licenseId: l.licenseId, target })).previewLicenseMigration;
    expect(preview.outcome).toBe('APPLIED');
    expect(preview.seatsReleased.map((s) => s.userId)).toEqual(['a', 'b']);
    const applied = (
      await t.ok(MigrateLicenseDocument, { licenseId: l.licenseId, target, onConflict: { strategy: 'RELEASE_LEAST_ACTIVE' } })
    ).migrateLicense;
    expect(applied.outcome).toBe('APPLIED');
    expect(applied.preview.seatsReleased.map((s) => s.userId)).toEqual(['a', 'b']);
    const license = (await t.ok(LicenseMigrationsDocument, { id: l.licenseId })).license;
    expect(license.limits.namedUsers).toBe(3);
    expect(license.migrations).toHaveLength(1);
    expect(license.migrations[0]).toMatchObject({ status: 'APPLIED', strategy: 'RELEASE_LEAST_ACTIVE' });

    const rejected = (
      await t.ok(MigrateLicenseDocument, {
        licenseId: l.licenseId,
        target: { limits: { namedUsers: 1 } },
        onConflict: { strategy: 'REJECT' },
      })
    ).migrateLicense;
    expect(rejected).toMatchObject({ outcome: 'REJECTED', migration: null });
  });

  it('allows an overage until a date, with a violation that has that deadline', async () => {
    const t = server();
    const l = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 4 } });
    for (const f of ['m1', 'm2', 'm3', 'm4']) await t.ok(CheckoutSeatDocument, { key: l.key, fingerprint: f }, null);
    const until = new Date(Date.now() + 7 * 86_400_000).toISOString();
    const applied = (
      await t.ok(MigrateLicenseDocument, {
        licenseId: l.licenseId,
        target: { limits: { concurrentSessions: 2 } },
        onConflict: { strategy: 'ALLOW_OVERAGE_UNTIL', until },
      })
    ).migrateLicense;
    expect(applied.preview.violationsOpened).toMatchObject([{ kind: 'CONCURRENCY_OVERAGE', value: 4, limit: 2, deadline: until }]);
    const [violation] = (await t.ok(ViolationsDocument, { filter: { licenseId: l.licenseId } })).violations.nodes;
    expect(violation).toMatchObject({ kind: 'CONCURRENCY_OVERAGE', value: 4, limit: 2 });
  });
});
