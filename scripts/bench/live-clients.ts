/**
 * The client side of `npm run bench:live`, in a process of its own so the server's CPU is the server's:
 * graphql-ws connections holding `runUpdated` subscriptions, a plain-SQL writer stamping each update
 * (errorMessage = "b:<sequence>") and noting when its commit returned, and the reconnect storm. It reads its
 * plan from the JSON file named by its argument, prints progress lines on stderr ("phase …" lines
 * are read by the parent to time server CPU; after "phase established" it waits for a line on stdin, the
 * parent's go-ahead) and one JSON result on stdout.
 */
import { readFileSync } from 'node:fs';
import { createClient, type Client } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { percentiles } from '../support/scratch';

export interface LivePlan {
  wsUrl: string;
  databaseUrl: string;
  /** Each user's token and the runs it watches. */
  users: Array<{ token: string; runIds: string[] }>;
  subscriptionsPerConnection: number;
  /** Run updates per second, and for how long. */
  rate: number;
  seconds: number;
  /** Subscriptions per run (several subscribers on one run share its updates). */
  subscribersPerRun: number;
}

export interface LiveResult {
  subscriptions: number;
  connections: number;
  establishMs: number;
  updates: number;
  /** Messages expected: every update times the subscribers of its run. */
  expected: number;
  delivered: number;
  finalStatesReached: number;
  latenciesMs: { p50: number; p95: number; p99: number; max: number };
  /**
   * The second of the write window (from its start, by commit time) whose messages had the highest p99: a stall
   * at a periodic job (the backstop's check) shows there, however short, while the window's p99 averages it out.
   */
  worstSecond: { second: number; p99: number; messages: number };
  /** The median of every second's p99: what a second without a stall looks like. */
  medianSecondP99: number;
  /** Each second's p99, by second of the write window. */
  p99BySecond: number[];
  stormMs: number;
  stormSubscriptions: number;
}

const QUERY = 'subscription Bench($id: ID!) { runUpdated(id: $id) { id status currentStage errorMessage } }';
const plan = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as LivePlan;
const log = (line: string) => process.stderr.write(`${line}\n`);

interface Watched {
  runId: string;
  /** Highest stamp received on this subscription. */
  last: number;
  /** Called at this subscription's next message (its first, or its first after a reconnect). */
  onNext?: () => void;
}

/** Resolves when every subscription has received a message from now on. */
function nextMessageOfAll(watched: Watched[]): Promise<unknown> {
  return Promise.all(watched.map((sub) => new Promise<void>((resolve) => (sub.onNext = resolve))));
}

/** Resolves at the parent's next line on stdin: its go-ahead after reading what it measures at a phase. */
function parentReady(): Promise<void> {
  return new Promise((resolve) => {
    const onData = (chunk: Buffer) => {
      if (!chunk.includes(10)) return;
      process.stdin.off('data', onData);
      process.stdin.pause();
      resolve();
    };
    process.stdin.on('data', onData).resume();
  });
}

/** Sequence → when the writer's UPDATE returned (its commit), and each arrival of that stamp. */
const committedAt = new Map<number, number>();
/** When the writer started (performance.now()). */
let writeStartedAt = 0;
const arrivals: Array<[number, number]> = [];
/** Arrivals count only during the write phase (the storm's first messages repeat old stamps). */
let recording = true;

/** The open sockets, to drop them all at once (ws' terminate: no closing handshake, descriptors freed now). */
const sockets = new Set<WebSocket>();

function connect(token: string): Client {
  return createClient({
    url: plan.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    lazy: false,
    // As real clients do: a refused or reset connection (a full accept queue during a storm) is retried.
    retryAttempts: 20,
    retryWait: () => new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 250)),
    shouldRetry: () => true,
    on: {
      connected: (socket) => {
        const ws = socket as WebSocket;
        sockets.add(ws);
        ws.once('close', () => sockets.delete(ws));
      },
    },
  });
}

/**
 * Opens every connection and subscription at once (each run's subscribers spread over the user's
 * connections); the clients reconnect and resubscribe on their own after a drop, as real ones do.
 */
function subscribeAll(): { clients: Client[]; watched: Watched[] } {
  const clients: Client[] = [];
  const watched: Watched[] = [];
  for (const user of plan.users) {
    const runs = user.runIds.flatMap((runId) => Array.from({ length: plan.subscribersPerRun }, () => runId));
    for (let i = 0; i < runs.length; i += plan.subscriptionsPerConnection) {
      const client = connect(user.token);
      clients.push(client);
      for (const runId of runs.slice(i, i + plan.subscriptionsPerConnection)) {
        const sub: Watched = { runId, last: -1 };
        watched.push(sub);
        client.subscribe<{ runUpdated: { errorMessage: string | null } }>(
          { query: QUERY, variables: { id: runId } },
          {
            next: ({ data, errors }) => {
              if (errors) throw new Error(JSON.stringify(errors));
              const stamp = /^b:(\d+)$/.exec(data?.runUpdated.errorMessage ?? '')?.[1];
              if (stamp !== undefined) {
                const seq = Number(stamp);
                if (seq > sub.last) sub.last = seq;
                if (recording) arrivals.push([seq, performance.now()]);
              }
              sub.onNext?.();
              sub.onNext = undefined;
            },
            error: (error) => {
              console.error('subscription failed', error);
              process.exit(1);
            },
            complete: () => undefined,
          },
        );
      }
    }
  }
  return { clients, watched };
}

