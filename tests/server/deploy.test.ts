/**
 * Deploys of the reference deployment (scripts/support/cluster.ts: nginx, three production instances, PgBouncer)
 * while clients are busy: queries and mutations from several clients through nginx, and graphql-ws subscribers
 * following runs the pipeline moves on meanwhile.
 * - A rolling restart (each instance replaced on its port, then SIGTERM to the old process) answers every
 *   request, and every subscriber ends with its run's final state.
 * - An instance killed with SIGKILL: its subscribers reconnect through nginx and end with the final state; only
 *   requests the killed process was executing may fail, as nginx's 502.
 * Needs Debian's nginx and pgbouncer (which .ci/run installs), and, for the rolling restart,
 * net.ipv4.tcp_migrate_req=1 (which .ci/run sets): without them these tests are reported as skipped.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { missingPackages, startCluster, type Cluster } from '../../scripts/support/cluster';
import { withClient } from '../../src/db/admin';
import { migratesQueuedConnections } from '../../src/server/app';

const missing = missingPackages();
const rollingUnavailable =
  missing ??
  (migratesQueuedConnections() ? undefined : 'net.ipv4.tcp_migrate_req is 0 or unreadable (sysctl -w net.ipv4.tcp_migrate_req=1 as root)');
if (missing) process.stdout.write(`\nThe deploy tests are SKIPPED: ${missing}\n`);
else if (rollingUnavailable) process.stdout.write(`\nThe rolling-restart test is SKIPPED: ${rollingUnavailable}\n`);

const PROGRESS = 'subscription ($id: ID!) { runUpdated(id: $id) { status currentStage } }';
const CREATE_RUN = 'mutation ($input: CreateRunInput!) { createRun(input: $input) { id } }';
const RUN_INPUT = { companyId: 'acme', companyName: 'Acme', documentName: 'r.pdf', documentUrl: 'https://blob.example.com/r.pdf' };
const SUBSCRIBERS = 12;
const SENDERS = 8;

/** What the clients saw while the cluster was changed under them. */
interface Traffic {
  /** Every request that did not get a GraphQL answer without errors: how it failed. */
  failures: string[];
  answered: number;
  acknowledgedRuns: string[];
}

/** `SENDERS` clients sending queries and createRun through nginx, back to back, until `stop` resolves. */
async function sendUntil(cluster: Cluster, token: string, stop: Promise<void>): Promise<Traffic> {
  const traffic: Traffic = { failures: [], answered: 0, acknowledgedRuns: [] };
  let stopped = false;
  void stop.then(() => (stopped = true));
  const send = async (query: string, variables: Record<string, unknown> = {}) => {
    try {
      const res = await fetch(`${cluster.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      const text = await res.text();
      const body = res.headers.get('content-type')?.includes('json')
        ? (JSON.parse(text) as { data?: unknown; errors?: unknown })
        : undefined;
      if (res.status !== 200 || !body || body.errors) return void traffic.failures.push(`HTTP ${res.status}: ${text.slice(0, 200)}`);
      traffic.answered += 1;
      return body.data as Record<string, { id: string }>;
    } catch (error) {
      traffic.failures.push(`network: ${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message}`);
    }
  };
  await Promise.all(
    Array.from({ length: SENDERS }, async (_, sender) => {
      for (let i = 0; !stopped; i++) {
        if ((i + sender) % 10 === 0) {
          const id = (await send(CREATE_RUN, { input: RUN_INPUT }))?.createRun?.id;
          if (id) traffic.acknowledgedRuns.push(id);
        } else {
          await send('{ me { runCount } runs(first: 5) { totalCount edges { node { id status } } } }');
        }
      }
    }),
  );
  return traffic;
}

/** Subscribers (each its own graphql-ws connection through nginx) to `runIds`, and the last state each received. */
function subscribe(cluster: Cluster, token: string, runIds: string[]) {
  const lastState = new Map<string, string>();
  let reconnects = 0;
  const clients: Client[] = runIds.map((runId) => {
    const client = createClient({
      url: `${cluster.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      lazy: false,
      retryAttempts: 20,
      on: { connected: (_socket, _payload, wasRetry) => void (wasRetry && (reconnects += 1)) },
    });
    client.subscribe<{ runUpdated: { status: string; currentStage: number } }>(
      { query: PROGRESS, variables: { id: runId } },
      {
        next: ({ data }) => data && lastState.set(runId, `${data.runUpdated.status}:${data.runUpdated.currentStage}`),
        error: (error) => lastState.set(runId, `error: ${String(error)}`),
        complete: () => undefined,
      },
    );
    return client;
  });
  const allAt = async (state: string) => {
    while (runIds.some((id) => lastState.get(id) !== state)) await new Promise((resolve) => setTimeout(resolve, 50));
  };
  return { lastState, allAt, reconnects: () => reconnects, dispose: () => Promise.all(clients.map((c) => Promise.resolve(c.dispose()))) };
}

