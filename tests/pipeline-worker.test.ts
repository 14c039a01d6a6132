/**
 * The pipeline's side of the contract, as the Python team would run it: examples/pipeline_worker.py (asyncpg,
 * plain SQL, no call to this API) against a real server's database, followed by a graphql-ws subscriber.
 * Needs Python 3 with asyncpg (Debian's python3-asyncpg, which .ci/run installs); without it these tests are
 * reported as skipped, with the reason printed.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import {
  CancelRunDocument,
  CreateRunDocument,
  DeleteRunDocument,
  RunProgressWithOutputsDocument,
  type RunProgressWithOutputsSubscription,
} from './graphql/generated/graphql';
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

/**
 * The worker on the API's database; `--once` (stop when nothing is left to claim) unless `once` is false; `env`
 * adds its settings (RUN_LEASE_SECONDS, RUN_MAX_ATTEMPTS).
 */
function startWorker(
  databaseUrl: string,
  args: string[],
  { once = true, env = {} }: { once?: boolean; env?: Record<string, string> } = {},
): Worker {
  const child = spawn(python!, [WORKER, ...(once ? ['--once'] : []), ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { process: child, output: () => output, exited: new Promise((resolve) => child.on('close', resolve)) };
}

/** Waits until the worker has printed a line matching `pattern`. */
async function printed(worker: Worker, pattern: RegExp, timeoutMs = 20_000): Promise<void> {
  for (let waited = 0; !pattern.test(worker.output()); waited += 20) {
    if (waited > timeoutMs) throw new Error(`the worker never printed ${pattern}; it printed:\n${worker.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Lines of the worker's output matching `pattern`. */
const linesOf = (worker: Worker, pattern: RegExp) =>
  worker
    .output()
    .split('\n')
    .filter((line) => pattern.test(line));

type Progress = RunProgressWithOutputsSubscription['runUpdated'];
const progressOf = (message: Message<RunProgressWithOutputsSubscription>): Progress | undefined => message.data?.runUpdated;

withPython('examples/pipeline_worker.py (asyncpg) writing into the API’s database', () => {
  let api: ApiFixture;
  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(() => api.close());

  /** A run of a new user, followed over graphql-ws from its PENDING state. */
  async function followedRun() {
    const { token, userId } = await api.signIn();
    const run = await createRun(api.db.prisma, userId);
    const client = wsClient(api.server.wsUrl, token);
    const sub = subscribeWs(client, RunProgressWithOutputsDocument, { id: run.id });
    const reached = async (predicate: (progress: Progress) => boolean, timeoutMs?: number): Promise<Progress> => {
      const message = await sub.waitFor((candidate) => {
        const progress = progressOf(candidate);
        return progress !== undefined && predicate(progress);
      }, timeoutMs);
      return progressOf(message)!;
    };
    await reached((progress) => progress.status === 'PENDING');
    return { token, userId, run, client, sub, reached };
  }

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

  it("busy workers claim each run exactly once: the worker's claim under contention (8 claims at a time)", async () => {
    const { userId } = await api.signIn();
    const runs = await Promise.all(Array.from({ length: 300 }, () => createRun(api.db.prisma, userId)));
    // The worker's own claim(), imported from the example and called by 8 tasks at once until nothing is left.
    const program = [
      'import asyncio, importlib.util, sys, types, asyncpg',
      'spec = importlib.util.spec_from_file_location("worker", sys.argv[1]); worker = importlib.util.module_from_spec(spec)',
      'spec.loader.exec_module(worker)',
      'args = types.SimpleNamespace(lease_seconds=60, max_attempts=3)',
      'async def main():',
      '    pool = await asyncpg.create_pool(sys.argv[2], min_size=8, max_size=8, server_settings=worker.SERVER_SETTINGS)',
      '    async def claimer():',
      '        while (run := await worker.claim(pool, args)) is not None:',
      '            print("claimed", run["id"], flush=True)',
      '    await asyncio.gather(*(claimer() for _ in range(8)))',
      '    await pool.close()',
      'asyncio.run(main())',
    ].join('\n');
    const result = spawnSync(python!, ['-c', program, WORKER, api.db.url], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    const claimed = [...result.stdout.matchAll(/^claimed (\S+)$/gm)].map((match) => match[1]!);
    const ours = new Set(runs.map((run) => run.id));
    const claimedOfOurs = claimed.filter((id) => ours.has(id));
    expect(claimedOfOurs.length - new Set(claimedOfOurs).size).toBe(0);
    expect(new Set(claimedOfOurs)).toEqual(ours);
  });

  it('a worker killed mid-stage: the next worker takes the run over once its lease expires and finishes it', async () => {
    const { run, client, sub, reached } = await followedRun();
    const lease = { RUN_LEASE_SECONDS: '2' };
    const first = startWorker(api.db.url, ['--step'], { env: lease });
    let second: Worker | undefined;
    try {
      await reached((progress) => progress.status === 'RUNNING' && progress.currentStage === 1);
      first.process.stdin.write('\n');
      await reached((progress) => progress.currentStage === 2);
      first.process.kill('SIGKILL'); // mid-stage 2: no chance to say anything
      await first.exited;
      const killedAt = performance.now();
      second = startWorker(api.db.url, ['--delay', '0'], { once: false, env: lease });
      const done = await reached((progress) => progress.status === 'COMPLETED');
      // Within the lease, the next poll (0.5 s) and four quick stages, with room for a busy machine.
      expect(performance.now() - killedAt).toBeLessThan(2_000 + 8_000);
      expect(done.stageOutputs.map((output) => output.stageNumber)).toEqual([1, 2, 3, 4, 5]);
      expect(done.opportunityCards).toHaveLength(5);
      expect(linesOf(second, /^took over run /)).toEqual([`took over run ${run.id} at stage 2 (attempt 2)`]);
      expect(await api.db.prisma.runLease.count({ where: { runId: run.id } })).toBe(0);
    } finally {
      first.process.kill('SIGKILL');
      second?.process.kill();
      await client.dispose();
    }
    const stages = sub.messages.map((message) => progressOf(message)?.currentStage ?? -1);
    expect(stages).toEqual([...stages].sort((a, b) => a - b));
  });

  it('a run whose workers keep dying is FAILED after RUN_MAX_ATTEMPTS claims, saying so', async () => {
    const { run, client, reached } = await followedRun();
    const env = { RUN_LEASE_SECONDS: '1', RUN_MAX_ATTEMPTS: '2' };
    const workers: Worker[] = [];
    try {
      workers.push(startWorker(api.db.url, ['--step'], { once: false, env }));
      await reached((progress) => progress.status === 'RUNNING');
      workers[0]!.process.kill('SIGKILL');
      workers.push(startWorker(api.db.url, ['--step'], { once: false, env }));
      await printed(workers[1]!, new RegExp(`^took over run ${run.id} at stage 1 \\(attempt 2\\)$`, 'm'));
      workers[1]!.process.kill('SIGKILL');
      workers.push(startWorker(api.db.url, ['--delay', '0'], { once: false, env }));
      const failed = await reached((progress) => progress.status === 'FAILED');
      expect(failed.currentStage).toBe(1);
      const stored = await api.db.prisma.run.findUniqueOrThrow({ where: { id: run.id } });
      expect(stored.errorMessage).toBe(
        'The pipeline stopped working on this run 2 times (its worker crashed or hung); retry it to start again',
      );
      await printed(workers[2]!, new RegExp(`^gave up on run ${run.id} after 2 attempts: FAILED$`, 'm'));
    } finally {
      for (const worker of workers) worker.process.kill('SIGKILL');
      await client.dispose();
    }
  });

  it('a run deleted while its worker works on it: the worker logs one line and takes the next job; the subscriber is told', async () => {
    const { token, userId, run, client, sub, reached } = await followedRun();
    const next = await createRun(api.db.prisma, userId);
    const worker = startWorker(api.db.url, ['--step']);
    try {
      await reached((progress) => progress.status === 'RUNNING' && progress.currentStage === 1);
      worker.process.stdin.write('\n');
      await reached((progress) => progress.currentStage === 2);
      expect(dataOf(await execute(api.server.url, DeleteRunDocument, { id: run.id }, { token })).deleteRun.deletedRunId).toBe(run.id);
      const gone = await sub.waitFor((message) => message.errors !== undefined);
      expect(gone.errors).toMatchObject([{ extensions: { code: 'NOT_FOUND', deleted: true, runId: run.id } }]);
      expect(await sub.ended).toEqual({});
      // The next line is stage 2 of the deleted run (refused), then the next run's five stages.
      worker.process.stdin.write('\n'.repeat(6));
      expect(await worker.exited).toBe(0);
      expect(linesOf(worker, new RegExp(run.id)).slice(-1)).toEqual([`run ${run.id} was deleted: leaving it and taking the next job`]);
      expect(worker.output()).toContain(`run ${next.id} COMPLETED`);
      expect((await api.db.prisma.run.findUniqueOrThrow({ where: { id: next.id } })).status).toBe('COMPLETED');
    } finally {
      worker.process.kill();
      await client.dispose();
    }
  });

  it('a run cancelled while its worker works on it: CANCELLED reaches subscribers at once, the worker lets go and takes the next job', async () => {
    const { token, userId, run, client, sub, reached } = await followedRun();
    const next = await createRun(api.db.prisma, userId);
    // A short lease: the worker's sign of life (every third of it) finds the lease gone before any write.
    const worker = startWorker(api.db.url, ['--step'], { env: { RUN_LEASE_SECONDS: '1.5' } });
    try {
      await reached((progress) => progress.status === 'RUNNING' && progress.currentStage === 1);
      worker.process.stdin.write('\n');
      await reached((progress) => progress.currentStage === 2);
      const { cancelRun } = dataOf(await execute(api.server.url, CancelRunDocument, { id: run.id }, { token }));
      expect(cancelRun).toMatchObject({ id: run.id, status: 'CANCELLED', currentStage: 2 });
      expect(await sub.ended).toEqual({});
      expect(progressOf(sub.messages.at(-1)!)).toMatchObject({ status: 'CANCELLED', currentStage: 2 });
      // Stopped while waiting for its stage: it leaves the run before writing anything more.
      await printed(worker, new RegExp(`^run ${run.id} was cancelled, deleted or taken over \\(its lease is gone\\): leaving it`, 'm'));
      worker.process.stdin.write('\n'.repeat(5));
      expect(await worker.exited).toBe(0);
      expect(worker.output()).toContain(`run ${next.id} COMPLETED`);
      const kept = await api.db.prisma.run.findUniqueOrThrow({ where: { id: run.id }, include: { stageOutputs: true, lease: true } });
      expect(kept).toMatchObject({ status: 'CANCELLED', currentStage: 2, lease: null });
      expect(kept.stageOutputs.map((output) => output.stageNumber)).toEqual([1]);
    } finally {
      worker.process.kill();
      await client.dispose();
    }
  });
});

if (!python) {
  it.skip('pipeline worker tests: Python 3 with asyncpg is not installed on this machine', () => undefined);
}
