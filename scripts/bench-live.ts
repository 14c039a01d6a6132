/**
 * `npm run bench:live [-- --subscriptions 10000 --runs 10000 --rate 100 --seconds 35 --per-connection 50]`:
 * live progress at scale. A production server (compiled, its own process) on a scratch database; a separate
 * client process holds `--subscriptions` graphql-ws `runUpdated` subscriptions over `--runs` runs (several
 * subscribers per run when there are fewer runs), while a plain-SQL writer stamps `--rate` run updates per
 * second for long enough to include the server's backstop check (`--backstop-seconds`, 30 as in production).
 * Reports delivered/expected messages, final states reached, commit→client latency over the whole window and
 * in its worst second, the backstop's checks in the window and the runs they re-sent, the server's
 * CPU (share of one core while writing), RSS and retained heap per subscription (after a full collection), the time to establish the
 * subscriptions, and a reconnect storm (every connection dropped and reopened at once: time until every
 * subscription has its current state). `--profile` writes the server's CPU profile, `--heap-snapshot` a heap
 * snapshot once every subscription is established, `--allocations` a sampling profile of what the server
 * allocated while establishing them (all into bench/profiles; these two leave V8's heap profiler on, which
 * slows every later collection: that run's latencies and storm are not comparable with others); `--node-options "…"` passes
 * V8/Node flags to the server (say `--max-semi-space-size=64`). Appends the table to
 * bench/results/live-<date>.md. Uses `--database` (a PostgreSQL server URL), else a temporary embedded one.
 */
import { spawn } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { commandLine } from '../src/args';
import { PROJECT_ROOT } from '../src/config';
import { withClient } from '../src/db/admin';
import { eventLoopTimes, inspectorUrl, retainedHeapBytes, sampleAllocations, writeHeapSnapshot } from './bench/inspector';
import { cpuMs } from './bench/measure';
import type { LivePlan, LiveResult } from './bench/live-clients';
import { runCli } from './cli';
import { build, createSessionKey, openScratchDatabase, startServerProcess, table, type ServerProcess } from './support/scratch';

const { values } = commandLine({
  usage:
    'npm run bench:live [-- --subscriptions 10000 --runs 10000 --rate 100 --seconds 35 --backstop-seconds 30 --per-connection 50 --users 100 --database URL --profile --heap-snapshot --allocations --node-options "…"]',
  help: `Live progress at scale: a compiled production server, a separate client process holding --subscriptions graphql-ws
subscriptions over --runs runs, and a writer stamping --rate updates per second for --seconds; then a reconnect
storm. Reports delivery, latency (p99 over the window and in its worst second), the backstop's checks and
re-sends, CPU, heap per subscription, set-up time and the storm; appends to bench/results/live-<date>.md.
  --backstop-seconds N the server's SUBSCRIPTION_BACKSTOP_SECONDS (default 30); keep --seconds above it
  --per-connection N   subscriptions per WebSocket (default 50)
  --users N            users the runs belong to (default 100)
  --database URL       a PostgreSQL server to use (default a temporary embedded one)
  --profile, --heap-snapshot, --allocations   write the server's profiles into bench/profiles
  --node-options "…"   V8/Node flags for the server`,
  options: {
    subscriptions: { type: 'string', default: '10000' },
    runs: { type: 'string' },
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '35' },
    'backstop-seconds': { type: 'string', default: '30' },
    'per-connection': { type: 'string', default: '50' },
    users: { type: 'string', default: '100' },
    database: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'heap-snapshot': { type: 'boolean', default: false },
    allocations: { type: 'boolean', default: false },
    'node-options': { type: 'string', default: '' },
  },
});
const SUBSCRIPTIONS = Number(values.subscriptions);
const RUNS = Number(values.runs ?? values.subscriptions);
const USERS = Math.min(Number(values.users), RUNS);
/** The server's /metrics answers this bearer (it is off in production without one). */
const METRICS_TOKEN = 'bench-live-metrics-token';

/** RUNS running runs spread over USERS users; returns each user's clerk id and runs. */
async function seed(url: string): Promise<Array<{ clerkId: string; runIds: string[] }>> {
  return withClient(url, async (client) => {
    await client.query(
      `INSERT INTO "User" (id, "clerkId", email, "updatedAt")
       SELECT gen_random_uuid(), 'live_user_' || n, 'live_user_' || n || '@example.com', now() FROM generate_series(0, $1 - 1) n`,
      [USERS],
    );
    await client.query(
      `INSERT INTO "Run" (id, "userId", "companyId", "companyName", "documentName", "documentUrl", status, "currentStage", "updatedAt")
       SELECT gen_random_uuid(), (SELECT id FROM "User" WHERE "clerkId" = 'live_user_' || (n % $2)), 'live', 'Live', 'l.pdf',
              'https://x.test/l.pdf', 'RUNNING', 1, now()
       FROM generate_series(0, $1 - 1) n`,
      [RUNS, USERS],
    );
    const { rows } = await client.query<{ clerkId: string; runIds: string[] }>(
      `SELECT u."clerkId", array_agg(r.id ORDER BY r.id) AS "runIds" FROM "User" u JOIN "Run" r ON r."userId" = u.id GROUP BY u."clerkId"`,
    );
    return rows;
  });
}

