/**
 * `npm run soak [-- --seconds 30 --users 100 --concurrency 16 --subscriptions 200 --floods 8 --slow 400 --no-fault]`:
 * a bounded mixed load against a local production server (its own process, default limits): queries, mutations
 * and live subscriptions from many users, while a plain-SQL "pipeline" moves the watched runs to COMPLETED.
 * The run has three equal windows: quiet; under attack (`--floods` anonymous senders of a costly document and
 * `--slow` trickling connections, scripts/support/attackers.ts, from other addresses); and one in whose middle
 * every database backend is terminated (the pool's, the LISTEN connection, the pipeline's). With `--floods 0
 * --slow 0` there is no attack window and the fault comes half-way.
 * `--cluster [--rolling | --kill]`: the same load through the reference deployment (scripts/support/cluster.ts:
 * nginx, `--instances` production instances, PgBouncer) while every instance in turn is stopped with SIGTERM and
 * replaced as a deploy does, or one is killed with SIGKILL and started again; no attack, no database fault.
 * Prints requests, errors by code, latency, what the attackers got or what each restart took, server memory,
 * subscription reconnects, and whether any acknowledged row or any subscription's final state was lost (exit 1
 * if so). Uses SOAK_DATABASE_URL, else a temporary embedded PostgreSQL. Not part of `npm test`.
 */
import { commandLine, refuseArguments } from '../src/args';
import { createClient, type Client } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { withClient } from '../src/db/admin';
import { loadConfig } from '../src/config';
import { runCli } from './cli';
import { spawnAttack, type AttackOutcome } from './support/attackers';
import { startCluster, type Cluster } from './support/cluster';
import {
  build,
  createSessionKey,
  openScratchDatabase,
  percentiles,
  startServerProcess,
  table,
  type ScratchDatabase,
  type ServerProcess,
} from './support/scratch';

const USAGE =
  'npm run soak [-- --seconds 30 --users 100 --concurrency 16 --subscriptions 200 ' +
  '(--floods 8 --slow 400 --no-fault | --cluster --instances 3 --rolling|--kill) --get-queries]';
const { values } = commandLine({
  usage: USAGE,
  help: `A bounded mixed load against a production server in its own process, in three windows: quiet; under attack
(--floods anonymous senders of a costly document and --slow trickling connections, from other addresses); and
one in whose middle every database backend is terminated. Prints requests, errors, the signed-in latency of
each window, what the attackers got, memory, and whether anything acknowledged was lost (exit 1 if so).
  --seconds N        the whole run (default 30)
  --users N, --concurrency N, --subscriptions N   the signed-in load (defaults 100, 16, 200)
  --floods N, --slow N   the attack (defaults 8 and 400; both 0: no attack window)
  --no-fault         leave the database alone
  --cluster          through the reference deployment (nginx, PgBouncer, --instances production instances,
                     default 3) instead of one server, with a deploy instead of the attack and the fault:
  --rolling            every instance in turn gets SIGTERM and is replaced on its port, from a fifth of the run
  --kill               one instance is killed (SIGKILL) half-way and started again
  --get-queries      queries go as GET (mutations stay POST), as Apollo's useGETForQueries or urql's preferGetMethod`,
  options: {
    seconds: { type: 'string', default: '30' },
    users: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '16' },
    subscriptions: { type: 'string', default: '200' },
    floods: { type: 'string' },
    slow: { type: 'string' },
    'no-fault': { type: 'boolean', default: false },
    cluster: { type: 'boolean', default: false },
    instances: { type: 'string', default: '3' },
    rolling: { type: 'boolean', default: false },
    kill: { type: 'boolean', default: false },
    'get-queries': { type: 'boolean', default: false },
  },
});
const SECONDS = Number(values.seconds);
const USERS = Number(values.users);
const CONCURRENCY = Number(values.concurrency);
const SUBSCRIPTIONS = Number(values.subscriptions);
const CLUSTER = values.cluster;
const GET_QUERIES = values['get-queries'];
const INSTANCES = Number(values.instances);
const DEPLOY: 'rolling' | 'kill' | undefined = values.rolling ? 'rolling' : values.kill ? 'kill' : undefined;
if (CLUSTER && (values.floods !== undefined || values.slow !== undefined || values['no-fault']))
  refuseArguments('--floods, --slow and --no-fault are for one server: a cluster run has no attack and no database fault', USAGE);
