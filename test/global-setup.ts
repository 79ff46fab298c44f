/** Says once, at the top of a run, which databases (and Redis) the tests run on. */
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
  if (url && process.env.TEST_REDIS_URL?.trim()) {
    console.log('Scale-out tests run a second instance on PostgreSQL and Redis (TEST_REDIS_URL).');
  } else {
    console.log('Scale-out tests are skipped: they need TEST_DATABASE_URL and TEST_REDIS_URL (e.g. redis://127.0.0.1:6379).');
  }
}
