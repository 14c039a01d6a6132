/**
 * `npm run soak [-- --seconds 30 --users 100 --concurrency 16 --subscriptions 200 --floods 8 --slow 400 --no-fault]`:
 * a bounded mixed load against a local production server (its own process, default limits): queries, mutations
 * and live subscriptions from many users, while a plain-SQL "pipeline" moves the watched runs to COMPLETED.
 * The run has three equal windows: quiet; under attack (`--floods` anonymous senders of a costly document and
 * `--slow` trickling connections, scripts/support/attackers.ts, from other addresses); and one in whose middle
 * every database backend is terminated (the pool's, the LISTEN connection, the pipeline's). With `--floods 0
 * --slow 0` there is no attack window and the fault comes half-way. Prints requests, errors by code, the
 * signed-in latency of each window, what the attackers got, server memory, and whether any acknowledged row or
 * any subscription's final state was lost (exit 1 if so). Uses SOAK_DATABASE_URL, else a temporary embedded
 * PostgreSQL. Not part of `npm test`.
 */
import { commandLine } from '../src/args';
import { createClient, type Client } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { withClient } from '../src/db/admin';
import { runCli } from './cli';
import { spawnAttack, type AttackOutcome } from './support/attackers';
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

const { values } = commandLine({
  usage: 'npm run soak [-- --seconds 30 --users 100 --concurrency 16 --subscriptions 200 --floods 8 --slow 400 --no-fault]',
  help: `A bounded mixed load against a production server in its own process, in three windows: quiet; under attack
(--floods anonymous senders of a costly document and --slow trickling connections, from other addresses); and
one in whose middle every database backend is terminated. Prints requests, errors, the signed-in latency of
each window, what the attackers got, memory, and whether anything acknowledged was lost (exit 1 if so).
  --seconds N        the whole run (default 30)
  --users N, --concurrency N, --subscriptions N   the signed-in load (defaults 100, 16, 200)
  --floods N, --slow N   the attack (defaults 8 and 400; both 0: no attack window)
  --no-fault         leave the database alone`,
  options: {
    seconds: { type: 'string', default: '30' },
    users: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '16' },
    subscriptions: { type: 'string', default: '200' },
    floods: { type: 'string', default: '8' },
    slow: { type: 'string', default: '400' },
    'no-fault': { type: 'boolean', default: false },
  },
});
const SECONDS = Number(values.seconds);
const USERS = Number(values.users);
const CONCURRENCY = Number(values.concurrency);
const SUBSCRIPTIONS = Number(values.subscriptions);
const FLOODS = Number(values.floods);
const SLOW = Number(values.slow);
const ATTACK = FLOODS + SLOW > 0;
/** Seconds from the start: [start, end) of each window. */
// The first tenth warms the server up (compilation, caches, the subscriptions' setup): not counted as quiet.
const WINDOWS: { quiet: [number, number]; attack: [number, number] | undefined; fault: number } = ATTACK
  ? { quiet: [SECONDS / 10, SECONDS / 3], attack: [SECONDS / 3, (2 * SECONDS) / 3], fault: (5 * SECONDS) / 6 }
  : { quiet: [SECONDS / 10, SECONDS], attack: undefined, fault: SECONDS / 2 };

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
  clients: Client[];
}

