/**
 * `npm run soak [-- --seconds 30 --users 100 --concurrency 16 --subscriptions 200 --no-fault]`: a bounded
 * mixed load against a local production server (its own process, default limits): queries, mutations and
 * live subscriptions from many users, while a plain-SQL "pipeline" moves the watched runs to COMPLETED.
 * Half-way every database backend is terminated (the pool's, the LISTEN connection, the pipeline's).
 * Prints requests, errors by code, latency, server memory, and whether any acknowledged row or any
 * subscription's final state was lost (exit 1 if so). Uses SOAK_DATABASE_URL, else a temporary embedded
 * PostgreSQL. Not part of `npm test`.
 */
import { parseArgs } from 'node:util';
import { createClient, type Client } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { withClient } from '../src/db/admin';
import { runCli } from './cli';
import { createSessionKey, openScratchDatabase, percentiles, startServerProcess, table } from './support/scratch';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    users: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '16' },
    subscriptions: { type: 'string', default: '200' },
    'no-fault': { type: 'boolean', default: false },
  },
});
const SECONDS = Number(values.seconds);
const USERS = Number(values.users);
const CONCURRENCY = Number(values.concurrency);
const SUBSCRIPTIONS = Number(values.subscriptions);

interface SoakUser {
  clerkId: string;
  id: string;
  token: string;
  runIds: string[];
  cardIds: string[];
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

/** Seeds, for every user, two completed runs with five cards each (plain SQL, as the pipeline writes). */
async function seedUsers(
  url: string,
  users: Array<{ clerkId: string }>,
): Promise<Map<string, { id: string; runIds: string[]; cardIds: string[] }>> {
  return withClient(url, async (client) => {
    await client.query(
      `INSERT INTO "User" (id, "clerkId", email, "updatedAt") SELECT gen_random_uuid(), c, c || '@example.com', now() FROM unnest($1::text[]) c`,
      [users.map((u) => u.clerkId)],
    );
    await client.query(`
      INSERT INTO "Run" (id, "userId", "companyId", "companyName", "documentName", "documentUrl", status, "currentStage", "completedAt", "updatedAt")
      SELECT gen_random_uuid(), u.id, 'soak', 'Soak', 'r' || n || '.pdf', 'https://x.test/r.pdf', 'COMPLETED', 5, now(), now()
      FROM "User" u CROSS JOIN generate_series(1, 2) n`);
    await client.query(`
      INSERT INTO "OpportunityCard" (id, "runId", "userId", number, title, tagline, problem, solution, why_now, target_segment, quick_win, "updatedAt")
      SELECT gen_random_uuid(), r.id, r."userId", n, 'Card ' || n, 't', 'p', 's', 'w', 'ts', 'q', now()
      FROM "Run" r CROSS JOIN generate_series(1, 5) n`);
    const { rows } = await client.query<{ clerkId: string; id: string; runIds: string[]; cardIds: string[] }>(`
      SELECT u."clerkId", u.id, array_agg(DISTINCT r.id) AS "runIds", array_agg(c.id) AS "cardIds"
      FROM "User" u JOIN "Run" r ON r."userId" = u.id JOIN "OpportunityCard" c ON c."runId" = r.id GROUP BY u.id`);
    return new Map(rows.map((row) => [row.clerkId, row]));
  });
}

async function main(): Promise<number> {
  const scratch = await openScratchDatabase(process.env.SOAK_DATABASE_URL, 'soak');
  const key = await createSessionKey();
  const server = await startServerProcess({ DATABASE_URL: scratch.url, CLERK_JWT_KEY: key.publicKeyPem, LOG_LEVEL: 'warn' });
  const pipeline = new pg.Pool({ connectionString: scratch.url, max: 2 });
  pipeline.on('error', () => undefined); // terminated idle connections are replaced on the next query
  const clients: Client[] = [];
  try {
    const clerkIds = Array.from({ length: USERS }, (_, i) => ({ clerkId: `soak_user_${i}` }));
    const seeded = await seedUsers(scratch.url, clerkIds);
    const users: SoakUser[] = await Promise.all(
      clerkIds.map(async ({ clerkId }) => ({ clerkId, ...seeded.get(clerkId)!, token: await key.sign(clerkId, SECONDS + 600) })),
    );
    const rssIdle = server.rss();

    // ---- Live runs, one graphql-ws connection per user that watches any ----
    const { rows: live } = await pipeline.query<{ id: string; userId: string }>(
      `INSERT INTO "Run" (id, "userId", "companyId", "companyName", "documentName", "documentUrl", "updatedAt")
       SELECT gen_random_uuid(), (SELECT id FROM "User" ORDER BY "clerkId" OFFSET (n % $2) LIMIT 1), 'soak-live', 'Live', 'l.pdf', 'https://x.test/l.pdf', now()
       FROM generate_series(1, $1) n RETURNING id, "userId"`,
      [SUBSCRIPTIONS, USERS],
    );
    const lastState = new Map<string, string>();
    const byUser = new Map(users.map((u) => [u.id, u]));
    const clientOf = new Map<string, Client>();
    for (const run of live) {
      const user = byUser.get(run.userId)!;
      let client = clientOf.get(user.id);
      if (!client) {
        client = createClient({
          url: `${server.url.replace('http', 'ws')}/graphql`,
          webSocketImpl: WebSocket,
          connectionParams: { authorization: `Bearer ${user.token}` },
          lazy: false,
          retryAttempts: 5,
        });
        clientOf.set(user.id, client);
        clients.push(client);
      }
      client.subscribe<{ runUpdated: { status: string; currentStage: number } }>(
        { query: 'subscription ($id: ID!) { runUpdated(id: $id) { status currentStage } }', variables: { id: run.id } },
        {
          next: (message) => {
            const state = message.data?.runUpdated;
            lastState.set(run.id, state ? `${state.status}:${state.currentStage}` : `error:${JSON.stringify(message.errors)}`);
          },
          error: (error) => lastState.set(run.id, `error:${JSON.stringify(error)}`),
          complete: () => undefined,
        },
      );
    }

    // ---- The load ----
    const latencies: number[] = [];
    const outcomes = new Map<string, number>();
    const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    const acknowledgedRuns = new Set<string>();
    const deadline = Date.now() + SECONDS * 1000;
    const graphql = async (user: SoakUser, query: string, variables: Record<string, unknown>) => {
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
        latencies.push(performance.now() - started);
        if (body.errors?.length) for (const error of body.errors) count(error.extensions?.code ?? `HTTP ${res.status}`);
        else count('ok');
        return body.data;
      } catch (error) {
        count(`network: ${(error as Error).message}`);
        return undefined;
      }
    };
    const operations: Array<[number, (user: SoakUser) => Promise<unknown>]> = [
      [35, (u) => graphql(u, '{ runs(first: 20) { totalCount edges { node { id status currentStage opportunityCardCount } } } }', {})],
      [
        20,
        (u) =>
          graphql(
            u,
            'query ($id: ID!) { run(id: $id) { id status opportunityCards { number title starred } stageOutputs { stageNumber } } }',
            { id: pick(u.runIds) },
          ),
      ],
      [15, (u) => graphql(u, '{ me { runCount starredCardCount } }', {})],
      [15, (u) => graphql(u, '{ opportunityCards(first: 10, starred: true) { totalCount nodes { id title } } }', {})],
      [
        10,
        (u) =>
          graphql(u, 'mutation ($id: ID!, $s: Boolean!) { setCardStarred(id: $id, starred: $s) { id starred } }', {
            id: pick(u.cardIds),
            s: Math.random() < 0.5,
          }),
      ],
      [
        5,
        async (u) => {
          const data = await graphql(u, 'mutation ($i: CreateRunInput!) { createRun(input: $i) { id } }', {
            i: { companyId: 'soak-new', companyName: 'New', documentName: 'n.pdf', documentUrl: 'https://x.test/n.pdf' },
          });
          const id = data?.createRun?.id;
          if (id) acknowledgedRuns.add(id);
        },
      ],
    ];
    const totalWeight = operations.reduce((sum, [weight]) => sum + weight, 0);
    const chooseOperation = () => {
      let roll = Math.random() * totalWeight;
      for (const [weight, run] of operations) if ((roll -= weight) < 0) return run;
      return operations[0]![1];
    };
    const workers = Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < deadline) await chooseOperation()(pick(users));
    });

    // The pipeline moves every live run one stage per step, COMPLETED at the last, within 80% of the run.
    const steps = 6;
    const pipelineDone = (async () => {
      for (let step = 1; step <= steps; step++) {
        await new Promise((resolve) => setTimeout(resolve, (SECONDS * 800) / steps));
        const [status, stage] = step === steps ? ['COMPLETED', 5] : ['RUNNING', step];
        for (let attempt = 0; ; attempt++) {
          try {
            await pipeline.query(
              `UPDATE "Run" SET status = $1::"RunStatus", "currentStage" = $2, "updatedAt" = now(), "completedAt" = CASE WHEN $1 = 'COMPLETED' THEN now() END
               WHERE "companyId" = 'soak-live'`,
              [status, stage],
            );
            break;
          } catch (error) {
            if (attempt > 20) throw error;
            await new Promise((resolve) => setTimeout(resolve, 100)); // the fault: reconnect and retry
          }
        }
      }
    })();

    // ---- The fault, half-way ----
    let terminated = 0;
    if (!values['no-fault']) {
      await new Promise((resolve) => setTimeout(resolve, SECONDS * 500));
      terminated = await withClient(scratch.adminUrl, async (client) => {
        const { rowCount } = await client.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [scratch.name],
        );
        return rowCount ?? 0;
      });
      console.log(`fault: terminated ${terminated} backends of ${scratch.name} at ${SECONDS / 2} s`);
    }
    await Promise.all(workers);
    await pipelineDone;
    const rssLoaded = server.rss();

    // ---- Did anything get lost? ----
    for (let i = 0; i < 150 && [...lastState.values()].some((state) => state !== 'COMPLETED:5'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const notCompleted = live.filter((run) => lastState.get(run.id) !== 'COMPLETED:5');
    const { rows: found } = await pipeline.query<{ n: number }>('SELECT count(*)::int AS n FROM "Run" WHERE id = ANY($1::text[])', [
      [...acknowledgedRuns],
    ]);
    const lostRuns = acknowledgedRuns.size - found[0]!.n;

    const requests = latencies.length;
    const { p50, p99, max } = percentiles(latencies);
    const errors = [...outcomes.entries()].filter(([key]) => key !== 'ok').sort((a, b) => b[1] - a[1]);
    const mb = (bytes: number | undefined) => (bytes === undefined ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(0)} MB`);
    console.log(
      `\nSoak: ${SECONDS} s, ${USERS} users, ${CONCURRENCY} concurrent clients, ${SUBSCRIPTIONS} subscriptions, ` +
        `PostgreSQL ${scratch.serverVersion}, Node ${process.version}, ${new Date().toISOString()}\n`,
    );
    console.log(
      table(
        ['Measure', 'Value'],
        [
          ['Requests answered', `${requests} (${(requests / SECONDS).toFixed(0)}/s)`],
          ['OK', String(outcomes.get('ok') ?? 0)],
          ...errors.map(([code, n]) => [`Errors: ${code}`, String(n)]),
          ['Latency p50 / p99 / max', `${p50.toFixed(1)} / ${p99.toFixed(1)} / ${max.toFixed(0)} ms`],
          ['Server RSS idle → after load', `${mb(rssIdle)} → ${mb(rssLoaded)}`],
          ['Fault', values['no-fault'] ? 'none' : `${terminated} backends terminated at ${SECONDS / 2} s`],
          ['createRun acknowledged / missing afterwards', `${acknowledgedRuns.size} / ${lostRuns}`],
          ['Subscriptions that ended on COMPLETED', `${SUBSCRIPTIONS - notCompleted.length} of ${SUBSCRIPTIONS}`],
        ],
      ),
    );
    if (notCompleted.length)
      console.log(
        `not completed (first 5): ${notCompleted
          .slice(0, 5)
          .map((r) => `${r.id}=${lastState.get(r.id)}`)
          .join(', ')}`,
      );
    const lost = lostRuns > 0 || notCompleted.length > 0;
    console.log(lost ? '\nLOST: see above' : '\nNothing lost.');
    return lost ? 1 : 0;
  } finally {
    await Promise.all(clients.map((client) => client.dispose()));
    await server.stop();
    await pipeline.end();
    await scratch.drop();
  }
}

runCli(main);