/** Transactions committed in the database so far (every statement outside a transaction is one). */
function commits(url: string): Promise<number> {
  return withClient(url, async (client) => {
    // Statistics reach the shared view when a backend is idle; force this backend's and read them anew.
    await client.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await client.query<{ n: string }>('SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()');
    return Number(rows[0]!.n);
  });
}

/** The server's heap after a full collection: what its live objects hold. */
function heapUsed(server: ServerProcess): Promise<number> {
  return retainedHeapBytes(inspectorUrl(server.output()));
}

/** The server's backstop counters (src/live/watchers.ts), read from its /metrics. */
async function backstopCounters(server: ServerProcess): Promise<{ checks: number; resent: number }> {
  const text = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { checks: read('opportunity_backstop_checks_total'), resent: read('opportunity_backstop_resent_runs_total') };
}

/** The server's backstop while the writer writes: its checks and re-sends, and the seconds in which a check completed. */
class BackstopWatch {
  private atStart = { checks: 0, resent: 0 };
  private startedAt = 0;
  private writing = false;
  private seconds: Promise<number[]> = Promise.resolve([]);

  constructor(private readonly server: ServerProcess) {}

  async start(): Promise<void> {
    this.atStart = await backstopCounters(this.server);
    this.startedAt = performance.now();
    this.writing = true;
    this.seconds = this.secondsOfChecks();
  }

  stop(): void {
    this.writing = false;
  }

  async result(): Promise<Pick<ServerSide, 'backstop' | 'backstopSeconds' | 'backstopLogLines'>> {
    const seconds = await this.seconds;
    const now = await backstopCounters(this.server);
    return {
      backstop: { checks: now.checks - this.atStart.checks, resent: now.resent - this.atStart.resent },
      backstopSeconds: seconds,
      backstopLogLines: this.server
        .output()
        .split('\n')
        .filter((line) => line.includes('without a notification')).length,
    };
  }

  /** Reads the counter every 100 ms while writing: the seconds of the write window in which a check completed. */
  private async secondsOfChecks(): Promise<number[]> {
    const seconds: number[] = [];
    let checks = this.atStart.checks;
    while (this.writing) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const now = (await backstopCounters(this.server)).checks;
      if (now > checks) seconds.push(Math.floor((performance.now() - this.startedAt) / 1000));
      checks = now;
    }
    return seconds;
  }
}

/** A new file in bench/profiles, named by the time and `extension`. */
async function profileFile(extension: string): Promise<string> {
  const file = path.join(PROJECT_ROOT, 'bench', 'profiles', `live-${new Date().toISOString().replace(/[:.]/g, '-')}.${extension}`);
  await mkdir(path.dirname(file), { recursive: true });
  console.log(`  writing ${path.relative(PROJECT_ROOT, file)}`);
  return file;
}

/** A heap snapshot of the server with every subscription established, into bench/profiles. */
async function snapshot(server: ServerProcess): Promise<void> {
  await writeHeapSnapshot(inspectorUrl(server.output()), await profileFile('heapsnapshot'));
}

/** Runs the client process; calls `onPhase` for each "phase …" line it prints. */
async function runClients(plan: LivePlan, onPhase: (phase: string) => void | Promise<void>): Promise<LiveResult> {
  // The plan (every run id) is too large for an environment variable: it goes through a file.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-live-'));
  const planFile = path.join(dir, 'plan.json');
  await writeFile(planFile, JSON.stringify(plan));
  try {
    return await clientProcess(planFile, onPhase);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function clientProcess(planFile: string, onPhase: (phase: string) => void | Promise<void>): Promise<LiveResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench/live-clients.ts', planFile], {
      cwd: PROJECT_ROOT,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      for (const line of chunk.toString().split('\n')) {
        if (!line.startsWith('phase ')) continue;
        console.log(`  clients: ${line.slice(6)}`);
        const phase = line.slice(6).split(' ')[0]!;
        const measured = Promise.resolve(onPhase(phase));
        // The clients wait after establishing until the parent has measured (a full collection takes a while).
        if (phase === 'established') void measured.finally(() => child.stdin.write('\n'));
      }
    });
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as LiveResult);
      else reject(new Error(`the client process exited with ${code}:\n${stderr.slice(-4000)}`));
    });
  });
}

