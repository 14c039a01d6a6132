/**
 * `npm run bench [-- --runs 10000 --seconds 5 --warmup 1 --memory-seconds 60 --profile --only list,count
 * --keep --database URL]`: throughput of the API against a raw-SQL baseline, in one run on one machine. A demo
 * data set of `--runs` runs is seeded and a heavy user (at most 1% of all runs) signed in with a real token.
 * For each of the five query patterns (and the fixed cost of a request): answers compared between the baseline
 * and the API, then req/s, p50 and p99 at 1 and 16 connections (autocannon), the ratio to the baseline, SQL
 * statements per request (counted) and the server's CPU per request; then the server's memory, idle and after
 * `--memory-seconds` of load at 16 connections. The API runs compiled, in production mode, in its own process.
 * Prints the tables and writes them to bench/results/. Uses BENCH_DATABASE_URL's server, else a temporary
 * embedded PostgreSQL; `--keep` leaves the seeded database there and `--database` measures it again (say,
 * before and after a migration). Never part of `npm test`: numbers depend on the machine; compare ratios
 * within one run.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { commandLine } from '../src/args';
import { ConfigError, loadConfig, PROJECT_ROOT } from '../src/config';
import { withClient } from '../src/db/admin';
import { seedDemoData } from '../src/tooling/seed';
import { runCli } from './cli';
import { ask, load, startBaseline, startPostGraphile, type Cell, type Target } from './bench/measure';
import { benchPatterns, FIXED_COST, type BenchUser, type Pattern, type PeerScope } from './bench/patterns';
import { installRowLevelSecurity } from './bench/row-level-security';
import { phasesOfNewestProfile, summariseNewestProfile } from './bench/profile';
import { measureStatementCost, STATEMENT_COST_ROUNDS } from './bench/statement-cost';
import { measureVariants, prepareRevision, renderVariants, startOtlpSink, writeManifest, type Variant } from './bench/variants';
import {
  build,
  createSessionKey,
  openScratchDatabase,
  SCRATCH_ISSUER,
  SCRATCH_ORIGIN,
  startServerProcess,
  table,
  type ServerProcess,
} from './support/scratch';

const { values } = commandLine({
  usage:
    'npm run bench [-- --runs 10000 --seconds 5 --warmup 1 --memory-seconds 60 --profile --only list,count --keep --database URL --variants --versus REV --peer postgraphile,postgraphile-rls --statement-cost]',
  help: `Throughput of the API (compiled, production mode, its own process) against a raw-SQL baseline, in one run: the
design's five query patterns and the fixed cost of a request, at 1 and 16 connections. Tables go to bench/results/.
  --runs N             demo runs to seed (default 10000)
  --seconds N          per cell (default 5), after --warmup N seconds (default 1)
  --memory-seconds N   load at 16 connections before reading the server's memory (default 60)
  --profile            a CPU profile of the API, summarised by package
  --only a,b           only the patterns whose names start with these words
  --keep               keep the seeded database (on BENCH_DATABASE_URL's server)
  --database URL       measure this seeded database instead
  --peer NAMES         also measure peers on the same database, answers checked: postgraphile (PostGraphile 5,
                       amber preset, no auth), postgraphile-rls (the same with a verified JWT and row-level
                       security, as PostGraphile documents per-user data), or both, comma-separated
  --statement-cost     also measure one statement's CPU in the sending process: Prisma, node-postgres, $queryRaw
  --variants           also measure, side by side: the same requests from a browser page (an allowed Origin),
                       documents by id to a trusted-documents server, tracing on (exported to a local OTLP
                       sink), and with --versus REV that commit's build (as a server and as a browser)
  --versus REV         without --variants: only this build and that commit's, side by side`,
  options: {
    runs: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    'memory-seconds': { type: 'string', default: '60' },
    /** Run the measured server under `node --cpu-prof` and summarise where its CPU went. */
    profile: { type: 'boolean', default: false },
    /** Only these patterns (names' first words, comma-separated), for a focused profile. */
    only: { type: 'string' },
    /** Keep the seeded scratch database (on BENCH_DATABASE_URL's server) and print its URL. */
    keep: { type: 'boolean', default: false },
    /** Measure this already seeded and migrated database instead of seeding one (`--runs` then only labels). */
    database: { type: 'string' },
    /** Delivery settings side by side: trusted documents, tracing, another commit (scripts/bench/variants.ts). */
    variants: { type: 'boolean', default: false },
    versus: { type: 'string' },
    /** The peers a team would deploy instead, measured in the same run (scripts/bench/postgraphile-server.ts). */
    peer: { type: 'string' },
    /** The client libraries' own CPU per statement (scripts/bench/statement-cost.ts). */
    'statement-cost': { type: 'boolean', default: false },
  },
});
const RUNS = Number(values.runs);
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const MEMORY_SECONDS = Number(values['memory-seconds']);
const CONNECTIONS = [1, 16] as const;
const PROFILES = path.join(PROJECT_ROOT, 'bench', 'profiles');

