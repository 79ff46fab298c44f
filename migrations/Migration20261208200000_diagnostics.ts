import { Migration } from '@mikro-orm/migrations';

/**
 * What diagnostics read of the running servers: each instance as it last recorded itself (who it is, when the
 * database last heard from it, how far its clock is from the database's), and each periodic job's last run (when, on
 * which instance, with what outcome).
 */
export class Migration20261208200000_diagnostics extends Migration {
  override async up(): Promise<void> {
    const knex = this.getKnex();
    const instances = knex.schema.createTable('server_instance', (t) => {
      t.string('id', 36).primary();
      t.string('host', 255).notNullable();
      t.integer('pid').notNullable();
      t.string('version', 64).notNullable();
      t.string('secret_id', 16).notNullable();
      t.timestamp('started_at', { useTz: true, precision: 3 }).notNullable();
      t.timestamp('last_seen_at', { useTz: true, precision: 3 }).notNullable();
      t.timestamp('clock_reading', { useTz: true, precision: 3 }).notNullable();
      t.integer('clock_offset_ms').notNullable();
    });
    const runs = knex.schema.createTable('job_run', (t) => {
      t.string('job', 64).primary();
      t.integer('interval_ms').notNullable();
      t.string('instance_id', 36).notNullable();
      t.timestamp('started_at', { useTz: true, precision: 3 }).notNullable();
      t.timestamp('finished_at', { useTz: true, precision: 3 }).notNullable();
      t.string('outcome', 16).notNullable();
      t.string('detail', 1000).nullable();
      t.timestamp('last_succeeded_at', { useTz: true, precision: 3 }).nullable();
    });
    for (const statement of [...instances.toSQL(), ...runs.toSQL()]) this.addSql(statement.sql);
  }

  override async down(): Promise<void> {
    const knex = this.getKnex();
    for (const table of ['job_run', 'server_instance']) {
      for (const statement of knex.schema.dropTable(table).toSQL()) this.addSql(statement.sql);
    }
  }
}