async function main(): Promise<void> {
  const subscribersPerRun = Math.max(1, Math.round(SUBSCRIPTIONS / RUNS));
  console.log(
    `bench:live: ${RUNS * subscribersPerRun} subscriptions on ${RUNS} runs (${USERS} users), ${values.rate} updates/s for ${values.seconds} s`,
  );
  const database = await openScratchDatabase(values.database, 'live');
  try {
    const key = await createSessionKey();
    build();
    const server = await startServerProcess(
      {
        DATABASE_URL: database.url,
        CLERK_JWT_KEY: key.publicKeyPem,
        MAX_SUBSCRIPTIONS_PER_USER: '1000000',
        WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: values['per-connection'],
        RATE_LIMIT_REQUESTS_PER_MINUTE: '0',
        // Every client is on this machine (one address), thousands of sockets each: what a load balancer's
        // clients would spread over many addresses and instances.
        HTTP_MAX_CONNECTIONS: '1000000',
        HTTP_MAX_CONNECTIONS_PER_IP: '1000000',
        WS_MAX_CONNECTIONS_PER_USER: '100000',
        SUBSCRIPTION_BACKSTOP_SECONDS: values['backstop-seconds'],
        METRICS_TOKEN,
      },
      [
        // The inspector is how the bench collects garbage (gc()) before reading the heap; unattached, it costs nothing.
        '--inspect=127.0.0.1:0',
        '--expose-gc',
        ...(values.profile ? ['--cpu-prof', '--cpu-prof-dir', path.join(PROJECT_ROOT, 'bench', 'profiles')] : []),
        ...values['node-options'].split(' ').filter(Boolean),
      ],
    );
    try {
      // Seeded while the server runs, as users create runs and then watch them: every run is announced
      // before anyone subscribes to it.
      const users = await seed(database.url);
      const plan: LivePlan = {
        wsUrl: `${server.url.replace('http', 'ws')}/graphql`,
        databaseUrl: database.url,
        users: await Promise.all(users.map(async (user) => ({ token: await key.sign(user.clerkId, 3600), runIds: user.runIds }))),
        subscriptionsPerConnection: Number(values['per-connection']),
        rate: Number(values.rate),
        seconds: Number(values.seconds),
        subscribersPerRun,
      };
      const { result, serverSide } = await measure(server, plan).catch((error: unknown) => {
        console.error(`the server's last output:\n${server.output().slice(-3000)}`);
        throw error;
      });
      await report(result, { ...serverSide, serverVersion: database.serverVersion });
    } finally {
      await server.stop();
    }
  } finally {
    await database.drop();
  }
}

/** The client process's run, with the server's heap, RSS and CPU read at its phases. */
async function measure(
  server: ServerProcess,
  plan: LivePlan,
): Promise<{ result: LiveResult; serverSide: Omit<ServerSide, 'serverVersion'> }> {
  const heapBefore = await heapUsed(server);
  const stopSampling = values.allocations ? await sampleAllocations(inspectorUrl(server.output())) : undefined;
  const commitsBefore = await commits(plan.databaseUrl);
  let commitsEstablished = Number.NaN;
  const rssBefore = server.rss() ?? 0;
  let heapEstablished = Number.NaN;
  let rssEstablished = Number.NaN;
  let cpuAtWriteStart = 0;
  let cpuDuringWrite = Number.NaN;
  let cpuAtStormStart = 0;
  let stormStarted = 0;
  let cpuDuringStorm = Number.NaN;
  let loopAtStormStart = { active: 0, idle: 0 };
  let loopBusyInStorm = Number.NaN;
  let writeStarted = 0;
  const backstop = new BackstopWatch(server);
  const result = await runClients(plan, async (phase) => {
    if (phase === 'established') {
      if (stopSampling) await stopSampling(await profileFile('heapprofile'));
      commitsEstablished = await commits(plan.databaseUrl);
      rssEstablished = server.rss() ?? Number.NaN;
      heapEstablished = await heapUsed(server);
      if (values['heap-snapshot']) await snapshot(server);
    } else if (phase === 'write-start') {
      await backstop.start();
      cpuAtWriteStart = cpuMs(server.pid) ?? 0;
      writeStarted = performance.now();
    } else if (phase === 'write-end') {
      backstop.stop();
      cpuDuringWrite = ((cpuMs(server.pid) ?? 0) - cpuAtWriteStart) / (performance.now() - writeStarted);
    } else if (phase === 'storm') {
      cpuAtStormStart = cpuMs(server.pid) ?? 0;
      stormStarted = performance.now();
      loopAtStormStart = await eventLoopTimes(inspectorUrl(server.output()));
    } else if (phase === 'storm-done') {
      cpuDuringStorm = ((cpuMs(server.pid) ?? 0) - cpuAtStormStart) / (performance.now() - stormStarted);
      const loop = await eventLoopTimes(inspectorUrl(server.output()));
      const active = loop.active - loopAtStormStart.active;
      loopBusyInStorm = active / (active + loop.idle - loopAtStormStart.idle);
    }
  });
  return {
    result,
    serverSide: {
      heapPerSubscription: (heapEstablished - heapBefore) / result.subscriptions,
      rssBefore,
      rssEstablished,
      cpuShare: cpuDuringWrite,
      stormCpuShare: cpuDuringStorm,
      stormLoopBusy: loopBusyInStorm,
      statementsToEstablish: commitsEstablished - commitsBefore,
      ...(await backstop.result()),
    },
  };
}

