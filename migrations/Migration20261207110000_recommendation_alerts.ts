import { Migration } from '@mikro-orm/migrations';

/**
 * RECOMMENDATION alerts: the recommendations that raised one (each once), the amount of yearly effect that raises one
 * per organization, and the recommendation an alert names.
 */
export class Migration20261207110000_recommendation_alerts extends Migration {
  override async up(): Promise<void> {
    const knex = this.getKnex();
    const statements = [
      knex.schema.createTable('recommendation_alert', (t) => {
        t.string('id', 36).primary();
        t.string('organization_id', 36).notNullable().references('id').inTable('organization');
        t.string('license_id', 36).notNullable().references('id').inTable('license');
        t.string('alert_id', 36).nullable();
        t.timestamp('raised_at', { useTz: true, precision: 3 }).notNullable();
      }),
      knex.schema.alterTable('recommendation_settings', (t) => {
        t.integer('alert_above_cents').notNullable().defaultTo(10_000);
      }),
      knex.schema.alterTable('alert', (t) => {
        t.string('recommendation_id', 36).nullable();
      }),
    ];
    for (const table of statements) for (const statement of table.toSQL()) this.addSql(statement.sql);
  }
}