if (!CLUSTER && DEPLOY) refuseArguments(`--${DEPLOY} restarts the cluster's instances: add --cluster`, USAGE);
if (values.rolling && values.kill) refuseArguments('--rolling and --kill are two runs: pass one', USAGE);
if (CLUSTER && (!Number.isInteger(INSTANCES) || INSTANCES < 2 || INSTANCES > 16))
  refuseArguments(`--instances must be a whole number from 2 to 16 (got "${values.instances}")`, USAGE);
const FLOODS = CLUSTER ? 0 : Number(values.floods ?? 8);
const SLOW = CLUSTER ? 0 : Number(values.slow ?? 400);
const ATTACK = FLOODS + SLOW > 0;
/** Seconds from the start: [start, end) of each window. */
// The first tenth warms the server up (compilation, caches, the subscriptions' setup): not counted as quiet.
const WINDOWS: { quiet: [number, number]; attack: [number, number] | undefined; fault: number } = ATTACK
  ? { quiet: [SECONDS / 10, SECONDS / 3], attack: [SECONDS / 3, (2 * SECONDS) / 3], fault: (5 * SECONDS) / 6 }
  : CLUSTER
    ? { quiet: [SECONDS / 10, DEPLOY === 'kill' ? SECONDS / 2 : SECONDS / 5], attack: undefined, fault: SECONDS / 2 }
    : { quiet: [SECONDS / 10, SECONDS], attack: undefined, fault: SECONDS / 2 };
/** In cluster mode, limits no test user should reach: the run measures the deploy, not the rate limits. */
const CLUSTER_LIMITS = {
  RATE_LIMIT_REQUESTS_PER_MINUTE: '1000000',
  RATE_LIMIT_CREATE_RUN_PER_MINUTE: '100000',
  RATE_LIMIT_CREATE_RUN_PER_DAY: '1000000',
};

/** Seconds since the load started (every time in the report is on this clock). */
let loadStartedAt = performance.now();
const since = () => (performance.now() - loadStartedAt) / 1000;

