/**
 * `npm run simulate` behaves like the Python worker: plain SQL, runs claimed with SKIP LOCKED so several
 * simulators never take the same run, leased, every stage written, a cancelled run left alone, and
 * subscribers see it all live.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { CLAIMABLE_RUN, TAKE_LEASE } from '../../scripts/support/run-claims';
import { CancelRunDocument, RunProgressWithOutputsDocument } from './generated/graphql';
import { startApi, type ApiFixture } from '../helpers/api';
import { runScript, startScript } from '../helpers/cli';
import { createRun } from '../helpers/fixtures';
import { dataOf, execute } from '../helpers/graphql';

let api: ApiFixture;
beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.close());

/** Concurrent claims, as many busy workers make them: each claims, leases and starts a run per transaction. */
async function claimAll(url: string, workers: number): Promise<string[]> {
  const pool = new pg.Pool({ connectionString: url, max: workers });
  const claimed: string[] = [];
  const claimer = async () => {
    const client = await pool.connect();
    try {
      for (;;) {
        await client.query('BEGIN');
        const { rows } = await client.query<{ id: string }>(CLAIMABLE_RUN, [new Date(0)]);
        if (!rows[0]) return void (await client.query('COMMIT'));
        const lease = await client.query(TAKE_LEASE, [rows[0].id, randomUUID(), 60]);
        if (lease.rowCount === 0) {
          await client.query('ROLLBACK');
          continue;
        }
        await client.query(`UPDATE "Run" SET status = 'RUNNING', "currentStage" = 1 WHERE id = $1 AND status = 'PENDING'`, [rows[0].id]);
        await client.query('COMMIT');
        claimed.push(rows[0].id);
      }
    } finally {
      client.release();
    }
  };
  try {
    await Promise.all(Array.from({ length: workers }, claimer));
  } finally {
    await pool.end();
  }
  return claimed;
}

const simulate = (args: string[]) => runScript('scripts/simulate.ts', ['--once', '--poll', '20', ...args], { DATABASE_URL: api.db.url });

it('busy workers claim each run exactly once: a run claimed just before a claim locks it is not taken again', async () => {
  // The claim reads leases from its snapshot; a run leased after that snapshot but before its lock looked free.
  // With the lease taken whatever the current lease said, 8 claimers took 152 to 492 of 400 runs twice.
  const { userId } = await api.signIn();
  const runs = await Promise.all(Array.from({ length: 400 }, (_, i) => createRun(api.db.prisma, userId, { companyName: `Race ${i}` })));
  const claimed = await claimAll(api.db.url, 8);
  expect(claimed.length - new Set(claimed).size).toBe(0);
  expect(claimed.sort()).toEqual(runs.map((run) => run.id).sort());
});

it('two simulators finish 16 runs between them, each run exactly once, with every output', async () => {
  const { userId } = await api.signIn();
  const runs = await Promise.all(Array.from({ length: 16 }, (_, i) => createRun(api.db.prisma, userId, { companyName: `Co ${i}` })));
  const [first, second] = await Promise.all([
    simulate(['--delay', '10', '--fail-rate', '0', '--concurrency', '2']),
    simulate(['--delay', '10', '--fail-rate', '0', '--concurrency', '2']),
  ]);
  expect([first.code, second.code]).toEqual([0, 0]);
  const claimed = [...first.stdout.matchAll(/run (\S+) claimed/g), ...second.stdout.matchAll(/run (\S+) claimed/g)].map((m) => m[1]);
  expect(claimed.sort()).toEqual(runs.map((r) => r.id).sort()); // every run once, none twice

  const { rows } = await api.db.sql.query(
    `SELECT r.status, r."currentStage", r."completedAt" IS NOT NULL AS completed,
            (SELECT count(*)::int FROM "StageOutput" o WHERE o."runId" = r.id) AS outputs,
            (SELECT array_agg(o."stageNumber" ORDER BY o."stageNumber") FROM "StageOutput" o WHERE o."runId" = r.id) AS stages,
            (SELECT count(*)::int FROM "OpportunityCard" c WHERE c."runId" = r.id AND c."userId" = r."userId") AS cards,
            (SELECT count(*)::int FROM "InspirationReport" i WHERE i."runId" = r.id) AS reports
     FROM "Run" r WHERE r."userId" = $1`,
    [userId],
  );
  expect(rows).toHaveLength(16);
  for (const row of rows) {
    expect(row).toEqual({
      status: 'COMPLETED',
      currentStage: 5,
      completed: true,
      outputs: 5,
      stages: [1, 2, 3, 4, 5],
      cards: 5,
      reports: 1,
    });
  }
});

it('with --fail-rate 1 every run fails at some stage with an error message, and keeps the outputs of the stages before', async () => {
  const { userId } = await api.signIn();
  await Promise.all(Array.from({ length: 5 }, () => createRun(api.db.prisma, userId)));
  expect((await simulate(['--delay', '5', '--fail-rate', '1'])).code).toBe(0);
  const { rows } = await api.db.sql.query<{
    status: string;
    stage: number;
    errorMessage: string | null;
    completedAt: Date | null;
    outputs: number;
  }>(
    `SELECT r.status, r."currentStage" AS stage, r."errorMessage", r."completedAt",
            (SELECT count(*)::int FROM "StageOutput" o WHERE o."runId" = r.id) AS outputs
     FROM "Run" r WHERE r."userId" = $1`,
    [userId],
  );
  for (const row of rows) {
    expect(row.status).toBe('FAILED');
    expect(row.errorMessage).toMatch(new RegExp(`^Stage ${row.stage} failed`));
    expect(row.completedAt).toBeNull();
    expect(row.outputs).toBe(row.stage - 1);
  }
});

