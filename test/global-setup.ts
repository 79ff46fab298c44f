/** Says once, at the top of a run, which databases the database-facing tests run on. */
export default function setup(): void {
  const url = process.env.TEST_DATABASE_URL?.trim();
  if (url) {
    const where = new URL(url);
    console.log(`Database tests run on SQLite and on PostgreSQL at ${where.host} (TEST_DATABASE_URL), each file in a database of its own.`);
  } else {
    console.log(
      'Database tests run on SQLite only; PostgreSQL tests are skipped: set TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres) to run them too.',
    );
  }
}
