import { Migration } from '@mikro-orm/migrations';

/**
 * The audit log as a hash chain: each event gets its place in the chain (`seq`) and a hash over its content and the
 * previous event's hash once it is sealed; anchors keep the chain's head at intervals, signed.
 */
export class Migration20261208100000_audit_chain extends Migration {
  override async up(): Promise<void> {
    const knex = this.getKnex();
    const statements = [
      knex.schema.alterTable('audit_event', (t) => {
        t.bigInteger('seq').nullable();
        t.string('hash', 64).nullable();
        t.unique(['seq']);
      }),
      knex.schema.createTable('audit_anchor', (t) => {
        t.bigInteger('seq').primary();
        t.string('hash', 64).notNullable();
        t.text('signature').nullable();
        t.timestamp('anchored_at', { useTz: true, precision: 3 }).notNullable();
      }),
    ];
    for (const statement of statements) for (const sql of statement.toSQL()) this.addSql(sql.sql);
    // The events not sealed yet, found without reading the whole log.
    this.addSql('create index audit_event_unsealed_index on audit_event (id) where seq is null');
  }
}
