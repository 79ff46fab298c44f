import { Migration } from '@mikro-orm/migrations';

/**
 * Demand facts for usage reports: denials (the requests a license refused, by what refused them) rolled up into hourly
 * and daily buckets with how many were retries that a grant met within a minute; the clients refused each day, for
 * how many distinct clients went without; and how often each feature was named each day, refused how often, and when it was last used.
 */
export class Migration20261206130000_demand_facts extends Migration {
  override async up(): Promise<void> {
    const knex = this.getKnex();
    const timestamp = (t: { timestamp: (name: string, options: object) => { notNullable(): unknown } }, name: string) =>
      t.timestamp(name, { useTz: true, precision: 3 }).notNullable();
    const tables = [
      knex.schema.createTable('usage_denial', (t) => {
        t.string('license_id', 36).notNullable().references('id').inTable('license');
        t.string('subject', 24).notNullable();
        t.string('feature_key', 100).notNullable();
        t.string('resolution', 8).notNullable();
        timestamp(t, 'bucket_start');
        t.string('organization_id', 36).notNullable();
        t.integer('denials').notNullable();
        t.integer('retries').notNullable();
        t.primary(['license_id', 'subject', 'feature_key', 'resolution', 'bucket_start']);
        t.index(['resolution', 'bucket_start']);
      }),
      knex.schema.createTable('usage_denial_client', (t) => {
        t.string('license_id', 36).notNullable().references('id').inTable('license');
        t.string('subject', 24).notNullable();
        t.string('feature_key', 100).notNullable();
        timestamp(t, 'day');
        t.string('client', 200).notNullable();
        t.string('organization_id', 36).notNullable();
        t.integer('denials').notNullable();
        t.integer('retries').notNullable();
        timestamp(t, 'last_denied_at');
        t.primary(['license_id', 'subject', 'feature_key', 'day', 'client']);
      }),
      knex.schema.createTable('feature_use', (t) => {
        t.string('license_id', 36).notNullable().references('id').inTable('license');
        t.string('feature_key', 100).notNullable();
        timestamp(t, 'day');
        t.string('organization_id', 36).notNullable();
        t.integer('uses').notNullable();
        t.integer('denials').notNullable();
        t.timestamp('last_used_at', { useTz: true, precision: 3 }).nullable();
        t.primary(['license_id', 'feature_key', 'day']);
      }),
    ];
    for (const table of tables) for (const statement of table.toSQL()) this.addSql(statement.sql);
  }

  override async down(): Promise<void> {
    const knex = this.getKnex();
    for (const name of ['feature_use', 'usage_denial_client', 'usage_denial']) {
      for (const statement of knex.schema.dropTable(name).toSQL()) this.addSql(statement.sql);
    }
  }
}
