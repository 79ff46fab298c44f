import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { expect, it } from 'vitest';
import {
  AuditLogDocument,
  CheckoutSeatDocument,
  CreateOrganizationDocument,
  LicensesDocument,
  OrganizationsDocument,
  ValidateLicenseDocument,
} from './generated/graphql';
import { issueToken, licensed } from './support/factories';
import { describeEachDatabase, type TestServer } from './support/server';

/** Everything the database holds, as text: the SQLite files' bytes, or every row of every PostgreSQL table. */
async function databaseText(t: TestServer): Promise<string> {
  if (t.database.file) {
    const dir = dirname(t.database.file);
    return readdirSync(dir)
      .map((name) => readFileSync(join(dir, name)).toString('latin1'))
      .join('\n');
  }
  const config = t.database.config;
  if (config.driver !== 'postgresql') throw new Error('unexpected database');
  const client = new Client({ connectionString: config.url });
  await client.connect();
  try {
    const tables = await client.query<{ name: string }>("select tablename as name from pg_tables where schemaname = 'public'");
    const dumps: string[] = [];
    for (const { name } of tables.rows) {
      const rows = await client.query<{ row: string }>(`select row_to_json(t)::text as row from "${name}" t`);
      dumps.push(...rows.rows.map((r) => r.row));
    }
    return dumps.join('\n');
  } finally {
    await client.end();
  }
}

describeEachDatabase(
  'secrets at rest and in logs',
  (server) => {
    it('stores and logs no license key or API token in plain text', async () => {
      const t = server();
      const concurrent = await licensed(t, 'CONCURRENT');
      const user = await licensed(t, 'USER');
      const adminToken = (await issueToken(t, 'ORG_ADMIN', concurrent.organizationId)).secret;
      const integrator = (await issueToken(t, 'INTEGRATOR', concurrent.organizationId)).secret;
      const secrets = [t.admin, concurrent.key, user.key, adminToken, integrator];

      // Use every secret, well and badly, so that each has passed through request handling and error paths.
      await t.ok(ValidateLicenseDocument, { key: concurrent.key, fingerprint: 'host' });
      await t.ok(ValidateLicenseDocument, { key: user.key.toLowerCase(), user: 'nobody' });
      await t.ok(CheckoutSeatDocument, { key: concurrent.key, fingerprint: 'host' });
      await t.ok(LicensesDocument, {}, adminToken);
      await t.ok(AuditLogDocument, { first: 200 });
      await t.request(CreateOrganizationDocument, { input: { name: 'denied' } }, integrator);
      await t.request(OrganizationsDocument, {}, `${integrator.slice(0, -1)}x`);
      const original = t.server.services.organizations.list;
      t.server.services.organizations.list = async () => {
        throw new Error('connection to the database lost');
      };
      try {
        const masked = await t.request(OrganizationsDocument, {}, adminToken);
        expect(masked.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      } finally {
        t.server.services.organizations.list = original;
      }

      const stored = await databaseText(t);
      const logged = t.logs.join('\n');
      expect(logged).toContain('unexpected error');
      for (const secret of secrets) {
        expect(stored).not.toContain(secret);
        // The body of a key without its dashes would be just as bad.
        expect(stored).not.toContain(secret.replace(/-/g, ''));
      }
      for (const secret of secrets) expect(logged).not.toContain(secret);
    });
  },
  { logLevel: 'trace' },
);
