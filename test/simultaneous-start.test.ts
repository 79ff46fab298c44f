import { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import { createTestDatabase, POSTGRES_URL } from './support/databases';
import { instanceEnv, spawnInstance, until } from './support/processes';

const ROUNDS = 5;
const INSTANCES = 3;

describe.skipIf(!POSTGRES_URL)('instances starting together on an empty PostgreSQL database (TEST_DATABASE_URL)', () => {
  it(`all come up, ${ROUNDS} rounds of ${INSTANCES}, with one bootstrap token each time`, async () => {
    const figures: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const database = await createTestDatabase('postgresql');
      if (database.config.driver !== 'postgresql') throw new Error('expected PostgreSQL');
      const url = database.config.url;
      const runs = Array.from({ length: INSTANCES }, () => spawnInstance(instanceEnv(url, undefined, { LOG_LEVEL: 'info' })));
      try {
        // The token, if any, is printed in the same write as the URL.
        const serving = (run: (typeof runs)[number]) => /serving \S+/.test(run.stdout());
        await until(() => runs.every((run) => serving(run) || !run.alive()), 60_000, 'every instance to serve or end');
        const exits = runs.filter((run) => !run.alive()).map((run) => run.stderr().trim());
        expect(exits).toEqual([]);
        const printed = runs.flatMap((run) => run.stdout().match(/alm_[A-Za-z0-9_-]{43}/g) ?? []);
        expect(printed).toHaveLength(1);
        const client = new Client({ connectionString: url });
        await client.connect();
        try {
          const tokens = await client.query('select role from api_token');
          expect(tokens.rows).toEqual([{ role: 'PLATFORM_ADMIN' }]);
        } finally {
          await client.end();
        }
        const waited = runs.filter((run) => run.stdout().includes('another instance is migrating')).length;
        figures.push(`round ${round}: ${INSTANCES} up, 1 token, ${waited} waited for another's migrations`);
        const codes = await Promise.all(runs.map((run) => run.stop()));
        expect(codes).toEqual(Array(INSTANCES).fill(0));
      } finally {
        await Promise.all(runs.map((run) => run.stop()));
        await database.drop();
      }
    }
    console.log(figures.join('\n'));
  }, 240_000);
});
