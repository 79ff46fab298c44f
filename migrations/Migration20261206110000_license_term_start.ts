import { Migration } from '@mikro-orm/migrations';

/**
 * The start of a license's current term: its start, then each renewal's. Prorations measure a change against the
 * term the license actually has, and automatic renewals renew by it. Licenses issued before stay null: their term is
 * then their `term_days`, or runs from their start.
 */
export class Migration20261206110000_license_term_start extends Migration {
  override async up(): Promise<void> {
    const knex = this.getKnex();
    const alter = knex.schema.alterTable('license', (t) => t.timestamp('term_started_at', { useTz: true, precision: 3 }).nullable());
    for (const sql of alter.toSQL()) this.addSql(sql.sql);
  }

  override async down(): Promise<void> {
    const knex = this.getKnex();
    for (const sql of knex.schema.alterTable('license', (t) => t.dropColumn('term_started_at')).toSQL()) this.addSql(sql.sql);
  }
}
