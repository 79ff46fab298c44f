import type { Knex } from '@mikro-orm/knex';
import { Migration } from '@mikro-orm/migrations';

/**
 * License migrations: every move of a license to another plan, other limits or another type, applied or waiting for
 * the renewal of its term, with what it moved from and to and what it released. At most one waits per license.
 * Violations gain a deadline: an overage a migration allowed until a date resolves by then or escalates.
 */
export class Migration20261128150000_license_migrations extends Migration {
  override async up(): Promise<void> {
    const knex = this.getKnex();
    const ts = (t: Knex.CreateTableBuilder | Knex.AlterTableBuilder, name: string) => t.timestamp(name, { useTz: true, precision: 3 });
    const statements = [
      knex.schema.createTable('license_migration', (t) => {
        t.string('id', 36).primary();
        t.string('organization_id', 36).notNullable().references('id').inTable('organization');
        t.string('license_id', 36).notNullable().references('id').inTable('license');
        t.string('status', 16).notNullable();
        t.string('effective', 16).notNullable();
        t.string('strategy', 24).notNullable();
        ts(t, 'overage_until').nullable();
        t.text('target').notNullable();
        t.text('from_terms').notNullable();
        t.text('to_terms').nullable();
        ts(t, 'due_term_ends_at').nullable();
        t.text('outcome').nullable();
        ts(t, 'requested_at').notNullable();
        t.string('requested_by', 200).notNullable();
        ts(t, 'applied_at').nullable();
        t.string('applied_by', 200).nullable();
        ts(t, 'cancelled_at').nullable();
        t.string('cancelled_by', 200).nullable();
        t.string('detail', 500).nullable();
        t.index(['license_id', 'id']);
        t.index(['status', 'due_term_ends_at']);
      }),
      knex.schema.alterTable('violation', (t) => {
        ts(t, 'deadline_at').nullable();
      }),
    ];
    for (const statement of statements) {
      for (const sql of statement.toSQL()) this.addSql(sql.sql);
    }
    this.addSql("create unique index license_migration_scheduled_unique on license_migration (license_id) where status = 'SCHEDULED'");
  }
}
