import { Migration } from '@mikro-orm/migrations';

/** Hourly usage buckets are dropped past their retention: an index finds the old ones without a full scan. */
export class Migration20261128130000_usage_retention extends Migration {
  override async up(): Promise<void> {
    const statement = this.getKnex().schema.alterTable('usage_sample', (t) => {
      t.index(['resolution', 'bucket_start'], 'usage_sample_resolution_bucket_start_index');
    });
    for (const sql of statement.toSQL()) this.addSql(sql.sql);
  }
}
