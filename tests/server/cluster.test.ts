/**
 * The reference deployment (`npm run cluster`, scripts/support/cluster.ts): nginx from deploy/nginx.conf in front
 * of three production instances whose pools go through PgBouncer (deploy/pgbouncer.ini). Queries, SSE and graphql-ws
 * all pass through nginx, and a change written straight into the database reaches subscribers on every instance.
 * Needs Debian's nginx and pgbouncer (which .ci/run installs); without them these tests are reported as skipped.
 */
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { missingPackages, startCluster, type Cluster } from '../../scripts/support/cluster';
import { SCRATCH_ORIGIN } from '../../scripts/support/scratch';
import { withClient } from '../../src/db/admin';

const missing = missingPackages();
if (missing) process.stdout.write(`\nThe cluster tests are SKIPPED: ${missing}\n`);
const withCluster = missing ? describe.skip : describe;

const PROGRESS = 'subscription ($id: ID!) { runUpdated(id: $id) { id status currentStage } }';

withCluster('the reference deployment: nginx, three instances, PgBouncer', () => {
  let cluster: Cluster;
  let token: string;
  let runId: string;
  const post = (query: string, variables: Record<string, unknown> = {}) =>
    fetch(`${cluster.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });

  beforeAll(async () => {
    cluster = await startCluster({ instances: 3, serverUrl: process.env.TEST_ADMIN_URL, build: false });
    token = await cluster.key.sign('user_cluster');
    const created = await post('mutation ($input: CreateRunInput!) { createRun(input: $input) { id } }', {
      input: { companyId: 'acme', companyName: 'Acme', documentName: 'r.pdf', documentUrl: 'https://blob.example.com/r.pdf' },
    });
    runId = ((await created.json()) as { data: { createRun: { id: string } } }).data.createRun.id;
  }, 120_000);
  afterAll(() => cluster?.stop());

  it('answers queries through nginx, every instance alike', async () => {
    // Round robin: nine requests reach all three instances, each of which must answer the same.
    const answers = await Promise.all(Array.from({ length: 9 }, () => post('{ me { id } runs(first: 5) { totalCount } }')));
    expect(answers.map((res) => res.status)).toEqual(Array(9).fill(200));
    const bodies = await Promise.all(answers.map((res) => res.json()));
    expect(new Set(bodies.map((body) => JSON.stringify(body))).size).toBe(1);
    expect((await fetch(`${cluster.url}/ready`)).status).toBe(200);
  });

  it('streams SSE through nginx unbuffered, and graphql-ws through its upgrade, both seeing a change the pipeline writes', async () => {
    const sse = await fetch(
      `${cluster.url}/graphql?query=${encodeURIComponent(PROGRESS)}&variables=${encodeURIComponent(JSON.stringify({ id: runId }))}`,
      {
        headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` },
      },
    );
    expect(sse.status).toBe(200);
    const reader = sse.body!.getReader();
    let sseText = '';
    const sseSaw = async (text: string) => {
      while (!sseText.includes(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the SSE stream ended before ${text}: ${sseText}`);
        sseText += new TextDecoder().decode(value);
      }
    };
    const states: string[] = [];
    const ws = createClient({
      url: `${cluster.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: class extends WebSocket {
        constructor(url: string, protocols: string[]) {
          super(url, protocols, { origin: SCRATCH_ORIGIN });
        }
      },
      connectionParams: { authorization: `Bearer ${token}` },
    });
    const wsSaw = (status: string) =>
      new Promise<void>((resolve, reject) => {
        ws.subscribe(
          { query: PROGRESS, variables: { id: runId } },
          {
            next: (message) => {
              const state = (message.data as { runUpdated: { status: string } } | null)?.runUpdated.status;
              if (state) states.push(state);
              if (state === status) resolve();
            },
            error: reject,
            complete: () => undefined,
          },
        );
      });
    try {
      await sseSaw('PENDING');
      const running = wsSaw('RUNNING');
      // The pipeline's write, straight into PostgreSQL: every instance's LISTEN connection hears it.
      await withClient(cluster.database.url, (client) =>
        client.query(`UPDATE "Run" SET status = 'RUNNING', "currentStage" = 1 WHERE id = $1`, [runId]),
      );
      await Promise.all([sseSaw('RUNNING'), running]);
      expect(states.at(-1)).toBe('RUNNING');
    } finally {
      await reader.cancel();
      await ws.dispose();
    }
  });
});

if (missing) {
  it.skip(`cluster tests: ${missing}`, () => undefined);
}