/**
 * A heavy user: the one with the most runs among those holding at most 1% of all runs (about 100 runs of
 * 10,000, 10,000 of 1,000,000). The demo set's very busiest user holds 10% of everything, which would turn
 * every exact count into a scan of 100,000 rows at scale and measure that instead of the API.
 */
async function heavyUser(url: string): Promise<BenchUser> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<BenchUser>(`
      WITH per_user AS (SELECT "userId", count(*)::int AS runs FROM "Run" GROUP BY "userId"),
           heavy AS (SELECT * FROM per_user WHERE runs <= (SELECT sum(runs) FROM per_user) / 100 ORDER BY runs DESC LIMIT 1)
      SELECT u.id, u."clerkId", h.runs,
        (SELECT id FROM "Run" WHERE "userId" = u.id AND status = 'COMPLETED' ORDER BY "createdAt" DESC LIMIT 1) AS "runId",
        (SELECT "companyId" FROM "Run" WHERE "userId" = u.id GROUP BY "companyId" ORDER BY count(*) DESC LIMIT 1) AS "companyId"
      FROM heavy h JOIN "User" u ON u.id = h."userId"`);
    return rows[0]!;
  });
}

type Measured = Map<string, { cells: Record<number, Cell>; statements: number }>;

async function measureAll(target: Target, patterns: Pattern[], statementsOf: (pattern: Pattern) => Promise<number>): Promise<Measured> {
  const measured: Measured = new Map();
  for (const pattern of patterns) {
    const statements = await statementsOf(pattern);
    const cells: Record<number, Cell> = {};
    for (const connections of CONNECTIONS) cells[connections] = await load(target, pattern, connections, SECONDS, WARMUP);
    measured.set(pattern.name, { cells, statements });
    process.stdout.write(`  ${pattern.name}: ${CONNECTIONS.map((c) => `${cells[c]!.rps.toFixed(0)} req/s at ${c}`).join(', ')}\n`);
  }
  return measured;
}

/** Statements the API's server sent for one request, counted from its query log (LOG_QUERIES=1). */
async function countApiStatements(server: ServerProcess, target: Target, pattern: Pattern): Promise<number> {
  await ask(target, pattern); // the first request of a user also reads the user
  const before = server.output().split('"msg":"query"').length;
  const samples = 20;
  for (let i = 0; i < samples; i++) await ask(target, pattern);
  await new Promise((resolve) => setTimeout(resolve, 50));
  return (server.output().split('"msg":"query"').length - before) / samples;
}

async function compareAnswers(patterns: Pattern[], baseline: Target, api: Target): Promise<void> {
  for (const pattern of patterns) {
    const [expected, actual] = await Promise.all([ask(baseline, pattern), ask(api, pattern)]);
    if (!isDeepStrictEqual(expected.body, actual.body)) {
      throw new Error(
        `${pattern.name}: the API's answer differs from the baseline's\nbaseline: ${JSON.stringify(expected.body).slice(0, 500)}\napi:      ${JSON.stringify(actual.body).slice(0, 500)}`,
      );
    }
  }
}

