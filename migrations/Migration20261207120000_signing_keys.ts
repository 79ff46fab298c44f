import { Migration } from '@mikro-orm/migrations';

/** The key pairs license certificates are signed with: the public half as a JWK, the private half sealed. */
export class Migration20261207120000_signing_keys extends Migration {
  override async up(): Promise<void> {
    const table = this.getKnex().schema.createTable('signing_key', (t) => {
      t.string('kid', 32).primary();
      t.string('algorithm', 16).notNullable();
      t.text('public_jwk').notNullable();
      t.text('sealed_private_key').notNullable();
      t.timestamp('created_at', { useTz: true, precision: 3 }).notNullable();
      t.timestamp('retired_at', { useTz: true, precision: 3 }).nullable();
      t.timestamp('last_expires_at', { useTz: true, precision: 3 }).nullable();
    });
    for (const statement of table.toSQL()) this.addSql(statement.sql);
  }

  override async down(): Promise<void> {
    for (const statement of this.getKnex().schema.dropTable('signing_key').toSQL()) this.addSql(statement.sql);
  }
}
