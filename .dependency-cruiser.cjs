/**
 * The layering, enforced (npm run lint:deps, and CI): imports only point down.
 *   src/main.ts, scripts/  →  src/server  →  src/schema  →  src/live  →  src/runs  →  src/auth  →  src/db  →
 *   src/config/, src/logger.ts, src/errors.ts (and the other single files at the top of src/)
 * src/tooling/ (the embedded PostgreSQL, the seed, the migration engine, which database to use) serves the entry
 * points only: the server's code never imports it. prisma/seed.ts is an entry point like the scripts; examples/
 * are clients that import none of our code. No cycles.
 */
const layer = (name, path) => ({ name, path });
const LAYERS = [
  layer('config', '^src/(config/|(logger|spans|errors|selected-fields)\\.ts$)'),
  layer('db', '^src/db/'),
  layer('auth', '^src/auth/'),
  layer('runs', '^src/runs/'),
  layer('live', '^src/live/'),
  layer('schema', '^src/schema/'),
  layer('server', '^src/server/'),
];

/** A layer may import only the layers below it. */
const upward = LAYERS.flatMap((from, i) =>
  LAYERS.slice(i + 1).map((to) => ({
    name: `${from.name}-not-to-${to.name}`,
    comment: `src/${from.name} sits below src/${to.name}: it must not import it`,
    severity: 'error',
    from: { path: from.path },
    to: { path: to.path },
  })),
);

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'import cycles make start-up order and layering unclear',
      from: {},
      to: { circular: true },
    },
    ...upward,
    {
      name: 'tooling-for-entry-points-only',
      comment: 'development and administration tooling: npm start (src/main.ts), the scripts and the tests use it, the server never',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(tooling/|main\\.ts$)' },
      to: { path: '^src/tooling/' },
    },
    {
      name: 'tooling-below-the-server',
      comment: 'the tooling stands on the configuration, the database layer and auth, not on what the server is made of',
      severity: 'error',
      from: { path: '^src/tooling/' },
      to: { path: '^src/(live|runs|schema|server)/' },
    },
    {
      name: 'src-not-to-entry-points',
      comment: 'the application never imports its entry points (npm start, scripts, the seed entry, tests)',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(src/main\\.ts|scripts/|prisma/|tests/)' },
    },
    {
      name: 'scripts-not-to-tests',
      severity: 'error',
      from: { path: '^(scripts|prisma)/' },
      to: { path: '^tests/' },
    },
    {
      name: 'examples-stand-alone',
      comment: 'the client examples are what an app outside this repository writes: they use packages, not our code',
      severity: 'error',
      from: { path: '^examples/' },
      to: { path: '^(src|scripts|prisma|tests)/' },
    },
    { name: 'no-unresolvable', severity: 'error', from: {}, to: { couldNotResolve: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(src|examples|examples/web|examples/nextjs)/generated/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