/** The peers `--peer` can name: PostGraphile without authentication, and PostGraphile as documented for per-user data. */
const PEERS: Record<string, { scope: PeerScope; label: string; description: string }> = {
  postgraphile: {
    scope: 'condition',
    label: 'PostGraphile',
    description: 'PostGraphile 5 (amber preset, grafserv on node:http, no authentication, the user as a condition argument)',
  },
  'postgraphile-rls': {
    scope: 'rls',
    label: 'PostGraphile+JWT+RLS',
    description:
      'PostGraphile 5 with JWT and row-level security (the same token verified per request with jose, issuer and azp checked; ' +
      '`pgSettings` role and jwt.claims.sub; a policy per table read; no user in the queries)',
  },
};

/** The session a peer is asked with (the `rls` one verifies the same token the API gets). */
interface PeerAuth {
  token: string;
  publicKeyPem: string;
}

/**
 * A peer (`--peer`): each pattern as PostGraphile's own query, its answer in the API's shape checked equal to the
 * baseline's first, then timed like the others.
 */
async function measurePeer(url: string, name: string, patterns: Pattern[], baseline: Target, auth: PeerAuth): Promise<Measured> {
  const { scope } = PEERS[name]!;
  const security = scope === 'rls' ? await installRowLevelSecurity(url) : undefined;
  try {
    return await measureStartedPeer(url, name, patterns, baseline, auth, security?.role);
  } finally {
    await security?.remove();
  }
}

async function measureStartedPeer(
  url: string,
  name: string,
  patterns: Pattern[],
  baseline: Target,
  auth: PeerAuth,
  role: string | undefined,
): Promise<Measured> {
  const { scope } = PEERS[name]!;
  const peer = await startPostGraphile(
    url,
    4000 + Math.floor(Math.random() * 20000),
    // `=`: the key's PEM starts with dashes.
    role ? [`--role=${role}`, `--jwt-key=${auth.publicKeyPem}`, `--issuer=${SCRATCH_ISSUER}`, `--azp=${SCRATCH_ORIGIN}`] : [],
  );
  try {
    const headers: Record<string, string> = role ? { authorization: `Bearer ${auth.token}` } : {};
    const target: Target = { url: peer.url, pid: peer.pid, headers };
    if (role) await expectRefused(target);
    const asked = patterns.map((pattern) => ({ ...pattern, ...pattern.peer!(scope) }));
    for (const [i, pattern] of patterns.entries()) {
      const question = asked[i]!;
      const [expected, actual] = await Promise.all([ask(baseline, pattern), ask(target, question)]);
      const shaped = actual.body.data === undefined ? actual.body : { data: question.asApi(actual.body.data) };
      if (!isDeepStrictEqual(expected.body, shaped)) {
        throw new Error(
          `${pattern.name}: ${name}'s answer differs from the baseline's\nbaseline: ${JSON.stringify(expected.body).slice(0, 500)}\npeer:     ${JSON.stringify(shaped).slice(0, 500)}`,
        );
      }
    }
    // The peer's queries keep their pattern's name: the table finds them as the others.
    return await measureAll(target, asked, () => Promise.resolve(NaN));
  } finally {
    await peer.stop();
  }
}

