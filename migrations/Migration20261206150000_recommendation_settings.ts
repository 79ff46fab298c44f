import { Migration } from '@mikro-orm/migrations';

/** An organization's windows and thresholds for recommendations; an organization without a row has the defaults. */
export class Migration20261206150000_recommendation_settings extends Migration {
  override async up(): Promise<void> {
    const knex = this.getKnex();
    const table = knex.schema.createTable('recommendation_settings', (t) => {
      t.string('organization_id', 36).primary().references('id').inTable('organization');
      t.integer('window_days').notNullable();
      t.integer('inactive_days').notNullable();
      t.integer('unused_feature_days').notNullable();
      t.integer('buffer_percent').notNullable();
      t.integer('unmet_day_share_percent').notNullable();
      t.integer('renewal_days').notNullable();
      t.timestamp('updated_at', { useTz: true, precision: 3 }).notNullable();
      t.string('updated_by', 200).notNullable();
    });
    for (const statement of table.toSQL()) this.addSql(statement.sql);
  }

  override async down(): Promise<void> {
    for (const statement of this.getKnex().schema.dropTable('recommendation_settings').toSQL()) this.addSql(statement.sql);
  }
}
