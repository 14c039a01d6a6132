/**
 * The pipeline's side of the contract, as the Python team would run it: examples/pipeline_worker.py (asyncpg,
 * plain SQL, no call to this API) against a real server's database, followed by a graphql-ws subscriber.
 * Needs Python 3 with asyncpg (Debian's python3-asyncpg, which .ci/run installs); without it these tests are
 * reported as skipped, with the reason printed.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { CreateRunDocument, RunProgressWithOutputsDocument, type RunProgressWithOutputsSubscription } from './graphql/generated/graphql';
import { startApi, type ApiFixture } from './helpers/api';
import { PROJECT_ROOT } from './helpers/cli';
import { createRun } from './helpers/fixtures';
import { dataOf, execute } from './helpers/graphql';
import { subscribeWs, wsClient, type Message } from './helpers/subscriptions';

const WORKER = path.join(PROJECT_ROOT, 'examples', 'pipeline_worker.py');

/** The first Python 3 that imports asyncpg: the PATH's, else Debian's own (where python3-asyncpg installs). */
const python = ['python3', '/usr/bin/python3'].find((candidate) => spawnSync(candidate, ['-c', 'import asyncpg']).status === 0);
if (!python) {
  process.stdout.write(
    '\nPython 3 with asyncpg is not installed (apt-get install python3-asyncpg): the pipeline worker tests are SKIPPED\n',
  );
}
const withPython = python ? describe : describe.skip;

interface Worker {
  process: ChildProcessWithoutNullStreams;
  output(): string;
  exited: Promise<number | null>;
}

function startWorker(databaseUrl: string, args: string[]): Worker {
  const child = spawn(python!, [WORKER, '--once', ...args], { cwd: PROJECT_ROOT, env: { ...process.env, DATABASE_URL: databaseUrl } });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { process: child, output: () => output, exited: new Promise((resolve) => child.on('close', resolve)) };
}

type Progress = RunProgressWithOutputsSubscription['runUpdated'];
const progressOf = (message: Message<RunProgressWithOutputsSubscription>): Progress | undefined => message.data?.runUpdated;

withPython('examples/pipeline_worker.py (asyncpg) writing into the API’s database', () => {
  let api: ApiFixture;
  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(() => api.close());

  it('a graphql-ws subscriber sees every stage in order, then COMPLETED with the five cards', async () => {
    const { token } = await api.signIn();
    const { createRun: run } = dataOf(
      await execute(
        api.server.url,
        CreateRunDocument,
        {
          input: {
            companyId: 'lactalis-canada',
            companyName: 'Lactalis',
            documentName: 'trend-report.pdf',
            documentUrl: 'https://blob.example.com/trend-report.pdf',
          },
        },
        { token },
      ),
    );
    const client = wsClient(api.server.wsUrl, token);
    const sub = subscribeWs(client, RunProgressWithOutputsDocument, { id: run.id });
    const reached = async (predicate: (progress: Progress) => boolean): Promise<Progress> => {
      const message = await sub.waitFor((candidate) => {
        const progress = progressOf(candidate);
        return progress !== undefined && predicate(progress);
      });
      return progressOf(message)!;
    };
    await reached((progress) => progress.status === 'PENDING');
    // --step: the worker writes a stage only when told, so each stage is seen before the next is written.
    const worker = startWorker(api.db.url, ['--step']);
    try {
      await reached((progress) => progress.status === 'RUNNING' && progress.currentStage === 1);
      for (let stage = 1; stage <= 4; stage++) {
        worker.process.stdin.write('\n');
        const progress = await reached((p) => p.currentStage === stage + 1);
        expect(progress).toMatchObject({
          status: 'RUNNING',
          opportunityCardCount: 0,
          inspirationReport: { id: expect.any(String) as unknown },
        });
        expect(progress.stageOutputs.map((output) => output.stageNumber)).toEqual(Array.from({ length: stage }, (_, i) => i + 1));
      }
      worker.process.stdin.write('\n');
      const done = await reached((progress) => progress.status === 'COMPLETED');
      expect(done.opportunityCards.map((card) => card.number)).toEqual([1, 2, 3, 4, 5]);
      expect(done.stageOutputs).toHaveLength(5);
      expect(await worker.exited).toBe(0);
    } finally {
      worker.process.kill();
      await client.dispose();
    }
    // The states arrived in order: never an earlier stage after a later one.
    const stages = sub.messages.map((message) => progressOf(message)?.currentStage ?? -1);
    expect(stages).toEqual([...stages].sort((a, b) => a - b));
    // The worker never sets updatedAt on an UPDATE: the database did.
    const stored = await api.db.prisma.run.findUniqueOrThrow({ where: { id: run.id } });
    expect(stored.updatedAt.getTime()).toBeGreaterThan(stored.createdAt.getTime());
    expect(stored.completedAt).not.toBeNull();
  });

  it('a failing stage leaves the run FAILED with its errorMessage, and subscribers see it', async () => {
    const { token, userId } = await api.signIn();
    const run = await createRun(api.db.prisma, userId);
    const client = wsClient(api.server.wsUrl, token);
    const sub = subscribeWs(client, RunProgressWithOutputsDocument, { id: run.id });
    try {
      await sub.waitFor((message) => progressOf(message)?.status === 'PENDING');
      const worker = startWorker(api.db.url, ['--delay', '0', '--fail-at', '3']);
      expect(await worker.exited).toBe(0);
      const failed = await sub.waitFor((message) => progressOf(message)?.status === 'FAILED');
      expect(progressOf(failed)).toMatchObject({ currentStage: 3, opportunityCardCount: 0 });
      const stored = await api.db.prisma.run.findUniqueOrThrow({ where: { id: run.id } });
      expect(stored.errorMessage).toBe('Stage 3 failed: the model response could not be parsed');
    } finally {
      await client.dispose();
    }
  });

  it('workers running side by side never take the same run (FOR UPDATE SKIP LOCKED)', async () => {
    const { userId } = await api.signIn();
    const runs = await Promise.all(Array.from({ length: 6 }, () => createRun(api.db.prisma, userId)));
    const workers = [startWorker(api.db.url, ['--delay', '0']), startWorker(api.db.url, ['--delay', '0'])];
    expect(await Promise.all(workers.map((worker) => worker.exited))).toEqual([0, 0]);
    const claimed = workers.flatMap((worker) => [...worker.output().matchAll(/^claimed (\S+)$/gm)].map((match) => match[1]));
    expect(claimed.sort()).toEqual(runs.map((run) => run.id).sort());
    expect(new Set(claimed).size).toBe(claimed.length);
    const statuses = await api.db.prisma.run.findMany({ where: { id: { in: runs.map((run) => run.id) } }, select: { status: true } });
    expect(statuses.map((run) => run.status)).toEqual(Array(6).fill('COMPLETED'));
  });
});

if (!python) {
  it.skip('pipeline worker tests: Python 3 with asyncpg is not installed on this machine', () => undefined);
}