/** The authenticating peer answers a request without a valid token with a 401, reading nothing. */
async function expectRefused(target: Target): Promise<void> {
  for (const authorization of [undefined, 'Bearer not-a-token']) {
    const res = await fetch(`${target.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: JSON.stringify({ query: '{ allRuns { totalCount } }' }),
    });
    if (res.status !== 401)
      throw new Error(`postgraphile-rls answered ${res.status} to a request ${authorization ? 'with a bad token' : 'without a token'}`);
  }
}

/**
 * This API as production configures it: trusted documents only (sent by id), tracing on (every request sampled,
 * exported to a local OTLP sink), the rate limiter claiming a permit per request (a budget it never reaches).
 * Its mean req/s per cell over two rounds.
 */
async function measureAsProduction(
  url: string,
  token: string,
  publicKeyPem: string,
  patterns: Pattern[],
): Promise<(name: string, c: number) => number> {
  const [manifest, sink] = await Promise.all([writeManifest(patterns), startOtlpSink()]);
  try {
    const variant: Variant = {
      label: 'as production',
      env: { TRUSTED_DOCUMENTS: manifest.file, ALLOW_ARBITRARY_DOCUMENTS: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint },
      root: PROJECT_ROOT,
      byId: true,
    };
    const sums = await measureVariants([variant], patterns, {
      env: apiEnvironment(url, publicKeyPem),
      headers: { authorization: `Bearer ${token}` },
      connections: CONNECTIONS,
      seconds: SECONDS,
      warmup: WARMUP,
    });
    return (name, c) => {
      const sum = sums.get(`0|${name}|${c}`)!;
      return sum.rps / sum.rounds;
    };
  } finally {
    await Promise.all([manifest.remove(), sink.close()]);
  }
}

/**
 * A server's own CPU (user + system, from /proc) per request of a cell, in ms: the share of the machine's two
 * cores it leaves to PostgreSQL and the load generator.
 */
const cpu = (cell: Cell) => cell.cpuPerRequest?.toFixed(2) ?? 'n/a';

/** The geometric mean of ratios (the mean a ratio table's rows and columns compose into). */
const geometricMean = (ratios: number[]) => Math.exp(ratios.reduce((sum, r) => sum + Math.log(r), 0) / ratios.length);

/** This API against a peer, cell by cell (req/s, ratio API / peer), as measured and as production configures it. */
function renderPeer(
  name: string,
  patterns: Pattern[],
  peer: Measured,
  api: ApiResults,
  asProduction: (name: string, c: number) => number,
): string {
  const { label, description } = PEERS[name]!;
  const rows = patterns.map((pattern) => {
    const p = peer.get(pattern.name)!;
    const a = api.measured.get(pattern.name)!;
    return [
      pattern.name,
      ...CONNECTIONS.flatMap((c) => {
        const production = asProduction(pattern.name, c);
        return [
          p.cells[c]!.rps.toFixed(0),
          a.cells[c]!.rps.toFixed(0),
          (a.cells[c]!.rps / p.cells[c]!.rps).toFixed(2),
          production.toFixed(0),
          (production / p.cells[c]!.rps).toFixed(2),
        ];
      }),
      CONNECTIONS.map((c) => `${p.cells[c]!.p50.toFixed(1)} / ${a.cells[c]!.p50.toFixed(1)}`).join(', '),
      CONNECTIONS.map((c) => cpu(p.cells[c]!)).join(' / '),
      CONNECTIONS.map((c) => cpu(a.cells[c]!)).join(' / '),
      String(CONNECTIONS.reduce((sum, c) => sum + p.cells[c]!.failures, 0)),
    ];
  });
  const header = [
    'Pattern',
    ...CONNECTIONS.flatMap((c) => [
      `${label} req/s c=${c}`,
      `API req/s c=${c}`,
      `API / peer c=${c}`,
      `API as production req/s c=${c}`,
      `as production / peer c=${c}`,
    ]),
    `p50 ms peer / API c=${CONNECTIONS.join(', c=')}`,
    `${label} CPU ms/req c=${CONNECTIONS.join(' / ')}`,
    `API CPU ms/req c=${CONNECTIONS.join(' / ')}`,
    `${label} failed`,
  ];
  // The query patterns' cells (the fixed cost is a diagnosis, not a pattern a page asks).
  const cells = patterns
    .filter((pattern) => pattern.name !== FIXED_COST.name)
    .flatMap((pattern) => CONNECTIONS.map((c) => ({ pattern, c })));
  const ratios = cells.map(({ pattern, c }) => api.measured.get(pattern.name)!.cells[c]!.rps / peer.get(pattern.name)!.cells[c]!.rps);
  const ahead = ratios.filter((r) => r > 1).length;
  return (
    `\nAgainst ${description}; its answers, reshaped, compared equal to the baseline's before timing. "As production": ` +
    `trusted documents by id, tracing on and exported, the rate limiter claiming a permit per request (mean of two rounds):\n\n` +
    `${table(header, rows)}\n\nAPI / ${label}: geometric mean ${geometricMean(ratios).toFixed(2)} over the ${ratios.length} query cells; ` +
    `ahead on ${ahead} of ${ratios.length}.\n`
  );
}

async function measureBaseline(
  url: string,
  user: BenchUser,
  patterns: Pattern[],
): Promise<{ target: Target; measured: Measured; stop: () => Promise<void> }> {
  const baseline = await startBaseline(url, 4000 + Math.floor(Math.random() * 20000), user);
  const target = { url: baseline.url, pid: baseline.pid, headers: {} };
  const measured = await measureAll(target, patterns, async (pattern) =>
    Number((await ask(target, pattern)).headers.get('x-sql-statements')),
  );
  return { target, measured, stop: () => baseline.stop() };
}

const apiEnvironment = (url: string, publicKeyPem: string) => ({
  DATABASE_URL: url,
  CLERK_JWT_KEY: publicKeyPem,
  // One user sends everything: a budget it never reaches keeps the limiter's own cost in the measurement.
  RATE_LIMIT_REQUESTS_PER_MINUTE: '1000000000',
});

interface ApiResults {
  measured: Measured;
  /** Requests the measured server answered, warm-ups and the memory load included. */
  served: number;
  rss: { idle?: number; afterCells?: number; afterLoad?: number };
}

async function measureApi(url: string, token: string, publicKeyPem: string, patterns: Pattern[], baseline: Target): Promise<ApiResults> {
  const headers = { authorization: `Bearer ${token}` };
  // A first server logs its queries, to count them and check its answers; the measured one logs nothing.
  const counting = await startServerProcess({ ...apiEnvironment(url, publicKeyPem), LOG_QUERIES: '1', LOG_LEVEL: 'info' });
  const counts = new Map<string, number>();
  try {
    const target = { url: counting.url, pid: counting.pid, headers };
    await compareAnswers(patterns, baseline, target);
    for (const pattern of patterns) counts.set(pattern.name, await countApiStatements(counting, target, pattern));
  } finally {
    await counting.stop();
  }
  const server = await startServerProcess(
    apiEnvironment(url, publicKeyPem),
    values.profile ? ['--cpu-prof', `--cpu-prof-dir=${PROFILES}`] : [],
  );
  try {
    const target = { url: server.url, pid: server.pid, headers };
    const rss: ApiResults['rss'] = { idle: server.rss() };
    const measured = await measureAll(target, patterns, (pattern) => Promise.resolve(counts.get(pattern.name) ?? NaN));
    let served = [...measured.values()].reduce((sum, { cells }) => sum + CONNECTIONS.reduce((n, c) => n + cells[c]!.served, 0), 0);
    rss.afterCells = server.rss();
    if (MEMORY_SECONDS > 0) {
      // The memory a production server holds after sustained load: every pattern at once, 16 connections.
      const share = (i: number) => Math.floor(16 / patterns.length) + (i < 16 % patterns.length ? 1 : 0);
      const loads = await Promise.all(patterns.map((pattern, i) => load(target, pattern, share(i), MEMORY_SECONDS, 0)));
      served += loads.reduce((sum, cell) => sum + cell.served, 0);
      rss.afterLoad = server.rss();
    }
    return { measured, served, rss };
  } finally {
    await server.stop();
  }
}

function render(patterns: Pattern[], baseline: Measured, api: ApiResults, context: string): string {
  const ms = (n: number) => `${n.toFixed(1)}`;
  const ratio = (a: number, b: number) => (b ? (a / b).toFixed(2) : 'n/a');
  const rows = patterns.map((pattern) => {
    const b = baseline.get(pattern.name)!;
    const a = api.measured.get(pattern.name)!;
    return [
      pattern.name,
      ...CONNECTIONS.flatMap((c) => [
        `${b.cells[c]!.rps.toFixed(0)}`,
        `${a.cells[c]!.rps.toFixed(0)}`,
        ratio(a.cells[c]!.rps, b.cells[c]!.rps),
      ]),
      ...CONNECTIONS.map((c) => `${ms(a.cells[c]!.p50)} / ${ms(a.cells[c]!.p99)} (${ms(b.cells[c]!.p50)} / ${ms(b.cells[c]!.p99)})`),
      `${a.statements} (${b.statements})`,
      cpu(a.cells[1]!),
      String(CONNECTIONS.reduce((sum, c) => sum + a.cells[c]!.failures + b.cells[c]!.failures, 0)),
    ];
  });
  const header = [
    'Pattern',
    ...CONNECTIONS.flatMap((c) => [`baseline req/s c=${c}`, `API req/s c=${c}`, `ratio c=${c}`]),
    ...CONNECTIONS.map((c) => `API p50 / p99 ms c=${c} (baseline)`),
    'SQL statements API (baseline)',
    'API CPU ms/req',
    'failed requests',
  ];
  const mb = (bytes: number | undefined) => (bytes === undefined ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(0)} MB`);
  const memory = `Server RSS: idle ${mb(api.rss.idle)}, after the cells above ${mb(api.rss.afterCells)}, after ${MEMORY_SECONDS} s more at 16 connections ${mb(api.rss.afterLoad)}.`;
  return `${context}\n\n${table(header, rows)}\n\n${memory}\n`;
}

/** The variants table: this build as measured above first, then the delivery settings (and `--versus`). */
async function variantsReport(url: string, token: string, publicKeyPem: string, patterns: Pattern[]): Promise<string> {
  const [manifest, sink] = await Promise.all([writeManifest(patterns), startOtlpSink()]);
  const revision = values.versus ? prepareRevision(values.versus) : undefined;
  try {
    // A browser page on another origin: an Origin header the server's CORS_ORIGINS allows.
    const browser = { env: { CORS_ORIGINS: SCRATCH_ORIGIN }, headers: { origin: SCRATCH_ORIGIN } };
    const thisBuild: Variant = { label: 'this build: text, tracing off', env: {}, root: PROJECT_ROOT, byId: false };
    // `--versus` alone: this build against that commit's, nothing else.
    const delivery = values.variants ? undefined : [];
    const variants: Variant[] = [
      thisBuild,
      ...(delivery ?? [{ label: 'this build, from a browser page', ...browser, root: PROJECT_ROOT, byId: false }]),
      ...(delivery ?? [
        {
          label: 'trusted documents, by id',
          env: { TRUSTED_DOCUMENTS: manifest.file, ALLOW_ARBITRARY_DOCUMENTS: 'false' },
          root: PROJECT_ROOT,
          byId: true,
        },
        { label: 'tracing on (all sampled)', env: { OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint }, root: PROJECT_ROOT, byId: false },
      ]),
      ...(revision
        ? [
            { label: `${revision.label}: text`, env: {}, root: revision.root, byId: false },
            ...(delivery ?? [{ label: `${revision.label}, from a browser page`, ...browser, root: revision.root, byId: false }]),
          ]
        : []),
    ];
    const sums = await measureVariants(variants, patterns, {
      env: apiEnvironment(url, publicKeyPem),
      headers: { authorization: `Bearer ${token}` },
      connections: CONNECTIONS,
      seconds: SECONDS,
      warmup: WARMUP,
    });
    const drift = revision?.drift.length ? ` Packages at other versions in ${revision.label}'s lock: ${revision.drift.join(', ')}.` : '';
    return (
      `\nDelivery settings side by side (one server each, cells alternated forwards then backwards, means of the two; ` +
      `the tracing server exported ${sink.spans().toLocaleString('en')} spans).${drift}\n\n` +
      `${renderVariants(variants, patterns, CONNECTIONS, sums)}\n`
    );
  } finally {
    revision?.remove();
    await Promise.all([manifest.remove(), sink.close()]);
  }
}

