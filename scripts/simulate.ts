/**
 * `npm run simulate`: a stand-in for the Python (asyncpg) pipeline worker, with plain SQL through `pg` and no
 * Prisma, keeping the same contract (docs/pipeline.md) and nothing else (no calls to this
 * server).
 *
 * It claims the oldest run that is PENDING, or RUNNING with an expired lease (its worker went silent), with FOR
 * UPDATE SKIP LOCKED (several simulators never take the same run), holds a lease on it that it extends every
 * third of RUN_LEASE_SECONDS, and gives up on a run claimed RUN_MAX_ATTEMPTS times (FAILED). It advances
 * currentStage 1 → 5 with a delay, writing the InspirationReport at stage 1, a StageOutput (markdown + JSON) per
 * stage and the five OpportunityCards at stage 5, then COMPLETED with completedAt; each stage in a transaction
 * that first locks the run and checks its lease. A run cancelled, deleted or taken over meanwhile is left with
 * one log line, and the next one claimed. A share of runs FAIL at a random stage with an errorMessage. Stopped
 * (Ctrl-C) with a run in hand, it lets go of it (its lease expires at once) for the next worker.
 *
 *   npm run simulate -- [--delay 1500] [--fail-rate 0.1] [--concurrency 2] [--poll 500] [--once] [--only-new]
 *
 * `--only-new` takes only PENDING runs created after it started (the demo: a backlog of seeded PENDING runs
 * would otherwise come first). `--delay` and `--fail-rate` are independent of each other.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { commandLine } from '../src/args';
import pg from 'pg';
import { ConfigError, loadConfig } from '../src/config';
import { openDatabaseTarget } from '../src/tooling/target';
import { parsePoolSettings } from '../src/db/url';
import { runCli } from './cli';
import { CLAIMABLE_RUN, TAKE_LEASE } from './support/run-claims';

/** How the simulator's connections show in pg_stat_activity (db:reset names who is connected). */
export const SIMULATOR_APPLICATION_NAME = 'opportunity-api:simulator';

export interface SimulatorOptions {
  /** Time spent on each stage, in ms. */
  delayMs: number;
  /** Share of runs that fail at a random stage (0 to 1). */
  failRate: number;
  /** Runs processed at the same time. */
  concurrency: number;
  /** How often to look for runs to claim when there are none, in ms. */
  pollMs: number;
  /** Stop once no run is left to claim. */
  once: boolean;
  /** Take only PENDING runs created after the simulator started (by the database's clock). */
  onlyNew?: boolean;
  /** How long a claim lasts without a sign of life (RUN_LEASE_SECONDS). */
  leaseSeconds: number;
  /** Claims of one run before it is given up (RUN_MAX_ATTEMPTS). */
  maxAttempts: number;
  log?: (line: string) => void;
}

/** A run this simulator holds: its lease's token, which claim of the run this is, and where it resumes. */
interface Claimed {
  id: string;
  userId: string;
  companyName: string;
  token: string;
  attempt: number;
  firstStage: number;
}

/** The run is no longer this simulator's: cancelled or deleted by its user, or taken over by another worker. */
class RunLost extends Error {}

/** Resolves after `ms`, or at once when `signal` aborts. */
const sleep = (ms: number, signal?: AbortSignal) => delay(ms, undefined, { signal }).catch(() => undefined);

/** A sign of life: touches no row once the run was cancelled, deleted or taken over. */
const EXTEND_LEASE = `UPDATE "RunLease" SET "expiresAt" = now() AT TIME ZONE 'UTC' + make_interval(secs => $3)
                       WHERE "runId" = $1 AND token = $2`;

async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Claims the oldest run nobody holds (a PENDING one created at or after `createdAfter` when given, or a RUNNING
 * one whose lease expired) and leases it; gives up on a run claimed `maxAttempts` times. Once `stopped`, claims
 * nothing.
 */
