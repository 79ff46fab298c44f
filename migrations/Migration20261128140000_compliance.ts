import type { Knex } from '@mikro-orm/knex';
import { Migration } from '@mikro-orm/migrations';

/**
 * Compliance: violations and the log of what happened to them. A violation is one breach of one license, kept from
 * detection to resolution: a breach that repeats while it is active (open, acknowledged or waived) counts another
 * occurrence on it, which a partial unique index guarantees also under concurrent writers. Every change of a
 * violation is appended to `compliance_event` with a commit-ordered id: the cursor `complianceEvents` subscribers
 * resume from, and the history a report as of a past date reads. Leases remember the client's clock at their last
 * checkout or heartbeat (a clock that goes backwards is tampering), seats when their user was last active.
 */
export class Migration20261128140000_compliance extends Migration {
  override async up(): Promise<void> {
    const knex = this.getKnex();
    const ts = (t: Knex.CreateTableBuilder | Knex.AlterTableBuilder, name: string) => t.timestamp(name, { useTz: true, precision: 3 });
    const statements = [
      knex.schema.createTable('violation', (t) => {
        t.string('id', 36).primary();
        t.string('organization_id', 36).notNullable().references('id').inTable('organization');
        t.string('license_id', 36).notNullable().references('id').inTable('license');
        t.string('kind', 24).notNullable();
        t.string('subject', 200).notNullable().defaultTo('');
        t.string('severity', 12).notNullable();
        t.string('status', 16).notNullable();
        t.bigInteger('occurrences').notNullable();
        t.bigInteger('value').nullable();
        t.bigInteger('peak_value').nullable();
        t.bigInteger('limit_value').nullable();
        t.text('evidence').notNullable();
        t.string('detail', 500).notNullable();
        ts(t, 'first_seen_at').notNullable();
        ts(t, 'last_seen_at').notNullable();
        ts(t, 'acknowledged_at').nullable();
        t.string('acknowledged_by', 200).nullable();
        ts(t, 'resolved_at').nullable();
        t.string('resolved_by', 200).nullable();
        t.string('resolution', 500).nullable();
        ts(t, 'waived_at').nullable();
        t.string('waived_by', 200).nullable();
        t.string('waiver_reason', 500).nullable();
        ts(t, 'waived_until').nullable();
        t.text('remediations').notNullable();
        ts(t, 'updated_at').notNullable();
        t.index(['organization_id', 'id']);
        t.index(['license_id', 'id']);
        t.index(['status', 'id']);
      }),
      knex.schema.createTable('compliance_event', (t) => {
        t.string('id', 36).primary();
        t.string('organization_id', 36).notNullable().references('id').inTable('organization');
        t.string('license_id', 36).notNullable().references('id').inTable('license');
        t.string('violation_id', 36).notNullable().references('id').inTable('violation');
        t.string('type', 16).notNullable();
        ts(t, 'occurred_at').notNullable();
        t.text('violation').notNullable();
        t.index(['organization_id', 'id']);
        t.index(['license_id', 'id']);
        t.index(['violation_id', 'id']);
      }),
      knex.schema.alterTable('lease', (t) => {
        ts(t, 'client_clock_at').nullable();
      }),
      knex.schema.alterTable('seat', (t) => {
        ts(t, 'last_active_at').nullable();
      }),
    ];
    for (const statement of statements) {
      for (const sql of statement.toSQL()) this.addSql(sql.sql);
    }
    // One active violation per license, kind and subject; resolved ones are history and may repeat.
    this.addSql(
      "create unique index violation_active_unique on violation (license_id, kind, subject) where status in ('OPEN', 'ACKNOWLEDGED', 'WAIVED')",
    );
  }
}
