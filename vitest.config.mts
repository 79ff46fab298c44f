import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // One copy of graphql: without this, vite resolves the ESM and CJS builds separately
    // ("Cannot use GraphQLSchema from another module or realm").
    alias: { graphql: 'graphql/index.js' },
  },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // A worker runs its files one after another in one process, loading the server's modules once: isolated, every
    // file loaded them again (about 3 s a file, more than half of a run on two cores). The files share nothing but
    // the modules: each starts its own servers on databases of its own.
    isolate: false,
    // As many workers as cores: a file waits on sockets, processes and the database much of its time, and two
    // workers on two cores finished a run about a sixth sooner than one (vitest's default there), measured back to back.
    maxWorkers: '100%',
  },
});