async function claimRun(
  pool: pg.Pool,
  options: SimulatorOptions,
  createdAfter: Date | undefined,
  stopped: AbortSignal | undefined,
): Promise<Claimed | undefined> {
  for (;;) {
    const outcome = await inTransaction(pool, async (client): Promise<Claimed | 'gave up' | 'taken' | undefined> => {
      const { rows } = await client.query<{
        id: string;
        userId: string;
        companyName: string;
        status: string;
        currentStage: number;
        attempts: number;
      }>(CLAIMABLE_RUN, [createdAfter ?? new Date(0)]);
      const run = rows[0];
      // Stopped while claiming: a run this simulator's other workers let go of on stopping (after the stop, so
      // this statement could see it free) is left for the next simulator, not taken again here.
      if (!run || stopped?.aborted) return undefined;
      if (run.status === 'RUNNING' && run.attempts >= options.maxAttempts) {
        await client.query(`UPDATE "Run" SET status = 'FAILED', "errorMessage" = $2 WHERE id = $1`, [
          run.id,
          `The pipeline stopped working on this run ${run.attempts} times (its worker crashed or hung); retry it to start again`,
        ]);
        await client.query(`DELETE FROM "RunLease" WHERE "runId" = $1`, [run.id]);
        options.log?.(`run ${run.id} given up after ${run.attempts} attempts: FAILED`);
        return 'gave up';
      }
      const token = randomUUID();
      const lease = await client.query<{ attempt: number }>(TAKE_LEASE, [run.id, token, options.leaseSeconds]);
      // Claimed by another worker between this statement's snapshot and its lock: look again.
      if (lease.rowCount === 0) return 'taken';
      await client.query(`UPDATE "Run" SET status = 'RUNNING', "currentStage" = 1 WHERE id = $1 AND status = 'PENDING'`, [run.id]);
      const firstStage = run.status === 'PENDING' ? 1 : Math.max(run.currentStage, 1);
      return { id: run.id, userId: run.userId, companyName: run.companyName, token, attempt: lease.rows[0]!.attempt, firstStage };
    });
    if (outcome !== 'gave up' && outcome !== 'taken') return outcome;
  }
}

/**
 * Runs `write` in a transaction that first locks the run (as the API's cancel, delete and retry do) and
 * extends its lease; throws RunLost when the run is gone, no longer RUNNING, or leased to another worker.
 */
function guarded(pool: pg.Pool, run: Claimed, leaseSeconds: number, write: (client: pg.PoolClient) => Promise<void>): Promise<void> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ status: string }>(`SELECT status FROM "Run" WHERE id = $1 FOR UPDATE`, [run.id]);
    const held = await client.query(EXTEND_LEASE, [run.id, run.token, leaseSeconds]);
    if (!rows[0]) throw new RunLost('was deleted');
    if (rows[0].status !== 'RUNNING') throw new RunLost(`is ${rows[0].status}`);
    if (held.rowCount !== 1) throw new RunLost('was taken over by another worker (its lease expired)');
    await write(client);
  });
}

function markdownFor(stage: number, company: string): string {
  return `# Stage ${stage}: ${company}\n\n${'The trend report points to households that plan meals around convenience and provenance. '.repeat(8)}\n`;
}

