import { Migration } from '@mikro-orm/migrations';

/**
 * On SQLite, the usage series is kept in the order of its primary key (license, metric, resolution, bucket): a table
 * without rowid. A report reads a license's year of buckets as one run of pages instead of a look-up per bucket,
 * and a sample updates one tree instead of two. PostgreSQL keeps its heap: nothing changes there.
 */
export class Migration20261207100000_usage_sample_clustered extends Migration {
  override async up(): Promise<void> {
    if (this.getKnex().client.dialect !== 'sqlite3') return;
    this.addSql(
      'create table `usage_sample_clustered` (`license_id` varchar(36) not null, `metric` varchar(24) not null, ' +
        '`resolution` varchar(8) not null, `bucket_start` datetime not null, `organization_id` varchar(36) not null, ' +
        '`samples` integer not null, `value_sum` bigint not null, `value_max` bigint not null, `value_last` bigint not null, ' +
        'foreign key(`license_id`) references `license`(`id`), ' +
        'primary key (`license_id`, `metric`, `resolution`, `bucket_start`)) without rowid',
    );
    this.addSql(
      'insert into `usage_sample_clustered` select `license_id`, `metric`, `resolution`, `bucket_start`, `organization_id`, ' +
        '`samples`, `value_sum`, `value_max`, `value_last` from `usage_sample`',
    );
    this.addSql('drop table `usage_sample`');
    this.addSql('alter table `usage_sample_clustered` rename to `usage_sample`');
    this.addSql('create index `usage_sample_resolution_bucket_start_index` on `usage_sample` (`resolution`, `bucket_start`)');
  }
}
