import { Migration } from '@mikro-orm/migrations';

/**
 * Why a named seat was released: by an administrator, as inactive longest by a remediation, or by a license migration.
 * Seats released before this column existed keep no reason (null).
 */
export class Migration20261206100000_seat_release_reason extends Migration {
  override async up(): Promise<void> {
    const knex = this.getKnex();
    for (const sql of knex.schema.alterTable('seat', (t) => t.string('release_reason', 20).nullable()).toSQL()) this.addSql(sql.sql);
  }

  override async down(): Promise<void> {
    const knex = this.getKnex();
    for (const sql of knex.schema.alterTable('seat', (t) => t.dropColumn('release_reason')).toSQL()) this.addSql(sql.sql);
  }
}