async function writeStage(client: pg.PoolClient, run: Claimed, stage: number): Promise<void> {
  if (stage === 1) {
    await client.query(
      `INSERT INTO "InspirationReport" (id, "runId", "inspiration1Title", "inspiration1Content", "inspiration1Elements",
         "inspiration2Title", "inspiration2Content", "inspiration2Elements", "updatedAt")
       VALUES ($1, $2, 'Convenience as a ritual', $3, ARRAY['convenience', 'ritual'], 'Local pride', $4, ARRAY['provenance', 'community'], now())`,
      [randomUUID(), run.id, `How ${run.companyName} shoppers turn quick meals into moments.`, 'Provenance stories from farm to shelf.'],
    );
  }
  await client.query(`INSERT INTO "StageOutput" (id, "runId", "stageNumber", "markdownOutput", "jsonOutput") VALUES ($1, $2, $3, $4, $5)`, [
    randomUUID(),
    run.id,
    stage,
    markdownFor(stage, run.companyName),
    JSON.stringify({ stage, findings: 2 + stage }),
  ]);
  if (stage < 5) {
    await client.query(`UPDATE "Run" SET "currentStage" = $2 WHERE id = $1`, [run.id, stage + 1]);
    return;
  }
  for (let number = 1; number <= 5; number++) {
    await client.query(
      `INSERT INTO "OpportunityCard" (id, "runId", "userId", number, title, tagline, problem, solution, why_now, target_segment, quick_win, "updatedAt")
       VALUES ($1, $2, $3, $4, $5, $6, 'Shoppers cannot find what fits how they live now.', 'A focused line extension.',
               'Demand moved in the last two quarters.', 'Urban households aged 25-44', 'Pilot in ten stores.', now())`,
      [randomUUID(), run.id, run.userId, number, `${run.companyName} opportunity ${number}`, `A sharper way to win shoppers (${number})`],
    );
  }
  await client.query(`UPDATE "Run" SET status = 'COMPLETED', "completedAt" = now() WHERE id = $1`, [run.id]);
  await client.query(`DELETE FROM "RunLease" WHERE "runId" = $1`, [run.id]);
}

async function fail(client: pg.PoolClient, run: Claimed, errorMessage: string): Promise<void> {
  await client.query(`UPDATE "Run" SET status = 'FAILED', "errorMessage" = $2 WHERE id = $1`, [run.id, errorMessage]);
  await client.query(`DELETE FROM "RunLease" WHERE "runId" = $1`, [run.id]);
}

/**
 * Extends the lease every third of its length; once it is gone, aborts `lost` with a RunLost (a stage's wait ends
 * at once). Returns the stop.
 */
function keepLease(pool: pg.Pool, run: Claimed, options: SimulatorOptions, lost: AbortController): () => void {
  const timer = setInterval(
    () => {
      pool.query(EXTEND_LEASE, [run.id, run.token, options.leaseSeconds]).then(
        (result) => {
          if (result.rowCount !== 1) lost.abort(new RunLost('was cancelled, deleted or taken over (its lease is gone)'));
        },
        (error: Error) => options.log?.(`could not extend the lease of run ${run.id} (${error.message}); trying again`),
      );
    },
    (options.leaseSeconds * 1000) / 3,
  );
  return () => clearInterval(timer);
}

async function processRun(pool: pg.Pool, run: Claimed, options: SimulatorOptions, stopped: AbortSignal | undefined): Promise<void> {
  const lost = new AbortController();
  const signal = stopped ? AbortSignal.any([stopped, lost.signal]) : lost.signal;
  const stopKeeping = keepLease(pool, run, options, lost);
  const failAt = Math.random() < options.failRate ? 1 + Math.floor(Math.random() * 5) : undefined;
  try {
    for (let stage = run.firstStage; stage <= 5; stage++) {
      await sleep(options.delayMs, signal);
      if (lost.signal.aborted) throw lost.signal.reason;
      if (stopped?.aborted) {
        // Stopped with the run in hand: the next worker takes it over at once, at this stage.
        await pool.query(`UPDATE "RunLease" SET "expiresAt" = now() AT TIME ZONE 'UTC' WHERE "runId" = $1 AND token = $2`, [
          run.id,
          run.token,
        ]);
        options.log?.(`run ${run.id} left at stage ${stage} for the next worker: the simulator was stopped`);
        return;
      }
      if (stage === failAt) {
        await guarded(pool, run, options.leaseSeconds, (client) =>
          fail(client, run, `Stage ${stage} failed: the model response could not be parsed (simulated)`),
        );
        options.log?.(`run ${run.id} FAILED at stage ${stage}`);
        return;
      }
      await guarded(pool, run, options.leaseSeconds, (client) => writeStage(client, run, stage));
      options.log?.(`run ${run.id} ${stage === 5 ? 'COMPLETED' : `stage ${stage + 1}`}`);
    }
  } catch (error) {
    if (!(error instanceof RunLost)) throw error;
    options.log?.(`run ${run.id} ${error.message}: leaving it and taking the next job`);
  } finally {
    stopKeeping();
  }
}