interface SoakUser {
  clerkId: string;
  id: string;
  token: string;
  runIds: string[];
  cardIds: string[];
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Seeds, for every user, two completed runs with five cards each (plain SQL, as the pipeline writes). */
async function seedUsers(url: string, sign: (clerkId: string) => Promise<string>): Promise<SoakUser[]> {
  const clerkIds = Array.from({ length: USERS }, (_, i) => `soak_user_${i}`);
  const rows = await withClient(url, async (client) => {
    await client.query(
      `INSERT INTO "User" (id, "clerkId", email, "updatedAt") SELECT gen_random_uuid(), c, c || '@example.com', now() FROM unnest($1::text[]) c`,
      [clerkIds],
    );
    await client.query(`
      INSERT INTO "Run" (id, "userId", "companyId", "companyName", "documentName", "documentUrl", status, "currentStage", "completedAt", "updatedAt")
      SELECT gen_random_uuid(), u.id, 'soak', 'Soak', 'r' || n || '.pdf', 'https://x.test/r.pdf', 'COMPLETED', 5, now(), now()
      FROM "User" u CROSS JOIN generate_series(1, 2) n`);
    await client.query(`
      INSERT INTO "OpportunityCard" (id, "runId", "userId", number, title, tagline, problem, solution, why_now, target_segment, quick_win, "updatedAt")
      SELECT gen_random_uuid(), r.id, r."userId", n, 'Card ' || n, 't', 'p', 's', 'w', 'ts', 'q', now()
      FROM "Run" r CROSS JOIN generate_series(1, 5) n`);
    const { rows } = await client.query<Omit<SoakUser, 'token'>>(`
      SELECT u."clerkId", u.id, array_agg(DISTINCT r.id) AS "runIds", array_agg(c.id) AS "cardIds"
      FROM "User" u JOIN "Run" r ON r."userId" = u.id JOIN "OpportunityCard" c ON c."runId" = r.id GROUP BY u.id`);
    return rows;
  });
  return Promise.all(rows.map(async (row) => ({ ...row, token: await sign(row.clerkId) })));
}

interface LiveRuns {
  ids: string[];
  /** Last state each subscription received ("STATUS:stage", or the error). */
  lastState: Map<string, string>;
  /** States that arrived after a later stage had (a subscription must never go back). */
  outOfOrder: number;
  /** Connections a client opened again after losing one, and why each was lost (close codes). */
  reconnects: number;
  closes: Map<string, number>;
  clients: Client[];
}

/** `--subscriptions` new runs spread over the users, each followed by a runUpdated subscription. */
async function subscribeToLiveRuns(url: string, pipeline: pg.Pool, users: SoakUser[]): Promise<LiveRuns> {
  const { rows } = await pipeline.query<{ id: string; userId: string }>(
    `INSERT INTO "Run" (id, "userId", "companyId", "companyName", "documentName", "documentUrl", "updatedAt")
     SELECT gen_random_uuid(), (SELECT id FROM "User" ORDER BY "clerkId" OFFSET (n % $2) LIMIT 1), 'soak-live', 'Live', 'l.pdf', 'https://x.test/l.pdf', now()
     FROM generate_series(1, $1) n RETURNING id, "userId"`,
    [SUBSCRIPTIONS, USERS],
  );
  const live: LiveRuns = {
    ids: rows.map((row) => row.id),
    lastState: new Map(),
    outOfOrder: 0,
    reconnects: 0,
    closes: new Map(),
    clients: [],
  };
  const clientOf = new Map<string, Client>();
  const lastStage = new Map<string, number>();
  for (const run of rows) {
    const user = users.find((u) => u.id === run.userId)!;
    let client = clientOf.get(user.id);
    if (!client) {
      client = createClient({
        url: `${url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${user.token}` },
        lazy: false,
        // A restarted instance closes with 1001, a killed one drops the connection: graphql-ws reconnects (through
        // nginx, to another instance) and subscribes again, and runUpdated starts with the current state.
        retryAttempts: 20,
        on: {
          connected: (_socket, _payload, wasRetry) => void (wasRetry && (live.reconnects += 1)),
          closed: (event) => {
            const code = String((event as { code?: number }).code ?? 'no code');
            live.closes.set(code, (live.closes.get(code) ?? 0) + 1);
          },
        },
      });
      clientOf.set(user.id, client);
    }
    const query = 'subscription ($id: ID!) { runUpdated(id: $id) { status currentStage } }';
    client.subscribe<{ runUpdated: { status: string; currentStage: number } }>(
      { query, variables: { id: run.id } },
      {
        next: ({ data, errors }) => {
          if (!data) return void live.lastState.set(run.id, `error:${JSON.stringify(errors)}`);
          const { status, currentStage } = data.runUpdated;
          if (currentStage < (lastStage.get(run.id) ?? 0)) live.outOfOrder += 1;
          lastStage.set(run.id, currentStage);
          live.lastState.set(run.id, `${status}:${currentStage}`);
        },
        error: (error) => live.lastState.set(run.id, `error:${JSON.stringify(error)}`),
        complete: () => undefined,
      },
    );
  }
  live.clients = [...clientOf.values()];
  return live;
}

interface LoadResult {
  /** Requests sent (a retry after 503 counts again). */
  sent: number;
  latencies: number[];
  /** When each answered request was sent, in seconds since the load started (same order as latencies). */
  sentAt: number[];
  outcomes: Map<string, number>;
  /** Requests answered 503 with Retry-After and sent again after it, as a client following the API would. */
  retried: number;
  acknowledgedRuns: Set<string>;
}

type Send = (
  user: SoakUser,
  query: string,
  variables?: Record<string, unknown>,
) => Promise<Record<string, { id?: string } | null> | undefined>;

type GraphQLBody = { data?: Record<string, { id?: string } | null>; errors?: Array<{ extensions?: { code?: string } }> };

