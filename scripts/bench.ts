/**
 * `npm run bench [-- --runs 10000 --requests 200 --subscriptions 1000]`: measures, and prints as tables,
 *  1. the seed's five query patterns (section 3.5.12) on a demo data set, in the database (Prisma, as the API
 *     runs them) and end to end through HTTP + GraphQL, against the times the design expects;
 *  2. the memory an idle subscription costs, and how long a change takes to reach every subscriber.
 * It uses BENCH_DATABASE_URL (a server where it may create a database), else a temporary embedded PostgreSQL.
 * Never part of `npm test`: numbers depend on the machine.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createClient } from 'graphql-ws';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import pg from 'pg';
import WebSocket from 'ws';
import { seedDemoData } from '../src/db/seed';
import { createTokenVerifier } from '../src/auth/tokens';
import { loadConfig } from '../src/config';
import { createPrismaClient, type Database } from '../src/db/client';
import { startEmbeddedPostgres } from '../src/db/embedded';
import { RunEventListener } from '../src/db/events';
import { PROJECT_ROOT } from '../src/config';
import { withDatabase } from '../src/db/url';
import { configureLogger } from '../src/logger';
import { createApp } from '../src/server/http';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10000' },
    requests: { type: 'string', default: '200' },
    subscriptions: { type: 'string', default: '1000' },
  },
});
const RUNS = Number(values.runs);
const REQUESTS = Number(values.requests);
const SUBSCRIPTIONS = Number(values.subscriptions);

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p95: at(0.95), max: sorted.at(-1)! };
}

const ms = (n: number) => `${n.toFixed(2)} ms`;

function table(title: string, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\n${title}\n${line(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${rows.map(line).join('\n')}`);
}

async function time(fn: () => Promise<unknown>, count: number): Promise<number[]> {
  for (let i = 0; i < Math.min(20, count); i++) await fn(); // warm up plans and pools
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return samples;
}

async function main(): Promise<void> {
  configureLogger({ logLevel: 'warn', nodeEnv: 'production' });
  let adminUrl = process.env.BENCH_DATABASE_URL;
  let cleanup = async () => undefined as void;
  if (!adminUrl) {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'opportunity-api-bench-'));
    const embedded = await startEmbeddedPostgres({ dataDir, ephemeral: true });
    adminUrl = withDatabase(embedded.url, 'postgres');
    cleanup = async () => {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
  }
  const name = `opportunity_bench_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = withDatabase(adminUrl, name);
  const { rows: version } = await admin.query<{ server_version: string }>('SHOW server_version');

  let db: Database | undefined;
  let events: RunEventListener | undefined;
  let app: Awaited<ReturnType<typeof createApp>> | undefined;
  try {
    const migrated = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts', 'deploy'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, DATABASE_URL: url, DIRECT_URL: '', LOG_LEVEL: 'warn' },
      encoding: 'utf8',
    });
    if (migrated.status !== 0) throw new Error(`migration failed: ${migrated.stderr}`);
    const seedStart = Date.now();
    await seedDemoData(url, RUNS);
    const seedSeconds = (Date.now() - seedStart) / 1000;

    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    const config = loadConfig({
      NODE_ENV: 'production',
      DATABASE_URL: url,
      CLERK_JWT_KEY: await exportSPKI(publicKey),
      DATA_DIR: os.tmpdir(),
    });
    db = createPrismaClient(url, { logQueries: false, production: true });
    events = new RunEventListener(url);
    await events.start();
    app = await createApp({ config, db, events, verifyToken: await createTokenVerifier(config.auth, config.dataDir) });
    const port = await app.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${port}`;

    // A typical demo user (median number of runs), signed in as the pipeline's users would be.
    const sql = new pg.Client({ connectionString: url });
    await sql.connect();
    const { rows: ranked } = await sql.query<{ clerkId: string; id: string; runs: number }>(
      `SELECT u."clerkId", u.id, count(r.id)::int AS runs FROM "User" u JOIN "Run" r ON r."userId" = u.id
       WHERE u."clerkId" LIKE 'demo_user_%' GROUP BY u.id ORDER BY runs DESC`,
    );
    const user = ranked[Math.floor(ranked.length / 2)]!;
    const { rows: sample } = await sql.query<{ id: string; companyId: string }>(
      `SELECT id, "companyId" FROM "Run" WHERE "userId" = $1 AND status = 'COMPLETED' ORDER BY "createdAt" DESC LIMIT 1`,
      [user.id],
    );
    const runId = sample[0]!.id;
    const companyId = sample[0]!.companyId;
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ email: `${user.clerkId}@example.com` })
      .setProtectedHeader({ alg: 'RS256', kid: 'bench', typ: 'JWT' })
      .setSubject(user.clerkId)
      .setIssuedAt(now)
      .setNotBefore(now - 5)
      .setExpirationTime(now + 3600)
      .sign(privateKey);

    const graphql = async (query: string, variables: Record<string, unknown> = {}) => {
      const res = await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { errors?: unknown };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
    };
    const page = 'edges { node { id companyName status currentStage createdAt opportunityCardCount } }';
    const patterns: Array<{ name: string; expected: string; prisma: () => Promise<unknown>; api: () => Promise<unknown> }> = [
      {
        name: 'List user’s runs (page 1)',
        expected: '~15ms',
        prisma: () => db!.run.findMany({ where: { userId: user.id }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: 21 }),
        api: () => graphql(`{ runs(first: 20) { totalCount ${page} } }`),
      },
      {
        name: 'Get run with cards',
        expected: '~25ms',
        prisma: () =>
          db!.run.findFirst({ where: { id: runId, userId: user.id }, include: { opportunityCards: { orderBy: { number: 'asc' } } } }),
        api: () =>
          graphql(
            `
              query ($id: ID!) {
                run(id: $id) {
                  id
                  status
                  opportunityCards {
                    number
                    title
                    tagline
                    whyNow
                    starred
                  }
                }
              }
            `,
            { id: runId },
          ),
      },
      {
        name: 'Count starred cards',
        expected: '~10ms',
        prisma: () => db!.opportunityCard.count({ where: { userId: user.id, starred: true } }),
        api: () => graphql('{ me { starredCardCount } }'),
      },
      {
        name: 'Filter by company',
        expected: '~20ms',
        prisma: () =>
          db!.run.findMany({ where: { userId: user.id, companyId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: 21 }),
        api: () => graphql(`query($c: String) { runs(first: 20, companyId: $c) { totalCount ${page} } }`, { c: companyId }),
      },
      {
        name: 'Search by status',
        expected: '~15ms',
        prisma: () =>
          db!.run.findMany({ where: { userId: user.id, status: 'FAILED' }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: 21 }),
        api: () => graphql(`{ runs(first: 20, status: FAILED) { totalCount ${page} } }`),
      },
    ];
    const rows: string[][] = [];
    for (const pattern of patterns) {
      const inDb = stats(await time(pattern.prisma, REQUESTS));
      const viaApi = stats(await time(pattern.api, REQUESTS));
      rows.push([pattern.name, pattern.expected, ms(inDb.p50), ms(inDb.p95), ms(viaApi.p50), ms(viaApi.p95)]);
    }
    table(
      `Seed 3.5.12 query patterns: ${RUNS.toLocaleString('en')} runs over 100 users (seeded in ${seedSeconds.toFixed(1)} s), ` +
        `user with ${user.runs} runs, ${REQUESTS} sequential requests each, PostgreSQL ${version[0]!.server_version}, Node ${process.version}`,
      ['Operation', 'Seed expects', 'Prisma p50', 'Prisma p95', 'HTTP+GraphQL p50', 'HTTP+GraphQL p95'],
      rows,
    );

    // ---- Subscriptions: memory per idle subscription, fan-out latency ----
    const { rows: runRows } = await sql.query<{ id: string }>(
      `INSERT INTO "Run" (id, "userId", "companyId", "companyName", "documentName", "documentUrl", "updatedAt")
       SELECT gen_random_uuid(), $1, 'bench-live', 'Bench', 'b.pdf', 'https://x.test/b.pdf', now() FROM generate_series(1, $2) RETURNING id`,
      [user.id, SUBSCRIPTIONS],
    );
    const client = createClient({
      url: `ws://127.0.0.1:${port}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      lazy: true,
      retryAttempts: 0,
    });
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const firstSeen: Array<Promise<void>> = [];
    const latestStage = new Map<string, number>();
    const stageSeen = new Map<number, Array<() => void>>();
    for (const { id } of runRows) {
      firstSeen.push(
        new Promise((resolve) => {
          client.subscribe<{ runUpdated: { currentStage: number } }>(
            { query: 'subscription($id: ID!) { runUpdated(id: $id) { id status currentStage } }', variables: { id } },
            {
              next: (message) => {
                const stage = message.data?.runUpdated.currentStage ?? -1;
                latestStage.set(id, stage);
                if (stage === 0) resolve();
                for (const done of stageSeen.get(stage) ?? []) done();
              },
              error: () => resolve(),
              complete: () => undefined,
            },
          );
        }),
      );
    }
    await Promise.all(firstSeen);
    gc?.();
    const heapIdle = process.memoryUsage().heapUsed;
    // One statement moves every run to stage 1: time until every subscriber has that state.
    let pending = runRows.length;
    const allSeen = new Promise<void>((resolve) =>
      stageSeen.set(1, [
        () => {
          pending -= 1;
          if (pending === 0) resolve();
        },
      ]),
    );
    const started = process.hrtime.bigint();
    await sql.query(`UPDATE "Run" SET status = 'RUNNING', "currentStage" = 1, "updatedAt" = now() WHERE "companyId" = 'bench-live'`);
    await allSeen;
    const fanOutMs = Number(process.hrtime.bigint() - started) / 1e6;
    const watchers = events.watcherCount;
    await client.dispose();
    // Let the server finish unsubscribing before the database goes away.
    for (let i = 0; i < 200 && events.watcherCount > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    table(
      `Subscriptions: ${runRows.length} runUpdated subscriptions on one connection, one instance`,
      ['Measure', 'Value'],
      [
        [
          'Server + client heap per idle subscription',
          gc ? `${((heapIdle - heapBefore) / runRows.length / 1024).toFixed(1)} KiB` : 'run with node --expose-gc',
        ],
        ['Watchers held by the one LISTEN connection', String(watchers)],
        [`One UPDATE of ${runRows.length} runs → every subscriber has the new state`, ms(fanOutMs)],
      ],
    );
    await sql.end();
  } finally {
    await app?.close();
    await events?.stop();
    await db?.$disconnect();
    // Closed pools leave the server a moment later; dropping before that would kill them mid-goodbye.
    for (let i = 0; i < 50; i++) {
      const { rows } = await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
      if (rows[0].n === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
