/**
 * The layering, enforced (npm run lint:deps, and CI): imports only point down.
 *   src/main.ts, scripts/  →  src/server  →  src/schema  →  src/live  →  src/runs  →  src/auth  →  src/db  →  src/config.ts, src/logger.ts
 * prisma/seed.ts is an entry point like the scripts; examples/ are clients that import none of our code. No cycles.
 */
const layer = (name, path) => ({ name, path });
const LAYERS = [
  layer('config', '^src/(config|logger|spans)\\.ts$'),
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
    exclude: { path: '^(src|examples)/generated/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
