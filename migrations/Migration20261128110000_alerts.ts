import type { Knex } from '@mikro-orm/knex';
import { Migration } from '@mikro-orm/migrations';

/**
 * Alerts: every alert raised, in order (its time-ordered id is the cursor subscribers resume from), and the
 * armed state of each threshold of each license metric, so that a threshold fires once on the way up and re-arms
 * only after the metric falls back below it by a margin.
 */
export class Migration20261128110000_alerts extends Migration {
  override async up(): Promise<void> {
    const knex = this.getKnex();
    const ts = (t: Knex.CreateTableBuilder, name: string) => t.timestamp(name, { useTz: true, precision: 3 });
    const tables = [
      knex.schema.createTable('alert', (t) => {
        t.string('id', 36).primary();
        t.string('organization_id', 36).notNullable().references('id').inTable('organization');
        t.string('license_id', 36).notNullable().references('id').inTable('license');
        t.string('kind', 20).notNullable();
        t.string('severity', 12).notNullable();
        t.string('metric', 24).nullable();
        t.integer('threshold').nullable();
        t.bigInteger('value').nullable();
        t.bigInteger('limit_value').nullable();
        t.string('message', 500).notNullable();
        ts(t, 'raised_at').notNullable();
        ts(t, 'acknowledged_at').nullable();
        t.string('acknowledged_by', 200).nullable();
        t.index(['organization_id', 'id']);
        t.index(['license_id', 'id']);
      }),
      knex.schema.createTable('alert_threshold', (t) => {
        t.string('license_id', 36).notNullable().references('id').inTable('license');
        t.string('metric', 24).notNullable();
        t.integer('threshold').notNullable();
        t.boolean('armed').notNullable();
        t.primary(['license_id', 'metric', 'threshold']);
      }),
    ];
    for (const table of tables) {
      for (const statement of table.toSQL()) this.addSql(statement.sql);
    }
  }
}
