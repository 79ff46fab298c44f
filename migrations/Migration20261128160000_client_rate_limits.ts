import { Migration } from '@mikro-orm/migrations';

/**
 * A limit on the client calls (validations, checkouts, usage reports…) one license key may make per minute: set on a
 * plan as its licenses' default, or on a license; none when null.
 */
export class Migration20261128160000_client_rate_limits extends Migration {
  override async up(): Promise<void> {
    const knex = this.getKnex();
    for (const table of ['plan', 'license']) {
      for (const sql of knex.schema.alterTable(table, (t) => t.integer('client_calls_per_minute').nullable()).toSQL()) this.addSql(sql.sql);
    }
  }

  override async down(): Promise<void> {
    const knex = this.getKnex();
    for (const table of ['plan', 'license']) {
      for (const sql of knex.schema.alterTable(table, (t) => t.dropColumn('client_calls_per_minute')).toSQL()) this.addSql(sql.sql);
    }
  }
}