/** One signed-in request, its latency, when it was sent and what it got recorded in `result`. */
function sender(url: string, result: LoadResult): Send {
  const count = (key: string) => result.outcomes.set(key, (result.outcomes.get(key) ?? 0) + 1);
  const send = async (
    user: SoakUser,
    query: string,
    variables: Record<string, unknown>,
    attempt: number,
  ): Promise<GraphQLBody | undefined> => {
    const started = performance.now();
    result.sent += 1;
    const kind = query.startsWith('mutation') ? 'mutation' : 'query';
    const asGet = GET_QUERIES && kind === 'query';
    const fail = (how: string) => count(`${how}, ${kind}`);
    const search = new URLSearchParams({ query, variables: JSON.stringify(variables) });
    try {
      const res = await fetch(asGet ? `${url}/graphql?${search}` : `${url}/graphql`, {
        method: asGet ? 'GET' : 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
        body: asGet ? undefined : JSON.stringify({ query, variables }),
      });
      const text = await res.text();
      result.latencies.push(performance.now() - started);
      result.sentAt.push((started - loadStartedAt) / 1000);
      const retryAfter = Number(res.headers.get('retry-after'));
      if (res.status === 503 && retryAfter > 0 && attempt < 5) {
        result.retried += 1;
        await sleep(retryAfter * 1000);
        return send(user, query, variables, attempt + 1);
      }
      // A load balancer's own error page is not JSON.
      if (!res.headers.get('content-type')?.includes('json')) return void fail(`HTTP ${res.status} (not GraphQL)`);
      const body = JSON.parse(text) as GraphQLBody;
      for (const error of body.errors ?? []) fail(error.extensions?.code ?? `HTTP ${res.status}`);
      if (!body.errors?.length) count('ok');
      return body;
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      fail(`network: ${cause ?? (error as Error).message}`);
      return undefined;
    }
  };
  return async (user, query, variables = {}) => (await send(user, query, variables, 0))?.data;
}

/** `--concurrency` clients, each sending a weighted mix of the API's operations as random users until the deadline. */
async function runLoad(url: string, users: SoakUser[], deadline: number): Promise<LoadResult> {
  const result: LoadResult = { sent: 0, latencies: [], sentAt: [], outcomes: new Map(), retried: 0, acknowledgedRuns: new Set() };
  const graphql = sender(url, result);
  const createRun = async (u: SoakUser) => {
    const input = { companyId: 'soak-new', companyName: 'New', documentName: 'n.pdf', documentUrl: 'https://x.test/n.pdf' };
    const id = (await graphql(u, 'mutation ($i: CreateRunInput!) { createRun(input: $i) { id } }', { i: input }))?.createRun?.id;
    if (id) result.acknowledgedRuns.add(id);
  };
  const operations: Array<[number, (user: SoakUser) => Promise<unknown>]> = [
    [35, (u) => graphql(u, '{ runs(first: 20) { totalCount edges { node { id status currentStage opportunityCardCount } } } }')],
    [
      20,
      (u) =>
        graphql(
          u,
          'query ($id: ID!) { run(id: $id) { id status opportunityCards { number title starred } stageOutputs { stageNumber } } }',
          { id: pick(u.runIds) },
        ),
    ],
    [15, (u) => graphql(u, '{ me { runCount starredCardCount } }')],
    [15, (u) => graphql(u, '{ opportunityCards(first: 10, starred: true) { totalCount nodes { id title } } }')],
    [
      10,
      (u) =>
        graphql(u, 'mutation ($id: ID!, $s: Boolean!) { setCardStarred(id: $id, starred: $s) { id starred } }', {
          id: pick(u.cardIds),
          s: Math.random() < 0.5,
        }),
    ],
    [5, createRun],
  ];
  const weighted = operations.flatMap(([weight, operation]) => Array.from({ length: weight }, () => operation));
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < deadline) await pick(weighted)(pick(users));
    }),
  );
  return result;
}

/** The pipeline moves every live run one stage per step, COMPLETED at the last, within 80% of the run. */
async function runPipeline(pipeline: pg.Pool): Promise<void> {
  const steps = 6;
  for (let step = 1; step <= steps; step++) {
    await sleep((SECONDS * 800) / steps);
    const [status, stage] = step === steps ? ['COMPLETED', 5] : ['RUNNING', step];
    for (let attempt = 0; ; attempt++) {
      try {
        await pipeline.query(
          `UPDATE "Run" SET status = $1::"RunStatus", "currentStage" = $2, "updatedAt" = now(),
             "completedAt" = CASE WHEN $1 = 'COMPLETED' THEN now() END
           WHERE "companyId" = 'soak-live'`,
          [status, stage],
        );
        break;
      } catch (error) {
        if (attempt > 20) throw error;
        await sleep(100); // the fault: reconnect and retry
      }
    }
  }
}

/** At WINDOWS.fault: every backend of the database is terminated. */
async function injectFault(scratch: ScratchDatabase): Promise<number> {
  await sleep(WINDOWS.fault * 1000);
  const terminated = await withClient(scratch.adminUrl, async (client) => {
    const sql = 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()';
    return (await client.query(sql, [scratch.name])).rowCount ?? 0;
  });
  console.log(`fault: terminated ${terminated} backends of ${scratch.name} at ${WINDOWS.fault} s`);
  return terminated;
}

