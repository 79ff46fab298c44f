import { expect, it } from 'vitest';
import {
  ComplianceReportDocument,
  IssueLicenseDocument,
  LicensesDocument,
  LicensesWithMigrationsDocument,
  MigrateLicenseDocument,
  RecordUsageDocument,
  CheckFeatureDocument,
  CheckoutSeatDocument,
  CheckinSeatDocument,
  ValidateLicenseDocument,
} from './generated/graphql';
import { licensed, moreLicenses } from './support/factories';
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

describeEachDatabase('the cost of client calls', (server) => {
  it('takes, in line behind a checkin that freed a seat, the lock without reading first; in a burst, reads first (PostgreSQL)', async () => {
    const t = server();
    // SQLite takes no turns: every checkout decides under the writer.
    if (t.kind !== 'postgresql') return;
    const { key } = await licensed(t, 'CONCURRENT', { limits: { concurrentSessions: 1 } });
    const { leaseLedger } = t.server.services;
    const call = () => ({ requestId: crypto.randomUUID() });
    // The read a checkout makes without the lock: the license with its sessions beside it.
    const readsFirst = (statements: string[]) =>
      statements.filter((s) => /as live_sessions.* from license where key_digest = \? *$/s.test(s));
    const held = (await leaseLedger.checkout(key, 'host-a', null, call())).lease!;

    // Two checkouts in line: the second, behind one that changed nothing, reads first and is refused on it.
    let outcomes: string[] = [];
    const burst = await statementsOf(t, async () => {
      const answers = await Promise.all([
        leaseLedger.checkout(key, 'host-c', null, call()),
        leaseLedger.checkout(key, 'host-d', null, call()),
      ]);
      outcomes = answers.map((a) => a.outcome);
    });
    expect(outcomes).toEqual(['NO_SEAT_AVAILABLE', 'NO_SEAT_AVAILABLE']);
    expect(readsFirst(burst)).toHaveLength(1);

    // A checkin, and a checkout in line behind it: that one takes the freed seat under the lock at once.
    const freed = await statementsOf(t, async () => {
      const [released, taken] = await Promise.all([
        leaseLedger.checkin(key, held.id, call()),
        leaseLedger.checkout(key, 'host-b', null, call()),
      ]);
      outcomes = [released.outcome, taken.outcome];
    });
    expect(outcomes).toEqual(['RELEASED', 'GRANTED']);
    expect(readsFirst(freed)).toHaveLength(0);
  });

  it('validates a concurrent license with its lease and a feature in one statement, and checks a feature in one', async () => {
    const t = server();
    const { key } = await licensed(t, 'CONCURRENT');
    await t.ok(CheckoutSeatDocument, { key, fingerprint: 'host-1' }, null);
    let checks: string[] = [];
    const validation = await statementsOf(t, async () => {
      const result = (await t.ok(ValidateLicenseDocument, { key, fingerprint: 'host-1', feature: 'premium.analytics' }, null))
        .validateLicense;
      checks = result.checks.map((c) => `${c.check} ${c.outcome}`);
    });
    expect(checks).toEqual(['STATUS PASS', 'TERM PASS', 'LEASE PASS', 'FEATURE PASS']);
    expect(validation).toHaveLength(1);

    let allowed: boolean | undefined;
    const featureCheck = await statementsOf(t, async () => {
      allowed = (await t.ok(CheckFeatureDocument, { key, feature: 'premium.analytics' }, null)).checkFeature.allowed;
    });
    expect(allowed).toBe(true);
    expect(featureCheck).toHaveLength(1);
  });

  it('sends what a checkout and a checkin write and nothing reads back in one statement on PostgreSQL, with a read that needs none of it, the begin and the commit with others', async () => {
    const t = server();
    const { key } = await licensed(t, 'CONCURRENT');
    let leaseId = '';
    const checkout = await statementsOf(t, async () => {
      leaseId = (await t.ok(CheckoutSeatDocument, { key, fingerprint: 'host-1' }, null)).checkoutSeat.lease!.id;
    });
    const checkin = await statementsOf(t, () => t.ok(CheckinSeatDocument, { key, leaseId }, null));
    const writing = (statements: string[], table: string) =>
      statements.filter((s) => new RegExp(`(insert into|update) ${table}\\b`).test(s));
    if (t.kind === 'postgresql') {
      // The lease, its audit event and the sessions' sample: one round trip.
      const together = writing(checkout, 'lease');
      expect(together).toHaveLength(1);
      expect(writing(together, 'audit_event')).toHaveLength(1);
      expect(writing(together, 'usage_sample')).toHaveLength(1);
      // The release, its audit event and the sample likewise, the live leases counted with the lease before it.
      expect(writing(checkin, 'lease')).toHaveLength(1);
      expect(writing(writing(checkin, 'lease'), 'audit_event')).toHaveLength(1);
      expect(writing(writing(checkin, 'lease'), 'usage_sample')).toHaveLength(1);
      // Each, in three round trips: the transaction begun with the license locked and its sessions (or the lease) read
      // after the lock; the writes with what the usage watches read (the alert thresholds, the open violations) in one
      // statement; the commit.
      for (const [messages, read] of [
        [
          checkout,
          /select sum\(case when expires_at > .* from lease where license_id = \(select id from license where key_digest = '[^']+'\)/s,
        ],
        [
          checkin,
          /select id, license_id, .* from lease where id = '[^']+' and license_id = \(select id from license where key_digest = '[^']+'\)$/s,
        ],
      ] as const) {
        expect(messages).toHaveLength(3);
        const [begin, lock, after] = messages[0]!.split(/; (?=select)/);
        expect(begin).toBe('begin');
        expect(lock).toMatch(/^select .* from license where key_digest = '[^']+' for update$/s);
        expect(after).toMatch(read);
        expect(messages[2]).toMatch(/commit$/);
      }
      for (const statement of [...together, ...writing(checkin, 'lease')]) {
        expect(statement).toMatch(/from alert_threshold t .* from violation where/s);
      }
    } else {
      expect(writing(checkout, 'lease')).toHaveLength(1);
      expect(writing(checkout, 'audit_event')).toHaveLength(1);
      expect(writing(checkout, 'usage_sample')).toHaveLength(1);
      expect(checkout.length).toBeGreaterThanOrEqual(5);
    }
    // What was sent together was written: the lease ended, its two events, and the peak of one session.
    const stored = await t.server.db.read(async (sql) => ({
      lease: await sql.get<{ released_at: unknown }>('select released_at from lease where id = ?', [leaseId]),
      events: await sql.all<{ action: string }>('select action from audit_event where object_id = ? order by id', [leaseId]),
      peak: await sql.get<{ value_max: unknown }>(
        "select max(value_max) as value_max from usage_sample where metric = 'CONCURRENT_SESSIONS' and resolution = 'HOUR'",
      ),
    }));
    expect(stored.lease?.released_at).not.toBeNull();
    expect(stored.events.map((e) => e.action)).toEqual(['lease.checkout', 'lease.checkin']);
    expect(Number(stored.peak?.value_max)).toBe(1);
  });
});