interface ServerSide {
  heapPerSubscription: number;
  rssBefore: number;
  rssEstablished: number;
  /** CPU time over wall time while writing (1 = one core). */
  cpuShare: number;
  /** CPU time over wall time during the reconnect storm (the main thread and V8's helper threads). */
  stormCpuShare: number;
  /** The share of the storm the main thread was busy (event loop utilisation). */
  stormLoopBusy: number;
  /** Transactions (statements) the database committed while the subscriptions were established. */
  statementsToEstablish: number;
  /** Backstop checks completed while the writer wrote, and the runs they re-sent. */
  backstop: { checks: number; resent: number };
  /** The seconds of the write window in which a backstop check completed. */
  backstopSeconds: number[];
  /** Lines the server logged for runs the backstop re-sent ("… without a notification …"), over the whole run. */
  backstopLogLines: number;
  serverVersion: string;
}

async function report(result: LiveResult, server: ServerSide): Promise<void> {
  const mb = (bytes: number) => `${Math.round(bytes / 1048576)} MB`;
  const ms = (value: number) => value.toFixed(1);
  const rows = [
    [
      `${result.subscriptions} on ${RUNS} runs`,
      `${values.rate}/s × ${values.seconds} s`,
      `${result.delivered}/${result.expected}`,
      `${result.finalStatesReached}/${result.subscriptions}`,
      `${ms(result.latenciesMs.p50)} / ${ms(result.latenciesMs.p95)} / ${ms(result.latenciesMs.p99)}`,
      `${ms(result.worstSecond.p99)} (s ${result.worstSecond.second}) / ${ms(result.medianSecondP99)}`,
      `${server.backstop.checks} / ${server.backstop.resent} / ${server.backstopLogLines}`,
      server.backstopSeconds
        .map((second) => `s ${second}: ${ms(Math.max(...[second - 1, second].map((s) => result.p99BySecond[s] ?? 0)))}`)
        .join(', ') || '–',
      `${Math.round(server.cpuShare * 100)}%`,
      `${mb(server.rssBefore)} → ${mb(server.rssEstablished)}`,
      `${(server.heapPerSubscription / 1024).toFixed(1)} KB`,
      `${(result.establishMs / 1000).toFixed(2)} s, ${server.statementsToEstablish} SQL`,
      `${(result.stormMs / 1000).toFixed(2)} s (${result.connections} connections, server CPU ${Math.round(server.stormCpuShare * 100)}%, main thread busy ${Math.round(server.stormLoopBusy * 100)}%)`,
    ],
  ];
  const header = [
    'subscriptions',
    'updates',
    'delivered/expected',
    'final states',
    'commit→client p50 / p95 / p99 ms',
    'p99 ms: worst second / median second',
    'backstop checks / re-sent / log lines',
    'p99 ms around each backstop check',
    'server CPU (1 core)',
    'server RSS',
    'retained heap / subscription',
    'establish all',
    'reconnect storm',
  ];
  const markdown = table(header, rows);
  console.log(`\n${markdown}\n`);
  const date = new Date().toISOString().slice(0, 10);
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model.split(' ').slice(0, 2).join(' ')}, ${Math.round(os.totalmem() / 2 ** 30)} GiB; PostgreSQL ${server.serverVersion}; Node ${process.version}`;
  const file = path.join(PROJECT_ROOT, 'bench', 'results', `live-${date}.md`);
  await mkdir(path.dirname(file), { recursive: true });
  await appendFile(file, `## ${new Date().toISOString()}: ${machine}\n\n${markdown}\n\n`);
  console.log(`appended to ${path.relative(PROJECT_ROOT, file)}`);
}

runCli(main);
