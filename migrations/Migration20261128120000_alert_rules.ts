import type { Knex } from '@mikro-orm/knex';
import { Migration } from '@mikro-orm/migrations';

/**
 * Alert rules and expiry notices. A rule belongs to a license or to a plan (the default of its licenses) and
 * names its subject: a usage metric (levels are thresholds in percent of the limit, with a re-arm margin) or
 * EXPIRY (levels are days before the term ends). `owner_id` is the license's or the plan's id, so each owner has
 * at most one rule a subject. Each expiry notice raised is remembered per license and term end, so that it is
 * raised once, also across restarts and instances, and again for the next term after a renewal.
 */
export class Migration20261128120000_alert_rules extends Migration {
  override async up(): Promise<void> {
    const knex = this.getKnex();
    const ts = (t: Knex.CreateTableBuilder | Knex.AlterTableBuilder, name: string) => t.timestamp(name, { useTz: true, precision: 3 });
    const statements = [
      knex.schema.createTable('alert_rule', (t) => {
        t.string('owner_id', 36).notNullable();
        t.string('subject', 24).notNullable();
        t.string('license_id', 36).nullable().references('id').inTable('license');
        t.string('plan_id', 36).nullable().references('id').inTable('plan');
        t.string('levels', 200).notNullable();
        t.integer('rearm_margin').nullable();
        ts(t, 'updated_at').notNullable();
        t.string('updated_by', 200).notNullable();
        t.primary(['owner_id', 'subject']);
      }),
      knex.schema.createTable('alert_notice', (t) => {
        t.string('license_id', 36).notNullable().references('id').inTable('license');
        t.string('notice', 24).notNullable();
        ts(t, 'term_ends_at').notNullable();
        t.string('alert_id', 36).nullable();
        ts(t, 'noted_at').notNullable();
        t.primary(['license_id', 'notice', 'term_ends_at']);
      }),
      knex.schema.alterTable('alert', (t) => {
        t.integer('days_before').nullable();
        ts(t, 'expires_at').nullable();
      }),
    ];
    for (const statement of statements) {
      for (const sql of statement.toSQL()) this.addSql(sql.sql);
    }
  }
}