describeEachDatabase('the cost of lists', (server) => {
  it('lists 100 licenses with organization, plan, product, features and seats for as many queries as 5', async () => {
    const t = server();
    const seed = await licensed(t, 'USER');
    await moreLicenses(t, seed, 99);
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

  it('lists licenses with their migrations for as many queries for 40 as for 4', async () => {
    const t = server();
    const seed = await licensed(t, 'USER', { limits: { namedUsers: 5 } });
    for (const [i, issued] of (await moreLicenses(t, seed, 39)).entries()) {
      if (i % 3 === 0) {
        await t.ok(MigrateLicenseDocument, {
          licenseId: issued.licenseId,
          target: { limits: { namedUsers: 6 + i } },
          onConflict: { strategy: 'REJECT' },
        });
      }
    }
    const filter = { organizationId: seed.organizationId };
    const count = async (first: number) => {
      let migrated = 0;
      const statements = await statementsOf(t, async () => {
        const nodes = (await t.ok(LicensesWithMigrationsDocument, { filter, first })).licenses.nodes;
        migrated = nodes.filter((n) => n.migrations.length === 1 && n.migrations[0]!.status === 'APPLIED').length;
      });
      return { migrated, statements: statements.length };
    };
    const small = await count(4);
    const large = await count(40);
    expect([small.migrated, large.migrated]).toEqual([1, 13]);
    expect(large.statements).toBe(small.statements);
  });

  it('reports the compliance of an organization of 24 licenses for as many queries as of 3, now and as of a moment', async () => {
    const t = server();
    const seed = await licensed(t, 'SUBSCRIPTION', { limits: { storageBytes: 1000 } });
    const grow = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const { issueLicense } = await t.ok(IssueLicenseDocument, { input: { organizationId: seed.organizationId, planId: seed.planId } });
        await t.ok(RecordUsageDocument, { key: issueLicense.key, metric: 'STORAGE_BYTES', value: 900 + 100 * (i % 3) }, null);
      }
    };
    const cost = async () => {
      const asOf = new Date().toISOString();
      let licenses = 0;
      const now = await statementsOf(t, async () => {
        licenses = (await t.ok(ComplianceReportDocument, { organizationId: seed.organizationId })).complianceReport.licenses.length;
      });
      const past = await statementsOf(t, () => t.ok(ComplianceReportDocument, { organizationId: seed.organizationId, asOf }));
      return { licenses, now: now.length, past: past.length };
    };
    await grow(2);
    const small = await cost();
    await grow(21);
    const large = await cost();
    expect([small.licenses, large.licenses]).toEqual([3, 24]);
    expect([large.now, large.past]).toEqual([small.now, small.past]);
  });
});
