import { newId } from '../../src/db/ids';
import type { Licensed } from './factories';
import type { TestServer } from './server';

const HOUR = 3_600_000;

/*
 * Histories written into the tables as the meter, the ledgers and the demand log would have written them over past
 * days: what reports and recommendations are computed from, with numbers a test knows by hand.
 */

export type Sample = { day: number; samples: number; sum: number; max: number; last: number };

/** Writes daily buckets of a license's usage series, as the meter and the ledgers would have. */
export async function samples(t: TestServer, l: Licensed, metric: string, rows: Sample[]): Promise<void> {
  await t.server.db.write(async (sql) => {
    for (const r of rows) {
      await sql.run(
        `insert into usage_sample (license_id, metric, resolution, bucket_start, organization_id, samples, value_sum, value_max, value_last)
         values (?, ?, 'DAY', ?, ?, ?, ?, ?, ?)`,
        [l.licenseId, metric, new Date(r.day), l.organizationId, r.samples, r.sum, r.max, r.last],
      );
    }
  });
}

export async function denials(t: TestServer, l: Licensed, subject: string, rows: { day: number; denials: number; retries: number }[]) {
  await t.server.db.write(async (sql) => {
    for (const r of rows) {
      await sql.run(
        `insert into usage_denial (license_id, subject, feature_key, resolution, bucket_start, organization_id, denials, retries)
         values (?, ?, '', 'DAY', ?, ?, ?, ?)`,
        [l.licenseId, subject, new Date(r.day), l.organizationId, r.denials, r.retries],
      );
    }
  });
}

export async function deniedClients(
  t: TestServer,
  l: Licensed,
  subject: string,
  rows: { day: number; client: string; denials: number; retries: number }[],
) {
  await t.server.db.write(async (sql) => {
    for (const r of rows) {
      await sql.run(
        `insert into usage_denial_client (license_id, subject, feature_key, day, client, organization_id, denials, retries, last_denied_at)
         values (?, ?, '', ?, ?, ?, ?, ?, ?)`,
        [l.licenseId, subject, new Date(r.day), r.client, l.organizationId, r.denials, r.retries, new Date(r.day + HOUR)],
      );
    }
  });
}

export async function featureUses(
  t: TestServer,
  l: Licensed,
  rows: { feature: string; day: number; uses: number; denials: number; last: number | null }[],
) {
  await t.server.db.write(async (sql) => {
    for (const r of rows) {
      await sql.run(
        'insert into feature_use (license_id, feature_key, day, organization_id, uses, denials, last_used_at) values (?, ?, ?, ?, ?, ?, ?)',
        [l.licenseId, r.feature, new Date(r.day), l.organizationId, r.uses, r.denials, r.last === null ? null : new Date(r.last)],
      );
    }
  });
}

export async function seats(
  t: TestServer,
  l: Licensed,
  rows: { user: string; assigned: number; active: number | null; released?: number }[],
) {
  await t.server.db.write(async (sql) => {
    for (const r of rows) {
      await sql.run(
        'insert into seat (id, license_id, organization_id, user_id, assigned_at, last_active_at, released_at) values (?, ?, ?, ?, ?, ?, ?)',
        [
          newId(r.assigned),
          l.licenseId,
          l.organizationId,
          r.user,
          new Date(r.assigned),
          r.active === null ? null : new Date(r.active),
          r.released === undefined ? null : new Date(r.released),
        ],
      );
    }
  });
}
