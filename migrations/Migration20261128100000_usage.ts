import { Migration } from '@mikro-orm/migrations';

/**
 * Usage metering: the current value of each reported metric of a license (a gauge, or a counter within its
 * period), and a time series of samples rolled up into hourly and daily buckets, so that a year of traffic stays
 * a few thousand rows per license and metric.
 */
export class Migration20261128100000_usage extends Migration {
  override async up(): Promise<void> {
    const knex = this.getKnex();
    const tables = [
      knex.schema.createTable('usage_meter', (t) => {
        t.string('license_id', 36).notNullable().references('id').inTable('license');
        t.string('metric', 24).notNullable();
        t.string('organization_id', 36).notNullable().references('id').inTable('organization');
        t.bigInteger('value').notNullable();
        t.timestamp('period_start', { useTz: true, precision: 3 }).nullable();
        t.timestamp('updated_at', { useTz: true, precision: 3 }).notNullable();
        t.primary(['license_id', 'metric']);
      }),
      knex.schema.createTable('usage_sample', (t) => {
        t.string('license_id', 36).notNullable().references('id').inTable('license');
        t.string('metric', 24).notNullable();
        t.string('resolution', 8).notNullable();
        t.timestamp('bucket_start', { useTz: true, precision: 3 }).notNullable();
        t.string('organization_id', 36).notNullable();
        t.integer('samples').notNullable();
        t.bigInteger('value_sum').notNullable();
        t.bigInteger('value_max').notNullable();
        t.bigInteger('value_last').notNullable();
        t.primary(['license_id', 'metric', 'resolution', 'bucket_start']);
      }),
    ];
    for (const table of tables) {
      for (const statement of table.toSQL()) this.addSql(statement.sql);
    }
  }
}
