import { Migration } from '@mikro-orm/migrations';

/** A plan's offline policy: how long its licenses' certificates may last, and how long a seat may be borrowed. */
export class Migration20261207140000_plan_offline_policy extends Migration {
  override async up(): Promise<void> {
    const statement = this.getKnex().schema.alterTable('plan', (t) => {
      t.integer('certificate_max_days').notNullable().defaultTo(30);
      t.integer('borrow_max_days').notNullable().defaultTo(30);
    });
    for (const sql of statement.toSQL()) this.addSql(sql.sql);
  }
}
