import { Migration } from '@mikro-orm/migrations';

/**
 * Threshold alerts that repeat count on the open alert instead of raising new ones: an alert keeps how many times its
 * threshold was crossed again and when it last was, a threshold the alert it last raised, and a rule how long a
 * threshold's open alert takes its repeats (null: the default).
 */
export class Migration20261206120000_alert_repeats extends Migration {
  override async up(): Promise<void> {
    const knex = this.getKnex();
    const changes = [
      knex.schema.alterTable('alert', (t) => {
        t.integer('repeats').notNullable().defaultTo(0);
        t.timestamp('last_repeated_at', { useTz: true, precision: 3 }).nullable();
      }),
      knex.schema.alterTable('alert_rule', (t) => t.integer('repeat_minutes').nullable()),
      knex.schema.alterTable('alert_threshold', (t) => t.string('alert_id', 36).nullable()),
    ];
    for (const change of changes) for (const sql of change.toSQL()) this.addSql(sql.sql);
  }

  override async down(): Promise<void> {
    const knex = this.getKnex();
    const changes = [
      knex.schema.alterTable('alert', (t) => t.dropColumns('repeats', 'last_repeated_at')),
      knex.schema.alterTable('alert_rule', (t) => t.dropColumn('repeat_minutes')),
      knex.schema.alterTable('alert_threshold', (t) => t.dropColumn('alert_id')),
    ];
    for (const change of changes) for (const sql of change.toSQL()) this.addSql(sql.sql);
  }
}
