import { expect, it } from 'vitest';
import { CheckoutSeatDocument, ValidateLicenseDocument } from './generated/graphql';
import { licensed } from './support/factories';
import { describeEachDatabase } from './support/server';

describeEachDatabase('smoke', (server) => {
  it('issues, validates and checks out', async () => {
    const t = server();
    const { key } = await licensed(t, 'CONCURRENT');
    const r = await t.request(ValidateLicenseDocument, { key }); if (r.errors) console.log(t.logs.join('\n'));
    const v = await t.ok(ValidateLicenseDocument, { key });
    expect(v.validateLicense.code).toBe('VALID');
    const c = await t.ok(CheckoutSeatDocument, { key, fingerprint: 'm1' });
    expect(c.checkoutSeat.outcome).toBe('GRANTED');
  });
});