/** The database to measure: a new scratch one, seeded; or (`--database`) one a previous `--keep` run left. */
async function benchDatabase(): Promise<{ url: string; serverVersion: string; seeded: string; done: () => Promise<void> }> {
  if (values.database) {
    const serverVersion = await withClient(
      values.database,
      async (c) => (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v,
    );
    return { url: values.database, serverVersion, seeded: 'reused', done: () => Promise.resolve() };
  }
  const scratch = await openScratchDatabase(loadConfig().scratchServers.bench, 'bench');
  const started = Date.now();
  await seedDemoData(scratch.url, RUNS, (done, total) => process.stdout.write(`\rseeding ${done}/${total} runs`));
  // What autovacuum does to a table that has settled: statistics, and the visibility map that lets counts
  // read only the index. Measuring straight after a bulk load would measure the load instead.
  await withClient(scratch.url, (client) => client.query('VACUUM ANALYZE'));
  const seeded = `seeded in ${((Date.now() - started) / 1000).toFixed(0)} s, then VACUUM ANALYZE`;
  if (values.keep) process.stdout.write(`\nkept for --database: ${scratch.url}\n`);
  return { url: scratch.url, serverVersion: scratch.serverVersion, seeded, done: () => (values.keep ? Promise.resolve() : scratch.drop()) };
}

async function main(): Promise<void> {
  const peers = values.peer?.split(',').map((name) => name.trim()) ?? [];
  const unknown = peers.find((name) => !(name in PEERS));
  if (unknown !== undefined) throw new ConfigError(`--peer takes ${Object.keys(PEERS).join(', ')} (got "${unknown}")`);
  build();
  const database = await benchDatabase();
  try {
    const user = await heavyUser(database.url);
    const key = await createSessionKey();
    const token = await key.sign(user.clerkId, 6 * 3600);
    const only = values.only?.split(',').map((word) => word.trim().toLowerCase());
    const patterns = [...benchPatterns(user), FIXED_COST].filter(
      (p) => !only || only.some((word) => p.name.toLowerCase().startsWith(word)),
    );
    process.stdout.write(`\nbaseline (pg + node:http):\n`);
    const baseline = await measureBaseline(database.url, user, patterns);
    const measuredPeers = new Map<string, Measured>();
    for (const name of peers) {
      process.stdout.write(`${PEERS[name]!.label}:\n`);
      measuredPeers.set(name, await measurePeer(database.url, name, patterns, baseline.target, { token, publicKeyPem: key.publicKeyPem }));
    }
    process.stdout.write('API (production server process):\n');
    const api = await measureApi(database.url, token, key.publicKeyPem, patterns, baseline.target).finally(() => baseline.stop());
    const machine = `${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`;
    const context =
      `## ${new Date().toISOString().slice(0, 10)}: ${RUNS.toLocaleString('en')} runs (${database.seeded}), ` +
      `a heavy user (at most 1% of all runs) with ${user.runs} runs\n\n${machine}; PostgreSQL ${database.serverVersion}; Node ${process.version}; ` +
      `autocannon ${WARMUP} s warm-up + ${SECONDS} s per cell; answers of the API and the baseline compared equal before timing.`;
    let report = render(patterns, baseline.measured, api, context);
    if (measuredPeers.size) {
      const asProduction = await measureAsProduction(database.url, token, key.publicKeyPem, patterns);
      for (const [name, peer] of measuredPeers) report += renderPeer(name, patterns, peer, api, asProduction);
    }
    if (values.profile) {
      const { file, rows } = await summariseNewestProfile(PROFILES);
      report += `\nWhere the API server's CPU went (self time of its busy time, ${path.relative(PROJECT_ROOT, file)}):\n\n${table(['Package or folder', 'Self time'], rows)}\n`;
      const phases = await phasesOfNewestProfile(PROFILES, api.served);
      report += `\nThe same profile by phase of the request path, over the ${api.served.toLocaleString('en')} requests it answered (sampled busy time of the main thread, start-up excluded):\n\n${table(['Phase', 'µs per request', 'Share'], phases.rows)}\n`;
    }
    if (values.variants || values.versus) report += await variantsReport(database.url, token, key.publicKeyPem, patterns);
    if (values['statement-cost']) {
      const rows = await measureStatementCost(database.url, user);
      report +=
        `\nWhat one statement costs the process sending it: µs of its CPU per call, calls one after the other, ` +
        `mean of ${STATEMENT_COST_ROUNDS} alternated rounds (scripts/bench/statement-cost.ts):\n\n${table(['Question', 'Client', 'CPU µs per call', 'vs node-postgres'], rows)}\n`;
    }
    console.log(`\n${report}`);
    const file = path.join(PROJECT_ROOT, 'bench', 'results', `${new Date().toISOString().slice(0, 10)}-runs-${RUNS}.md`);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, report);
    console.log(`written to ${path.relative(PROJECT_ROOT, file)}`);
  } finally {
    await database.done();
  }
}

runCli(main);
