import { Migration } from '@mikro-orm/migrations';

/**
 * Recommendations an administrator dismissed: by the recommendation's id (which changes with its evidence, so that a
 * dismissal lapses when the evidence does), why, by whom, and until when (null: for as long as the evidence holds).
 */
export class Migration20261206140000_recommendation_dismissals extends Migration {
  override async up(): Promise<void> {
    const knex = this.getKnex();
    const table = knex.schema.createTable('recommendation_dismissal', (t) => {
      t.string('id', 36).primary();
      t.string('organization_id', 36).notNullable().references('id').inTable('organization');
      t.string('license_id', 36).notNullable().references('id').inTable('license');
      t.string('kind', 32).notNullable();
      t.string('reason', 500).notNullable();
      t.timestamp('until', { useTz: true, precision: 3 }).nullable();
      t.timestamp('dismissed_at', { useTz: true, precision: 3 }).notNullable();
      t.string('dismissed_by', 200).notNullable();
      t.index(['organization_id']);
    });
    for (const statement of table.toSQL()) this.addSql(statement.sql);
  }

  override async down(): Promise<void> {
    for (const statement of this.getKnex().schema.dropTable('recommendation_dismissal').toSQL()) this.addSql(statement.sql);
  }
}