/** The attack window: attackers start and stop with it. */
async function runAttack(url: string): Promise<AttackOutcome | undefined> {
  if (!WINDOWS.attack) return undefined;
  await sleep(WINDOWS.attack[0] * 1000);
  const attack = spawnAttack({ url, floods: FLOODS, slowConnections: SLOW, slowAddresses: 8 });
  console.log(`attack: ${FLOODS} floods and ${SLOW} slow connections from ${WINDOWS.attack[0]} s`);
  await sleep((WINDOWS.attack[1] - WINDOWS.attack[0]) * 1000);
  return attack.stop();
}

/** Signed-in latency of the requests sent within [from, to) seconds. */
function within(load: LoadResult, [from, to]: [number, number]): number[] {
  return load.latencies.filter((_, i) => load.sentAt[i]! >= from && load.sentAt[i]! < to);
}

function latencyWithin(load: LoadResult, window: [number, number]): string {
  const samples = within(load, window);
  const { p50, p99 } = percentiles(samples);
  return `${p50.toFixed(1)} / ${p99.toFixed(1)} ms (${samples.length} requests)`;
}

const seconds = ([from, to]: [number, number]) => `${from.toFixed(1)}–${to.toFixed(1)} s`;

function attackRows(load: LoadResult, attack: AttackOutcome | undefined): string[][] {
  if (!attack || !WINDOWS.attack) return [];
  const quiet = percentiles(within(load, WINDOWS.quiet)).p99;
  const attacked = percentiles(within(load, WINDOWS.attack)).p99;
  const floodAnswers = [...attack.flood].sort((a, b) => b[1] - a[1]).map(([status, n]) => `${n}× ${status}`);
  return [
    [`Signed-in p50 / p99, quiet (${seconds(WINDOWS.quiet)}, after a warm-up)`, latencyWithin(load, WINDOWS.quiet)],
    [`Signed-in p50 / p99, under attack (${seconds(WINDOWS.attack)})`, latencyWithin(load, WINDOWS.attack)],
    ['Signed-in p99 under attack / quiet', `${(attacked / quiet).toFixed(2)}×`],
    [`Flood answers (${FLOODS} senders)`, floodAnswers.join(', ') || 'none'],
    [
      `Slow connections (${SLOW} at once)`,
      `${attack.slow.opened} opened: ${attack.slow.cutByServer} cut by the server, ${attack.slow.refused} refused at once, ` +
        `${attack.slow.openAtEnd} still open when the attack stopped`,
    ],
  ];
}

/** The report's rows about what was done to the system during the load (given the load's figures). */
type Disturbance = (load: LoadResult) => string[][];

/** What the soak runs against: one server, or the reference deployment. */
interface Target {
  url: string;
  database: ScratchDatabase;
  describe: string;
  sign(clerkId: string): Promise<string>;
  /** Resident memory of the server process(es), summed. */
  rss(): number | undefined;
  /** Runs alongside the load: the attack and the database fault, or the deploy. */
  disturb(): Promise<Disturbance>;
  /** What the target itself recorded during the run, for the report. */
  afterwards(): Promise<string[][]>;
  stop(): Promise<void>;
}

async function singleServer(): Promise<Target> {
  build();
  const scratch = await openScratchDatabase(loadConfig().scratchServers.soak, 'soak');
  const key = await createSessionKey();
  let server: ServerProcess;
  try {
    server = await startServerProcess({ DATABASE_URL: scratch.url, CLERK_JWT_KEY: key.publicKeyPem, LOG_LEVEL: 'warn' });
  } catch (error) {
    await scratch.drop();
    throw error;
  }
  return {
    url: server.url,
    database: scratch,
    describe: 'one production server',
    sign: (clerkId) => key.sign(clerkId, SECONDS + 600),
    rss: () => server.rss(),
    async disturb() {
      const [terminated, attack] = await Promise.all([values['no-fault'] ? undefined : injectFault(scratch), runAttack(server.url)]);
      return (load) => [
        ...attackRows(load, attack),
        ['Fault', terminated === undefined ? 'none' : `${terminated} backends terminated at ${WINDOWS.fault} s`],
      ];
    },
    afterwards: () => Promise.resolve([]),
    async stop() {
      await server.stop();
      await scratch.drop();
    },
  };
}

