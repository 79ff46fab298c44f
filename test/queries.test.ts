import { expect, it } from 'vitest';
import { IssueLicenseDocument, LicensesDocument } from './generated/graphql';
import { licensed } from './support/factories';
import { describeEachDatabase, type TestServer } from './support/server';

/** The SQL statements one operation costs, counted at the connection. */
async function statementsOf(t: TestServer, run: () => Promise<unknown>): Promise<string[]> {
  const counter = t.server.queries;
  counter.statements.length = 0;
  counter.recording = true;
  try {
    await run();
  } finally {
    counter.recording = false;
  }
  return [...counter.statements];
}

describeEachDatabase('the cost of lists', (server) => {
  it('lists 100 licenses with organization, plan, product, features and seats for as many queries as 5', async () => {
    const t = server();
    const seed = await licensed(t, 'USER');
    for (let i = 0; i < 99; i++) {
      await t.ok(IssueLicenseDocument, { input: { organizationId: seed.organizationId, planId: seed.planId } });
    }
    const filter = { organizationId: seed.organizationId };

    let five = 0;
    const small = await statementsOf(t, async () => {
      five = (await t.ok(LicensesDocument, { filter, first: 5 })).licenses.nodes.length;
    });
    let hundred = 0;
    const large = await statementsOf(t, async () => {
      const nodes = (await t.ok(LicensesDocument, { filter, first: 100 })).licenses.nodes;
      hundred = nodes.length;
      expect(nodes.every((n) => n.organization.id === seed.organizationId && n.plan.id === seed.planId)).toBe(true);
      expect(nodes.every((n) => n.features.map((f) => f.key).join() === 'premium.analytics')).toBe(true);
    });
    expect([five, hundred]).toEqual([5, 100]);
    expect(large.length).toBe(small.length);
    // One statement for the page, and one per relation: nothing grows with the number of rows.
    expect(large.length).toBeLessThanOrEqual(8);
  });
});
