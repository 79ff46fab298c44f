import { Migration } from '@mikro-orm/migrations';
import type { Knex } from '@mikro-orm/knex';

/**
 * The licensing core: organizations, the catalog, licenses, named seats, concurrent leases, API tokens and the
 * audit log. Written with knex's schema builder so that one migration serves SQLite and PostgreSQL alike.
 */
export class Migration20261128000000_licensing_core extends Migration {
  override async up(): Promise<void> {
    const knex = this.getKnex();
    const ts = (t: Knex.CreateTableBuilder, name: string) => t.timestamp(name, { useTz: true, precision: 3 });
    const id = (t: Knex.CreateTableBuilder) => t.string('id', 36).primary();
    const ref = (t: Knex.CreateTableBuilder, name: string, table: string) =>
      t.string(name, 36).notNullable().references('id').inTable(table);

    const tables: Knex.SchemaBuilder[] = [
      knex.schema.createTable('organization', (t) => {
        id(t);
        t.string('name', 200).notNullable().unique();
        ts(t, 'created_at').notNullable();
        ts(t, 'updated_at').notNullable();
      }),
      knex.schema.createTable('product', (t) => {
        id(t);
        t.string('key', 100).notNullable().unique();
        t.string('name', 200).notNullable();
        ts(t, 'created_at').notNullable();
      }),
      knex.schema.createTable('feature', (t) => {
        id(t);
        ref(t, 'product_id', 'product');
        t.string('key', 100).notNullable();
        t.string('name', 200).notNullable();
        t.string('tier', 16).notNullable();
        ts(t, 'created_at').notNullable();
        t.unique(['product_id', 'key']);
      }),
      knex.schema.createTable('plan', (t) => {
        id(t);
        ref(t, 'product_id', 'product');
        t.string('key', 100).notNullable().unique();
        t.string('name', 200).notNullable();
        t.string('license_type', 16).notNullable();
        t.integer('term_days').nullable();
        t.integer('grace_period_days').notNullable().defaultTo(0);
        t.boolean('auto_renew').notNullable().defaultTo(false);
        t.integer('named_users').nullable();
        t.integer('concurrent_sessions').nullable();
        t.bigInteger('storage_bytes').nullable();
        t.bigInteger('api_calls_per_period').nullable();
        t.string('api_call_period', 8).notNullable().defaultTo('MONTH');
        t.string('overage_policy', 16).notNullable().defaultTo('NONE');
        t.integer('overage_percent').nullable();
        t.integer('lease_ttl_seconds').notNullable().defaultTo(600);
        t.integer('price_per_seat_cents').nullable();
        t.integer('price_per_period_cents').nullable();
        t.string('currency', 3).notNullable().defaultTo('USD');
        ts(t, 'created_at').notNullable();
        ts(t, 'updated_at').notNullable();
      }),
      knex.schema.createTable('plan_feature', (t) => {
        ref(t, 'plan_id', 'plan').onDelete('cascade');
        ref(t, 'feature_id', 'feature');
        t.primary(['plan_id', 'feature_id']);
      }),
      knex.schema.createTable('license', (t) => {
        id(t);
        ref(t, 'organization_id', 'organization');
        ref(t, 'plan_id', 'plan');
        ref(t, 'product_id', 'product');
        t.string('key_digest', 64).notNullable().unique();
        t.string('key_hint', 8).notNullable();
        t.string('type', 16).notNullable();
        t.string('status', 16).notNullable();
        t.string('status_reason', 500).nullable();
        ts(t, 'starts_at').notNullable();
        ts(t, 'expires_at').nullable();
        t.integer('grace_period_days').notNullable().defaultTo(0);
        t.integer('term_days').nullable();
        t.boolean('auto_renew').notNullable().defaultTo(false);
        t.integer('named_users').nullable();
        t.integer('concurrent_sessions').nullable();
        t.bigInteger('storage_bytes').nullable();
        t.bigInteger('api_calls_per_period').nullable();
        t.string('api_call_period', 8).notNullable().defaultTo('MONTH');
        t.string('overage_policy', 16).notNullable().defaultTo('NONE');
        t.integer('overage_percent').nullable();
        t.integer('lease_ttl_seconds').notNullable().defaultTo(600);
        t.jsonb('site_domains').notNullable();
        t.jsonb('site_cidrs').notNullable();
        ts(t, 'created_at').notNullable();
        ts(t, 'updated_at').notNullable();
        t.index(['organization_id', 'id']);
      }),
      knex.schema.createTable('license_feature', (t) => {
        ref(t, 'license_id', 'license').onDelete('cascade');
        ref(t, 'feature_id', 'feature');
        t.primary(['license_id', 'feature_id']);
      }),
      knex.schema.createTable('seat', (t) => {
        id(t);
        ref(t, 'license_id', 'license');
        ref(t, 'organization_id', 'organization');
        t.string('user_id', 320).notNullable();
        ts(t, 'assigned_at').notNullable();
        ts(t, 'released_at').nullable();
        ts(t, 'last_seen_at').nullable();
        t.index(['license_id', 'released_at']);
      }),
      knex.schema.createTable('lease', (t) => {
        id(t);
        ref(t, 'license_id', 'license');
        ref(t, 'organization_id', 'organization');
        t.string('fingerprint', 200).notNullable();
        t.string('user_id', 320).nullable();
        ts(t, 'checked_out_at').notNullable();
        ts(t, 'last_heartbeat_at').notNullable();
        ts(t, 'expires_at').notNullable();
        ts(t, 'released_at').nullable();
        t.string('release_reason', 20).nullable();
        t.index(['license_id', 'released_at']);
        t.index(['released_at', 'expires_at']);
      }),
      knex.schema.createTable('api_token', (t) => {
        id(t);
        t.string('organization_id', 36).nullable().references('id').inTable('organization');
        t.string('role', 20).notNullable();
        t.string('name', 200).notNullable();
        t.string('token_digest', 64).notNullable().unique();
        t.string('token_hint', 8).notNullable();
        ts(t, 'created_at').notNullable();
        ts(t, 'revoked_at').nullable();
      }),
      knex.schema.createTable('audit_event', (t) => {
        id(t);
        t.string('organization_id', 36).nullable();
        t.string('actor_type', 20).notNullable();
        t.string('actor_id', 36).nullable();
        t.string('actor_label', 200).notNullable();
        t.string('action', 60).notNullable();
        t.string('object_type', 40).notNullable();
        t.string('object_id', 36).notNullable();
        t.jsonb('before').nullable();
        t.jsonb('after').nullable();
        t.string('request_id', 64).nullable();
        ts(t, 'occurred_at').notNullable();
        t.index(['organization_id', 'id']);
        t.index(['object_id']);
        t.index(['actor_id']);
      }),
    ];
    for (const table of tables) {
      for (const statement of table.toSQL()) this.addSql(statement.sql);
    }
    // At most one live named seat per user and one live lease per fingerprint: the database itself refuses a
    // second one, whatever a caller races.
    this.addSql('create unique index seat_live_user_unique on seat (license_id, user_id) where released_at is null');
    this.addSql('create unique index lease_live_fingerprint_unique on lease (license_id, fingerprint) where released_at is null');
  }
}