/** `rate` stamped updates per second for `seconds`, round-robin over the runs, on a few connections. */
async function write(runIds: string[]): Promise<{ updates: number; lastStamp: Map<string, number> }> {
  const pool = new pg.Pool({ connectionString: plan.databaseUrl, max: 8 });
  const lastStamp = new Map<string, number>();
  const total = Math.round(plan.rate * plan.seconds);
  const started = performance.now();
  writeStartedAt = started;
  const pending: Array<Promise<unknown>> = [];
  for (let seq = 0; seq < total; seq++) {
    const due = started + (seq * 1000) / plan.rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const runId = runIds[seq % runIds.length]!;
    lastStamp.set(runId, seq);
    pending.push(
      pool
        .query('UPDATE "Run" SET "errorMessage" = $2, "updatedAt" = now() WHERE id = $1', [runId, `b:${seq}`])
        .then(() => committedAt.set(seq, performance.now())),
    );
  }
  await Promise.all(pending);
  await pool.end();
  return { updates: total, lastStamp };
}

/**
 * Latencies grouped by the second of the write window their update was committed in: the second with the
 * highest p99, and the median of every second's p99.
 */
function perSecond(delivered: Array<[number, number]>): Pick<LiveResult, 'worstSecond' | 'medianSecondP99' | 'p99BySecond'> {
  const bySecond = new Map<number, number[]>();
  for (const [seq, at] of delivered) {
    const committed = committedAt.get(seq);
    if (committed === undefined) continue;
    const second = Math.floor((committed - writeStartedAt) / 1000);
    let latencies = bySecond.get(second);
    if (!latencies) bySecond.set(second, (latencies = []));
    latencies.push(Math.max(0, at - committed));
  }
  let worstSecond: LiveResult['worstSecond'] = { second: Number.NaN, p99: Number.NaN, messages: 0 };
  const p99s: number[] = [];
  const p99BySecond: number[] = [];
  for (const [second, latencies] of bySecond) {
    const { p99 } = percentiles(latencies);
    p99s.push(p99);
    p99BySecond[second] = p99;
    if (Number.isNaN(worstSecond.p99) || p99 > worstSecond.p99) worstSecond = { second, p99, messages: latencies.length };
  }
  return { worstSecond, medianSecondP99: percentiles(p99s).p50, p99BySecond };
}

async function main(): Promise<void> {
  let started = performance.now();
  const cpuBeforeEstablish = process.cpuUsage();
  const { clients, watched: all } = subscribeAll();
  // Registered before any message can arrive (they arrive on later ticks).
  await nextMessageOfAll(all);
  const establishMs = performance.now() - started;
  const establishCpu = process.cpuUsage(cpuBeforeEstablish);
  const clientCpu = Math.round(((establishCpu.user + establishCpu.system) / 1000 / establishMs) * 100);
  log(
    `phase established ${all.length} subscriptions on ${clients.length} connections in ${Math.round(establishMs)} ms (this client process: ${clientCpu}% of a core)`,
  );
  await parentReady(); // the parent reads the server's heap (after a full collection) before the writes start

  const runIds = plan.users.flatMap((user) => user.runIds);
  log('phase write-start');
  const { updates, lastStamp } = await write(runIds);
  log('phase write-end');
  // Stragglers: wait until every subscription has its run's last stamp, or 10 s.
  const reached = () => all.filter((sub) => sub.last === (lastStamp.get(sub.runId) ?? -1)).length;
  for (let waited = 0; waited < 10_000 && reached() < all.length; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  const finalStatesReached = reached();

  const latencies = arrivals.map(([seq, at]) => Math.max(0, at - (committedAt.get(seq) ?? at)));
  const delivered = arrivals.length;
  const seconds = perSecond(arrivals);
  recording = false;

  // The storm: every connection dropped at once (no closing handshake); the clients reconnect and
  // resubscribe on their own; done when every subscription has its run's current state again.
  log('phase storm');
  const resubscribed = nextMessageOfAll(all);
  const cpuBeforeStorm = process.cpuUsage();
  started = performance.now();
  for (const socket of sockets) socket.terminate();
  await resubscribed;
  const stormMs = performance.now() - started;
  const stormCpu = process.cpuUsage(cpuBeforeStorm);
  const clientCpuShareInStorm = (stormCpu.user + stormCpu.system) / 1000 / stormMs;
  log(`phase storm-done in ${Math.round(stormMs)} ms (this client process: ${Math.round(clientCpuShareInStorm * 100)}% of a core)`);
  for (const client of clients) client.terminate();

  const result: LiveResult = {
    subscriptions: all.length,
    connections: clients.length,
    establishMs,
    updates,
    expected: updates * plan.subscribersPerRun,
    delivered,
    finalStatesReached,
    latenciesMs: percentiles(latencies),
    ...seconds,
    stormMs,
    stormSubscriptions: all.length,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