/** `--rolling`: every instance in turn; `--kill`: the second one. Each is replaced on its port. */
async function deploy(cluster: Cluster): Promise<Disturbance> {
  if (!DEPLOY) return () => [['Deploy', 'none']];
  await sleep(WINDOWS.quiet[1] * 1000);
  const signal = DEPLOY === 'rolling' ? 'SIGTERM' : 'SIGKILL';
  const from = since();
  const steps: string[][] = [];
  for (const index of DEPLOY === 'rolling' ? cluster.instances.map((_, i) => i) : [1]) {
    const at = since();
    const { port } = cluster.instances[index]!;
    const { stoppedMs, replacementReadyMs } = await cluster.restart(index, signal);
    steps.push([
      `Instance ${index + 1} (port ${port})`,
      signal === 'SIGTERM'
        ? `at ${at.toFixed(1)} s a replacement started on its port, serving after ${(replacementReadyMs / 1000).toFixed(1)} s; ` +
          `then SIGTERM: the old process gone ${(stoppedMs / 1000).toFixed(1)} s later`
        : `SIGKILL at ${at.toFixed(1)} s; a replacement on its port serving after ${(replacementReadyMs / 1000).toFixed(1)} s`,
    ]);
  }
  // Requests sent within a few seconds after the last restart still meet what it left (reconnecting clients).
  const window: [number, number] = [from, since() + 3];
  console.log(`deploy: ${steps.length} ${signal} restart(s) in ${seconds(window)}`);
  return (load) => [
    [`Signed-in p50 / p99, before the deploy (${seconds(WINDOWS.quiet)}, after a warm-up)`, latencyWithin(load, WINDOWS.quiet)],
    [`Signed-in p50 / p99, during the deploy (${seconds(window)})`, latencyWithin(load, window)],
    ...steps,
  ];
}

/**
 * nginx's error log, counted by what happened and to which instance: a refused connection is passed to the next
 * instance, while a connection reset or closed after the request was sent is the client's 502.
 */
function balancerErrorRows(log: string): string[][] {
  const counts = new Map<string, number>();
  for (const line of log.split('\n').filter(Boolean)) {
    const message = /\[\w+\] \d+#\d+: (?:\*\d+ )?(.*?)(?:, client: |$)/.exec(line)?.[1] ?? line;
    const upstream = /upstream: "http:\/\/([^/"]+)/.exec(line)?.[1];
    const what = `${message}${upstream ? ` (${upstream})` : ''}`;
    counts.set(what, (counts.get(what) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]).map(([what, n]) => [`nginx: ${what}`, String(n)]);
}

async function clusterTarget(): Promise<Target> {
  const cluster = await startCluster({
    instances: INSTANCES,
    serverUrl: loadConfig().scratchServers.soak,
    env: { ...CLUSTER_LIMITS, LOG_LEVEL: 'warn' },
  });
  return {
    url: cluster.url,
    database: cluster.database,
    describe: `nginx, ${INSTANCES} production instances and PgBouncer (rate limits raised out of reach)`,
    sign: (clerkId) => cluster.key.sign(clerkId, SECONDS + 600),
    rss() {
      const each = cluster.instances.map((instance) => instance.process.rss());
      return each.every((rss) => rss !== undefined) ? each.reduce((sum, rss) => sum + rss, 0) : undefined;
    },
    disturb: () => deploy(cluster),
    afterwards: async () => balancerErrorRows(await cluster.balancerErrors()),
    stop: () => cluster.stop(),
  };
}

interface Findings {
  load: LoadResult;
  live: LiveRuns;
  disturbance: string[][];
  recorded: string[][];
  rss: [number | undefined, number | undefined];
  lostRuns: number;
  notCompleted: string[];
}

function subscriptionRows(live: LiveRuns, notCompleted: string[]): string[][] {
  const closes = [...live.closes].sort((a, b) => b[1] - a[1]).map(([code, n]) => `${n}× ${code}`);
  return [
    ['Subscriptions that ended on COMPLETED', `${SUBSCRIPTIONS - notCompleted.length} of ${SUBSCRIPTIONS}`],
    ['Subscription states received out of order', String(live.outOfOrder)],
    [
      `WebSocket connections lost (close codes) / opened again (${live.clients.length} clients)`,
      `${closes.join(', ') || 'none'} / ${live.reconnects}`,
    ],
  ];
}

