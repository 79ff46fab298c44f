import { expect, it } from 'vitest';
import {
  AuditLogDocument,
  CheckoutSeatDocument,
  HeartbeatSeatDocument,
  RegenerateLicenseKeyDocument,
  RevokeLicenseDocument,
  ValidateLicenseDocument,
} from './generated/graphql';
import { licensed } from './support/factories';
import { describeEachDatabase } from './support/server';

describeEachDatabase('regenerating a license key', (server) => {
  it('stops the old key at once and opens the license with the new one, its live leases included', async () => {
    const t = server();
    const l = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 2 } });
    const { checkoutSeat } = await t.ok(CheckoutSeatDocument, { key: l.key, fingerprint: 'm1' }, null);
    const { regenerateLicenseKey } = await t.ok(RegenerateLicenseKeyDocument, { id: l.licenseId });
    const fresh = regenerateLicenseKey.key;
    expect(fresh).not.toBe(l.key);
    expect(regenerateLicenseKey.license).toMatchObject({ id: l.licenseId, keyHint: fresh.slice(-4), status: 'ACTIVE' });

    expect(await t.errorCode(ValidateLicenseDocument, { key: l.key }, null)).toBe('UNAUTHENTICATED');
    expect(await t.errorCode(HeartbeatSeatDocument, { key: l.key, leaseId: checkoutSeat.lease!.id }, null)).toBe('UNAUTHENTICATED');
    expect((await t.ok(ValidateLicenseDocument, { key: fresh, fingerprint: 'm1' }, null)).validateLicense.valid).toBe(true);
    expect((await t.ok(HeartbeatSeatDocument, { key: fresh, leaseId: checkoutSeat.lease!.id }, null)).heartbeatSeat.outcome).toBe(
      'EXTENDED',
    );

    // Audited with the hints, never the keys.
    const [event] = (await t.ok(AuditLogDocument, { filter: { action: 'license.regenerateKey', objectId: l.licenseId } })).auditLog.nodes;
    expect(event).toMatchObject({ before: { keyHint: l.key.slice(-4) }, after: { keyHint: fresh.slice(-4) } });
    expect(JSON.stringify(event)).not.toContain(fresh);
    expect(JSON.stringify(event)).not.toContain(l.key);

    await t.ok(RevokeLicenseDocument, { id: l.licenseId, reason: 'ended' });
    expect(await t.errorCode(RegenerateLicenseKeyDocument, { id: l.licenseId })).toBe('INVALID_STATE_TRANSITION');
  });
});
