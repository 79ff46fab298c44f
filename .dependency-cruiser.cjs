/**
 * The direction of imports between the areas of src/, written once: each area may import the areas listed before
 * it, never one listed after it, so the areas form a graph without cycles. `npm run deps` checks it (CI runs it).
 *
 * - errors, config, logger: what everything may use.
 * - db: connections, transactions, ids. auth: principals, roles, secrets.
 * - kernel: the licensing vocabulary and its pure rules (license types, metrics, overage decisions, breaches).
 * - common: operations, pagination, loaders, events.
 * - the modules, each above those it asks things of (a module below tells one above through a port it owns).
 * - server: the composition root, HTTP and WebSocket, jobs; cli and main start it.
 */
const FLOORS = [
  'errors',
  'config',
  'logger',
  'db',
  'auth',
  'kernel',
  'common',
  'modules/audit',
  'modules/organization',
  'modules/token',
  'modules/catalog',
  'modules/license',
  'modules/usage',
  'modules/seat',
  'modules/certificate',
  'modules/compliance',
  'modules/alert',
  'modules/migration',
  'modules/report',
  'modules/diagnostics',
  'server',
  'cli',
  'main',
];

/** The path pattern of an area: a folder of src/ (or of src/modules/), or a file of src/. */
const area = (name) => `^src/${name}(/|\\.ts$)`;

module.exports = {
  forbidden: [
    ...FLOORS.slice(0, -1).map((name, floor) => ({
      name: `floor-${name.replace('/', '-')}`,
      comment: `${name} may import only the areas below it: ${FLOORS.slice(0, floor).join(', ') || 'none'}.`,
      severity: 'error',
      from: { path: area(name) },
      to: { path: FLOORS.slice(floor + 1).map(area) },
    })),
    {
      name: 'known-area',
      comment: 'Every file of src/ belongs to an area listed in FLOORS.',
      severity: 'error',
      from: { path: '^src/', pathNot: FLOORS.map(area) },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    includeOnly: '^src/',
    // Type-only imports count: a cycle of types is a cycle of meaning.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
