import { existsSync, readdirSync } from 'node:fs';

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
  const redis = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].some((path) => existsSync(path));
  const postgres =
    existsSync('/usr/lib/postgresql') && readdirSync('/usr/lib/postgresql').some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`));
  console.log(
    `Fault tests: ${redis && url ? 'Redis outage on a redis-server of their own' : 'Redis outage skipped (needs redis-server and TEST_DATABASE_URL)'}; ` +
      `${postgres ? 'database outage on a PostgreSQL cluster of their own' : 'database outage skipped (needs the PostgreSQL server package, initdb)'}.`,
  );
}
