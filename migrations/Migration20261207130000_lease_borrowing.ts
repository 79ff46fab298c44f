import { Migration } from '@mikro-orm/migrations';

/** A lease may be borrowed: held offline until a date, without heartbeats. */
export class Migration20261207130000_lease_borrowing extends Migration {
  override async up(): Promise<void> {
    const statement = this.getKnex().schema.alterTable('lease', (t) => {
      t.timestamp('borrowed_until', { useTz: true, precision: 3 }).nullable();
    });
    for (const sql of statement.toSQL()) this.addSql(sql.sql);
  }
}