/** Runs workers until stopped (or, with `once`, until no run is left to claim). */
export async function runSimulator(databaseUrl: string, options: SimulatorOptions, signal?: AbortSignal): Promise<number> {
  const pool = new pg.Pool({
    connectionString: parsePoolSettings(databaseUrl).connectionString,
    // Each run in progress: its stage transactions and its lease's sign of life.
    max: 2 * options.concurrency + 1,
    application_name: SIMULATOR_APPLICATION_NAME,
  });
  pool.on('error', (err) => options.log?.(`idle database connection failed: ${err.message}`));
  let processed = 0;
  try {
    const createdAfter = options.onlyNew ? (await pool.query<{ now: Date }>('SELECT now()')).rows[0]!.now : undefined;
    const which = options.onlyNew ? 'PENDING runs created from now on' : 'PENDING runs';
    options.log?.(`waiting for ${which} (stage delay ${options.delayMs} ms, fail rate ${options.failRate})`);
    const worker = async () => {
      while (!signal?.aborted) {
        const run = await claimRun(pool, options, createdAfter, signal);
        if (!run) {
          if (options.once) return;
          await sleep(options.pollMs, signal);
          continue;
        }
        const taken = run.attempt > 1 ? ` (taken over at stage ${run.firstStage}, attempt ${run.attempt})` : '';
        options.log?.(`run ${run.id} claimed (${run.companyName})${taken}`);
        await processRun(pool, run, options, signal);
        processed++;
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    return processed;
  } finally {
    await pool.end();
  }
}

function number(name: string, raw: string | undefined, min: number, max: number): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max)
    throw new ConfigError(`--${name} must be a number from ${min} to ${max} (got "${raw}")`);
  return value;
}

async function main(): Promise<void> {
  const { values } = commandLine({
    usage: 'npm run simulate [-- --delay MS --fail-rate 0..1 --concurrency N --poll MS --once --only-new]',
    help: `Behaves like the Python pipeline, with plain SQL: claims PENDING runs (and runs whose worker went silent) oldest
first (FOR UPDATE SKIP LOCKED), leases each (RUN_LEASE_SECONDS, RUN_MAX_ATTEMPTS) and moves it through the five
stages, writing reports, outputs and cards; a run cancelled or deleted meanwhile is left for the next.
  --delay MS        time per stage (default 1500)
  --fail-rate R     share of runs that fail at a random stage, 0 to 1 (default 0.1)
  --concurrency N   runs worked on at once (default 2)
  --poll MS         how often to look for PENDING runs (default 500)
  --once            stop when no run is left to claim
  --only-new        leave PENDING runs created before the simulator started alone`,
    options: {
      delay: { type: 'string', default: '1500' },
      'fail-rate': { type: 'string', default: '0.1' },
      concurrency: { type: 'string', default: '2' },
      poll: { type: 'string', default: '500' },
      once: { type: 'boolean', default: false },
      'only-new': { type: 'boolean', default: false },
    },
  });
  const config = loadConfig();
  const options: SimulatorOptions = {
    delayMs: number('delay', values.delay, 0, 600_000),
    failRate: number('fail-rate', values['fail-rate'], 0, 1),
    concurrency: number('concurrency', values.concurrency, 1, 16),
    pollMs: number('poll', values.poll, 10, 60_000),
    once: values.once ?? false,
    onlyNew: values['only-new'] ?? false,
    leaseSeconds: config.pipeline.leaseSeconds,
    maxAttempts: config.pipeline.maxAttempts,
    log: (line) => console.log(`[simulate] ${line}`),
  };
  const target = await openDatabaseTarget(config);
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());
  try {
    const processed = await runSimulator(target.url, options, stop.signal);
    console.log(`[simulate] processed ${processed} run(s)`);
  } finally {
    await target.close();
  }
}

runCli(main);