/** `--subscriptions` new runs spread over the users, each followed by a runUpdated subscription. */
async function subscribeToLiveRuns(server: ServerProcess, pipeline: pg.Pool, users: SoakUser[]): Promise<LiveRuns> {
  const { rows } = await pipeline.query<{ id: string; userId: string }>(
    `INSERT INTO "Run" (id, "userId", "companyId", "companyName", "documentName", "documentUrl", "updatedAt")
     SELECT gen_random_uuid(), (SELECT id FROM "User" ORDER BY "clerkId" OFFSET (n % $2) LIMIT 1), 'soak-live', 'Live', 'l.pdf', 'https://x.test/l.pdf', now()
     FROM generate_series(1, $1) n RETURNING id, "userId"`,
    [SUBSCRIPTIONS, USERS],
  );
  const lastState = new Map<string, string>();
  const clientOf = new Map<string, Client>();
  for (const run of rows) {
    const user = users.find((u) => u.id === run.userId)!;
    let client = clientOf.get(user.id);
    if (!client) {
      const url = `${server.url.replace('http', 'ws')}/graphql`;
      client = createClient({
        url,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${user.token}` },
        lazy: false,
        retryAttempts: 5,
      });
      clientOf.set(user.id, client);
    }
    const query = 'subscription ($id: ID!) { runUpdated(id: $id) { status currentStage } }';
    client.subscribe<{ runUpdated: { status: string; currentStage: number } }>(
      { query, variables: { id: run.id } },
      {
        next: ({ data, errors }) =>
          lastState.set(run.id, data ? `${data.runUpdated.status}:${data.runUpdated.currentStage}` : `error:${JSON.stringify(errors)}`),
        error: (error) => lastState.set(run.id, `error:${JSON.stringify(error)}`),
        complete: () => undefined,
      },
    );
  }
  return { ids: rows.map((row) => row.id), lastState, clients: [...clientOf.values()] };
}

interface LoadResult {
  latencies: number[];
  /** When each answered request was sent, in seconds from the start of the load (same order as latencies). */
  sentAt: number[];
  outcomes: Map<string, number>;
  acknowledgedRuns: Set<string>;
}

type Send = (
  user: SoakUser,
  query: string,
  variables?: Record<string, unknown>,
) => Promise<Record<string, { id?: string } | null> | undefined>;

/** One signed-in request, its latency, when it was sent and what it got recorded in `result`. */
function sender(server: ServerProcess, result: LoadResult): Send {
  const loadStarted = performance.now();
  const count = (key: string) => result.outcomes.set(key, (result.outcomes.get(key) ?? 0) + 1);
  return async (user, query, variables = {}) => {
    const started = performance.now();
    try {
      const res = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as {
        data?: Record<string, { id?: string } | null>;
        errors?: Array<{ extensions?: { code?: string } }>;
      };
      result.latencies.push(performance.now() - started);
      result.sentAt.push((started - loadStarted) / 1000);
      for (const error of body.errors ?? []) count(error.extensions?.code ?? `HTTP ${res.status}`);
      if (!body.errors?.length) count('ok');
      return body.data;
    } catch (error) {
      count(`network: ${(error as Error).message}`);
      return undefined;
    }
  };
}

/** `--concurrency` clients, each sending a weighted mix of the API's operations as random users until the deadline. */
async function runLoad(server: ServerProcess, users: SoakUser[], deadline: number): Promise<LoadResult> {
  const result: LoadResult = { latencies: [], sentAt: [], outcomes: new Map(), acknowledgedRuns: new Set() };
  const graphql = sender(server, result);
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
async function runAttack(server: ServerProcess): Promise<AttackOutcome | undefined> {
  if (!WINDOWS.attack) return undefined;
  await sleep(WINDOWS.attack[0] * 1000);
  const attack = spawnAttack({ url: server.url, floods: FLOODS, slowConnections: SLOW, slowAddresses: 8 });
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

function attackRows(load: LoadResult, attack: AttackOutcome | undefined): string[][] {
  if (!attack || !WINDOWS.attack) return [];
  const quiet = percentiles(within(load, WINDOWS.quiet)).p99;
  const attacked = percentiles(within(load, WINDOWS.attack)).p99;
  const floodAnswers = [...attack.flood].sort((a, b) => b[1] - a[1]).map(([status, n]) => `${n}× ${status}`);
  return [
    [`Signed-in p50 / p99, quiet (${WINDOWS.quiet[0]}–${WINDOWS.quiet[1]} s, after a warm-up)`, latencyWithin(load, WINDOWS.quiet)],
    [`Signed-in p50 / p99, under attack (${WINDOWS.attack[0]}–${WINDOWS.attack[1]} s)`, latencyWithin(load, WINDOWS.attack)],
    ['Signed-in p99 under attack / quiet', `${(attacked / quiet).toFixed(2)}×`],
    [`Flood answers (${FLOODS} senders)`, floodAnswers.join(', ') || 'none'],
    [
      `Slow connections (${SLOW} at once)`,
      `${attack.slow.opened} opened: ${attack.slow.cutByServer} cut by the server, ${attack.slow.refused} refused at once, ` +
        `${attack.slow.openAtEnd} still open when the attack stopped`,
    ],
  ];
}

interface Findings {
  load: LoadResult;
  attack: AttackOutcome | undefined;
  rss: [number | undefined, number | undefined];
  terminated: number;
  lostRuns: number;
  notCompleted: string[];
}

function report({ load, attack, rss, terminated, lostRuns, notCompleted }: Findings, serverVersion: string): void {
  const { p50, p99, max } = percentiles(load.latencies);
  const errors = [...load.outcomes.entries()].filter(([key]) => key !== 'ok').sort((a, b) => b[1] - a[1]);
  const mb = (bytes: number | undefined) => (bytes === undefined ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(0)} MB`);
  console.log(
    `\nSoak: ${SECONDS} s, ${USERS} users, ${CONCURRENCY} concurrent clients, ${SUBSCRIPTIONS} subscriptions, ` +
      `PostgreSQL ${serverVersion}, Node ${process.version}, ${new Date().toISOString()}\n`,
  );
  const rows = [
    ['Requests answered', `${load.latencies.length} (${(load.latencies.length / SECONDS).toFixed(0)}/s)`],
    ['OK', String(load.outcomes.get('ok') ?? 0)],
    ...errors.map(([code, n]) => [`Errors: ${code}`, String(n)]),
    ['Latency p50 / p99 / max, whole run', `${p50.toFixed(1)} / ${p99.toFixed(1)} / ${max.toFixed(0)} ms`],
    ...attackRows(load, attack),
    ['Server RSS idle → after load', `${mb(rss[0])} → ${mb(rss[1])}`],
    ['Fault', values['no-fault'] ? 'none' : `${terminated} backends terminated at ${WINDOWS.fault} s`],
    ['createRun acknowledged / missing afterwards', `${load.acknowledgedRuns.size} / ${lostRuns}`],
    ['Subscriptions that ended on COMPLETED', `${SUBSCRIPTIONS - notCompleted.length} of ${SUBSCRIPTIONS}`],
  ];
  console.log(table(['Measure', 'Value'], rows));
  if (notCompleted.length) console.log(`not completed (first 5): ${notCompleted.slice(0, 5).join(', ')}`);
  console.log(lostRuns || notCompleted.length ? '\nLOST: see above' : '\nNothing lost.');
}

async function main(): Promise<number> {
  build();
  const scratch = await openScratchDatabase(process.env.SOAK_DATABASE_URL, 'soak');
  const key = await createSessionKey();
  const server = await startServerProcess({ DATABASE_URL: scratch.url, CLERK_JWT_KEY: key.publicKeyPem, LOG_LEVEL: 'warn' });
  const pipeline = new pg.Pool({ connectionString: scratch.url, max: 2 });
  pipeline.on('error', () => undefined); // terminated idle connections are replaced on the next query
  let live: LiveRuns | undefined;
  try {
    const users = await seedUsers(scratch.url, (clerkId) => key.sign(clerkId, SECONDS + 600));
    const rssIdle = server.rss();
    live = await subscribeToLiveRuns(server, pipeline, users);
    const [load, , terminated, attack] = await Promise.all([
      runLoad(server, users, Date.now() + SECONDS * 1000),
      runPipeline(pipeline),
      values['no-fault'] ? 0 : injectFault(scratch),
      runAttack(server),
    ]);
    const rssLoaded = server.rss();
    const lastState = live.lastState;
    for (let i = 0; i < 150 && live.ids.some((id) => lastState.get(id) !== 'COMPLETED:5'); i++) await sleep(100);
    const notCompleted = live.ids.filter((id) => lastState.get(id) !== 'COMPLETED:5').map((id) => `${id}=${lastState.get(id)}`);
    const { rows } = await pipeline.query<{ n: number }>('SELECT count(*)::int AS n FROM "Run" WHERE id = ANY($1::text[])', [
      [...load.acknowledgedRuns],
    ]);
    const lostRuns = load.acknowledgedRuns.size - rows[0]!.n;
    report({ load, attack, rss: [rssIdle, rssLoaded], terminated, lostRuns, notCompleted }, scratch.serverVersion);
    return lostRuns || notCompleted.length ? 1 : 0;
  } finally {
    await Promise.all((live?.clients ?? []).map((client) => Promise.resolve(client.dispose())));
    await server.stop();
    await pipeline.end();
    await scratch.drop();
  }
}

runCli(main);
