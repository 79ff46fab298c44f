/**
 * Writes the SDL of the schema to schema/schema.graphql; with --check, fails when the committed file differs.
 */
import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { buildAppSchema } from '../src/server/schema';

async function main(): Promise<void> {
  const file = resolve(__dirname, '..', 'schema', 'schema.graphql');
  const sdl = `# Generated from the code by \`npm run schema\`; do not edit.\n\n${printSchema(lexicographicSortSchema(await buildAppSchema()))}\n`;
  if (process.argv.includes('--check')) {
    let committed = '';
    try {
      committed = readFileSync(file, 'utf8');
    } catch {
      // missing: stale
    }
    if (committed !== sdl) {
      process.stderr.write('schema/schema.graphql is stale: run `npm run schema` and commit the result.\n');
      process.exit(1);
    }
    process.stdout.write('schema/schema.graphql is current.\n');
    return;
  }
  writeFileSync(file, sdl);
  process.stdout.write(`wrote ${file}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : error}\n`);
  process.exit(1);
});