function report({ load, live, disturbance, recorded, rss, lostRuns, notCompleted }: Findings, target: Target): void {
  const { p50, p99, max } = percentiles(load.latencies);
  const errors = [...load.outcomes.entries()].filter(([key]) => key !== 'ok').sort((a, b) => b[1] - a[1]);
  const failed = errors.reduce((sum, [, n]) => sum + n, 0);
  const mb = (bytes: number | undefined) => (bytes === undefined ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(0)} MB`);
  console.log(
    `\nSoak: ${SECONDS} s, ${USERS} users, ${CONCURRENCY} concurrent clients, ${SUBSCRIPTIONS} subscriptions, ` +
      `queries as ${GET_QUERIES ? 'GET' : 'POST'}, against ` +
      `${target.describe}, PostgreSQL ${target.database.serverVersion}, Node ${process.version}, ${new Date().toISOString()}\n`,
  );
  const rows = [
    ['Requests sent (a retry counts again)', `${load.sent} (${(load.sent / SECONDS).toFixed(0)}/s)`],
    ['OK', String(load.outcomes.get('ok') ?? 0)],
    ['Answered 503 with Retry-After, and sent again after it by the client', String(load.retried)],
    ['Failed (an error answer or none)', String(failed)],
    ...errors.map(([code, n]) => [`Failed: ${code}`, String(n)]),
    ['Latency p50 / p99 / max, whole run', `${p50.toFixed(1)} / ${p99.toFixed(1)} / ${max.toFixed(0)} ms`],
    ...disturbance,
    ...recorded,
    ['Server RSS idle → after load', `${mb(rss[0])} → ${mb(rss[1])}`],
    ['createRun acknowledged / missing afterwards', `${load.acknowledgedRuns.size} / ${lostRuns}`],
    ...subscriptionRows(live, notCompleted),
  ];
  console.log(table(['Measure', 'Value'], rows));
  if (notCompleted.length) console.log(`not completed (first 5): ${notCompleted.slice(0, 5).join(', ')}`);
  console.log(lostRuns || notCompleted.length || live.outOfOrder ? '\nLOST: see above' : '\nNothing lost.');
}

/** Waits (up to 15 s) for every subscription to reach COMPLETED; those that did not, with their last state. */
async function settle(live: LiveRuns): Promise<string[]> {
  const done = () => live.ids.every((id) => live.lastState.get(id) === 'COMPLETED:5');
  for (let i = 0; i < 150 && !done(); i++) await sleep(100);
  return live.ids.filter((id) => live.lastState.get(id) !== 'COMPLETED:5').map((id) => `${id}=${live.lastState.get(id)}`);
}

async function main(): Promise<number> {
  const target = CLUSTER ? await clusterTarget() : await singleServer();
  const pipeline = new pg.Pool({ connectionString: target.database.url, max: 2 });
  pipeline.on('error', () => undefined); // terminated idle connections are replaced on the next query
  let live: LiveRuns | undefined;
  try {
    const users = await seedUsers(target.database.url, (clerkId) => target.sign(clerkId));
    const rssIdle = target.rss();
    live = await subscribeToLiveRuns(target.url, pipeline, users);
    loadStartedAt = performance.now();
    const [load, , disturbance] = await Promise.all([
      runLoad(target.url, users, Date.now() + SECONDS * 1000),
      runPipeline(pipeline),
      target.disturb(),
    ]);
    const rssLoaded = target.rss();
    const notCompleted = await settle(live);
    const { rows } = await pipeline.query<{ n: number }>('SELECT count(*)::int AS n FROM "Run" WHERE id = ANY($1::text[])', [
      [...load.acknowledgedRuns],
    ]);
    const lostRuns = load.acknowledgedRuns.size - rows[0]!.n;
    const recorded = await target.afterwards();
    report({ load, live, disturbance: disturbance(load), recorded, rss: [rssIdle, rssLoaded], lostRuns, notCompleted }, target);
    return lostRuns || notCompleted.length || live.outOfOrder ? 1 : 0;
  } finally {
    await Promise.all((live?.clients ?? []).map((client) => Promise.resolve(client.dispose())));
    await pipeline.end();
    await target.stop();
  }
}

runCli(main);