it('a subscriber watches a simulated run go through every stage to COMPLETED with its cards', async () => {
  const { client, sub } = await api.followNewRun(RunProgressWithOutputsDocument);
  try {
    expect((await simulate(['--delay', '150', '--fail-rate', '0'])).code).toBe(0);
    await sub.ended;
    const progress = sub.messages.map((m) => `${m.data!.runUpdated.status}:${m.data!.runUpdated.currentStage}`);
    expect(progress[0]).toBe('PENDING:0');
    expect(progress.at(-1)).toBe('COMPLETED:5');
    // With 150 ms per stage every stage is seen, in order.
    expect(progress.filter((p) => p.startsWith('RUNNING')).filter((p, i, all) => all.indexOf(p) === i)).toEqual([
      'RUNNING:1',
      'RUNNING:2',
      'RUNNING:3',
      'RUNNING:4',
      'RUNNING:5',
    ]);
    expect(sub.messages.at(-1)!.data!.runUpdated).toMatchObject({
      opportunityCardCount: 5,
      stageOutputs: [1, 2, 3, 4, 5].map((stageNumber) => ({ stageNumber })),
    });
  } finally {
    await client.dispose();
  }
});

it('--only-new leaves runs created before it started alone (the demo skips a seeded backlog)', async () => {
  const { userId } = await api.signIn();
  const backlog = await createRun(api.db.prisma, userId, { companyName: 'Backlog', createdAt: new Date(Date.now() - 60_000) });
  const simulator = startScript('scripts/simulate.ts', ['--only-new', '--delay', '10', '--fail-rate', '0', '--poll', '20'], {
    DATABASE_URL: api.db.url,
  });
  try {
    await simulator.waitFor(/waiting for PENDING runs created from now on/);
    const fresh = await createRun(api.db.prisma, userId, { companyName: 'Fresh' });
    await simulator.waitFor(new RegExp(`run ${fresh.id} COMPLETED`));
    expect(simulator.output()).not.toContain(backlog.id);
    expect(await api.db.prisma.run.findUniqueOrThrow({ where: { id: backlog.id } })).toMatchObject({ status: 'PENDING' });
  } finally {
    expect(await simulator.stop()).toBe(0);
  }
  await api.db.prisma.run.delete({ where: { id: backlog.id } }); // not left for the other tests' simulators
});

it('stopped in the middle of a run: lets go of it at once, and the next simulator takes it over at its stage', async () => {
  const { userId } = await api.signIn();
  const simulator = startScript('scripts/simulate.ts', ['--only-new', '--delay', '60000', '--poll', '20'], { DATABASE_URL: api.db.url });
  await simulator.waitFor(/waiting for PENDING runs/);
  const run = await createRun(api.db.prisma, userId);
  await simulator.waitFor(new RegExp(`run ${run.id} claimed`));
  const stopping = Date.now();
  expect(await simulator.stop()).toBe(0);
  expect(Date.now() - stopping).toBeLessThan(10_000);
  expect(simulator.output()).toContain(`run ${run.id} left at stage 1 for the next worker: the simulator was stopped`);
  expect(await api.db.prisma.run.findUniqueOrThrow({ where: { id: run.id } })).toMatchObject({ status: 'RUNNING', currentStage: 1 });
  // Its lease has expired: the next worker (even one that takes only new PENDING runs) resumes it.
  const next = await simulate(['--only-new', '--delay', '5', '--fail-rate', '0']);
  expect(next.stdout).toContain(`run ${run.id} claimed (Lactalis) (taken over at stage 1, attempt 2)`);
  expect(await api.db.prisma.run.findUniqueOrThrow({ where: { id: run.id } })).toMatchObject({ status: 'COMPLETED', currentStage: 5 });
});

it('a run cancelled while it simulates it: left with one line at its next sign of life, and the next run taken', async () => {
  const { token, userId } = await api.signIn();
  const simulator = startScript('scripts/simulate.ts', ['--only-new', '--delay', '60000', '--poll', '20', '--concurrency', '1'], {
    DATABASE_URL: api.db.url,
    RUN_LEASE_SECONDS: '1.5',
  });
  try {
    await simulator.waitFor(/waiting for PENDING runs/);
    const run = await createRun(api.db.prisma, userId);
    await simulator.waitFor(new RegExp(`run ${run.id} claimed`));
    const next = await createRun(api.db.prisma, userId);
    expect(dataOf(await execute(api.server.url, CancelRunDocument, { id: run.id }, { token })).cancelRun.status).toBe('CANCELLED');
    await simulator.waitFor(
      new RegExp(`run ${run.id} was cancelled, deleted or taken over \\(its lease is gone\\): leaving it and taking the next job`),
    );
    await simulator.waitFor(new RegExp(`run ${next.id} claimed`));
    expect(await api.db.prisma.run.findUniqueOrThrow({ where: { id: run.id } })).toMatchObject({ status: 'CANCELLED', currentStage: 1 });
  } finally {
    expect(await simulator.stop()).toBe(0);
  }
});

it('rejects a bad option with a message naming it', async () => {
  const result = await simulate(['--fail-rate', '2']);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain('--fail-rate must be a number from 0 to 1');
});