(missing ? describe.skip : describe)('deploying the reference deployment under load', () => {
  let cluster: Cluster;
  let token: string;

  beforeAll(async () => {
    // One user sends all the traffic: its rate limits are raised out of reach (they are tested elsewhere).
    const env = {
      RATE_LIMIT_REQUESTS_PER_MINUTE: '1000000',
      RATE_LIMIT_CREATE_RUN_PER_MINUTE: '100000',
      RATE_LIMIT_CREATE_RUN_PER_DAY: '1000000',
    };
    cluster = await startCluster({ instances: 3, serverUrl: process.env.TEST_ADMIN_URL, build: false, env });
    token = await cluster.key.sign('user_deploy');
  }, 120_000);
  afterAll(() => cluster?.stop());

  /** Runs created for the subscribers, PENDING; the pipeline's writes move them on. */
  const createRuns = async (count: number): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const res = await fetch(`${cluster.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: CREATE_RUN, variables: { input: RUN_INPUT } }),
      });
      ids.push(((await res.json()) as { data: { createRun: { id: string } } }).data.createRun.id);
    }
    return ids;
  };
  const pipelineWrites = (runIds: string[], status: 'RUNNING' | 'COMPLETED', stage: number) =>
    withClient(cluster.database.url, (client) =>
      client.query(`UPDATE "Run" SET status = $2::"RunStatus", "currentStage" = $3 WHERE id = ANY($1::text[])`, [runIds, status, stage]),
    );
  const missingRows = async (ids: string[]) => {
    const { rows } = await withClient(cluster.database.url, (client) =>
      client.query<{ id: string }>('SELECT id FROM "Run" WHERE id = ANY($1::text[])', [ids]),
    );
    const found = new Set(rows.map((row) => row.id));
    return ids.filter((id) => !found.has(id));
  };

  (rollingUnavailable ? it.skip : it)(
    'a rolling restart answers every request, and every subscriber ends with its run final state',
    async () => {
      const runIds = await createRuns(SUBSCRIBERS);
      const subscribers = subscribe(cluster, token, runIds);
      try {
        await subscribers.allAt('PENDING:0');
        let deployed!: () => void;
        const traffic = sendUntil(cluster, token, new Promise((resolve) => (deployed = resolve)));
        for (const [index] of cluster.instances.entries()) {
          await cluster.restart(index, 'SIGTERM');
          // Progress written between restarts, while subscribers are reconnecting to other instances.
          await pipelineWrites(runIds, 'RUNNING', index + 1);
        }
        await pipelineWrites(runIds, 'COMPLETED', 5);
        deployed();
        const { failures, answered, acknowledgedRuns } = await traffic;
        expect(failures).toEqual([]);
        expect(answered).toBeGreaterThan(0);
        await subscribers.allAt('COMPLETED:5');
        expect(subscribers.reconnects()).toBeGreaterThan(0);
        expect(await missingRows(acknowledgedRuns)).toEqual([]);
      } finally {
        await subscribers.dispose();
      }
    },
    120_000,
  );

  it('an instance killed with SIGKILL: its subscribers reconnect and end with the final state; only requests it was executing fail', async () => {
    const runIds = await createRuns(SUBSCRIBERS);
    const subscribers = subscribe(cluster, token, runIds);
    try {
      await subscribers.allAt('PENDING:0');
      let done!: () => void;
      const traffic = sendUntil(cluster, token, new Promise((resolve) => (done = resolve)));
      const killed = cluster.restart(1, 'SIGKILL');
      await pipelineWrites(runIds, 'RUNNING', 3);
      await killed;
      await pipelineWrites(runIds, 'COMPLETED', 5);
      done();
      const { failures, acknowledgedRuns } = await traffic;
      // nginx answers 502 for a request whose instance died while executing it (never sent twice: a mutation
      // may have run); nothing else may fail.
      expect(failures.filter((failure) => !failure.startsWith('HTTP 502'))).toEqual([]);
      await subscribers.allAt('COMPLETED:5');
      expect(subscribers.reconnects()).toBeGreaterThan(0);
      expect(await missingRows(acknowledgedRuns)).toEqual([]);
    } finally {
      await subscribers.dispose();
    }
  }, 120_000);
});

if (missing) {
  it.skip(`deploy tests: ${missing}`, () => undefined);
}
