/**
 * `npm run simulate`: a stand-in for the Python (asyncpg) pipeline worker, with plain SQL through `pg` and no
 * Prisma, writing exactly what the real worker writes and nothing else (no calls to this server).
 *
 * It claims PENDING runs with FOR UPDATE SKIP LOCKED (several simulators never take the same run), sets
 * RUNNING, advances currentStage 1 → 5 with a delay, writes the InspirationReport at stage 1, a StageOutput
 * (markdown + JSON) per stage and the five OpportunityCards at stage 5, then COMPLETED with completedAt.
 * A share of runs FAIL at a random stage with an errorMessage. Stopped (Ctrl-C) with a run in hand, it
 * marks that run FAILED ("simulator stopped") rather than leave it RUNNING forever.
 *
 *   npm run simulate -- [--delay 1500] [--fail-rate 0.1] [--concurrency 2] [--poll 500] [--once] [--only-new]
 *
 * `--only-new` takes only runs created after it started (the demo: a backlog of seeded PENDING runs would
 * otherwise come first). `--delay` and `--fail-rate` are independent of each other.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { commandLine } from '../src/args';
import pg from 'pg';
import { ConfigError, loadConfig } from '../src/config';
import { openDatabaseTarget } from '../src/db/target';
import { parsePoolSettings } from '../src/db/url';
import { runCli } from './cli';

/** How the simulator's connections show in pg_stat_activity (db:reset names who is connected). */
export const SIMULATOR_APPLICATION_NAME = 'opportunity-api:simulator';

export interface SimulatorOptions {
  /** Time spent on each stage, in ms. */
  delayMs: number;
  /** Share of runs that fail at a random stage (0 to 1). */
  failRate: number;
  /** Runs processed at the same time. */
  concurrency: number;
  /** How often to look for PENDING runs when there are none, in ms. */
  pollMs: number;
  /** Stop once no PENDING run is left. */
  once: boolean;
  /** Take only runs created after the simulator started (by the database's clock). */
  onlyNew?: boolean;
  log?: (line: string) => void;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
const sleep = (ms: number, signal?: AbortSignal) => delay(ms, undefined, { signal }).catch(() => undefined);

/**
 * Claims the oldest PENDING run (created at or after `createdAfter`, when given) nobody else holds, and marks
 * it RUNNING at stage 1 in the same transaction.
 */
async function claimRun(
  pool: pg.Pool,
  createdAfter: Date | undefined,
): Promise<{ id: string; userId: string; companyName: string } | undefined> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ id: string; userId: string; companyName: string }>(
      `SELECT id, "userId", "companyName" FROM "Run" WHERE status = 'PENDING' AND "createdAt" >= $1
       ORDER BY "createdAt" FOR UPDATE SKIP LOCKED LIMIT 1`,
      [createdAfter ?? new Date(0)],
    );
    const run = rows[0];
    if (run) {
      await client.query(`UPDATE "Run" SET status = 'RUNNING', "currentStage" = 1, "updatedAt" = now() WHERE id = $1`, [run.id]);
    }
    await client.query('COMMIT');
    return run;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

function markdownFor(stage: number, company: string): string {
  return `# Stage ${stage}: ${company}\n\n${'The trend report points to households that plan meals around convenience and provenance. '.repeat(8)}\n`;
}

async function writeStage(pool: pg.Pool, run: { id: string; userId: string; companyName: string }, stage: number): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    if (stage === 1) {
      await client.query(
        `INSERT INTO "InspirationReport" (id, "runId", "inspiration1Title", "inspiration1Content", "inspiration1Elements",
           "inspiration2Title", "inspiration2Content", "inspiration2Elements", "updatedAt")
         VALUES ($1, $2, 'Convenience as a ritual', $3, ARRAY['convenience', 'ritual'], 'Local pride', $4, ARRAY['provenance', 'community'], now())`,
        [randomUUID(), run.id, `How ${run.companyName} shoppers turn quick meals into moments.`, 'Provenance stories from farm to shelf.'],
      );
    }
    await client.query(
      `INSERT INTO "StageOutput" (id, "runId", "stageNumber", "markdownOutput", "jsonOutput") VALUES ($1, $2, $3, $4, $5)`,
      [randomUUID(), run.id, stage, markdownFor(stage, run.companyName), JSON.stringify({ stage, findings: 2 + stage })],
    );
    if (stage === 5) {
      for (let number = 1; number <= 5; number++) {
        await client.query(
          `INSERT INTO "OpportunityCard" (id, "runId", "userId", number, title, tagline, problem, solution, why_now, target_segment, quick_win, "updatedAt")
           VALUES ($1, $2, $3, $4, $5, $6, 'Shoppers cannot find what fits how they live now.', 'A focused line extension.',
                   'Demand moved in the last two quarters.', 'Urban households aged 25-44', 'Pilot in ten stores.', now())`,
          [
            randomUUID(),
            run.id,
            run.userId,
            number,
            `${run.companyName} opportunity ${number}`,
            `A sharper way to win shoppers (${number})`,
          ],
        );
      }
      await client.query(`UPDATE "Run" SET status = 'COMPLETED', "completedAt" = now(), "updatedAt" = now() WHERE id = $1`, [run.id]);
    } else {
      await client.query(`UPDATE "Run" SET "currentStage" = $2, "updatedAt" = now() WHERE id = $1`, [run.id, stage + 1]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

async function processRun(
  pool: pg.Pool,
  run: { id: string; userId: string; companyName: string },
  options: SimulatorOptions,
  signal: AbortSignal | undefined,
) {
  const fail = async (stage: number, errorMessage: string) => {
    await pool.query(`UPDATE "Run" SET status = 'FAILED', "errorMessage" = $2, "updatedAt" = now() WHERE id = $1`, [run.id, errorMessage]);
    options.log?.(`run ${run.id} FAILED at stage ${stage}`);
  };
  const failAt = Math.random() < options.failRate ? 1 + Math.floor(Math.random() * 5) : undefined;
  for (let stage = 1; stage <= 5; stage++) {
    await sleep(options.delayMs, signal);
    if (signal?.aborted) return fail(stage, `Stage ${stage} was interrupted: the pipeline simulator was stopped`);
    if (stage === failAt) return fail(stage, `Stage ${stage} failed: the model response could not be parsed (simulated)`);
    await writeStage(pool, run, stage);
    options.log?.(`run ${run.id} ${stage === 5 ? 'COMPLETED' : `stage ${stage + 1}`}`);
  }
}

/** Runs workers until stopped (or, with `once`, until no PENDING run is left). */
export async function runSimulator(databaseUrl: string, options: SimulatorOptions, signal?: AbortSignal): Promise<number> {
  const pool = new pg.Pool({
    connectionString: parsePoolSettings(databaseUrl).connectionString,
    max: options.concurrency + 1,
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
        const run = await claimRun(pool, createdAfter);
        if (!run) {
          if (options.once) return;
          await sleep(options.pollMs, signal);
          continue;
        }
        options.log?.(`run ${run.id} claimed (${run.companyName})`);
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
    help: `Behaves like the Python pipeline, with plain SQL: claims PENDING runs oldest first (FOR UPDATE SKIP LOCKED) and
moves each through the five stages, writing reports, outputs and cards.
  --delay MS        time per stage (default 1500)
  --fail-rate R     share of runs that fail at a random stage, 0 to 1 (default 0.1)
  --concurrency N   runs worked on at once (default 2)
  --poll MS         how often to look for PENDING runs (default 500)
  --once            stop when no PENDING run is left
  --only-new        leave runs created before the simulator started alone`,
    options: {
      delay: { type: 'string', default: '1500' },
      'fail-rate': { type: 'string', default: '0.1' },
      concurrency: { type: 'string', default: '2' },
      poll: { type: 'string', default: '500' },
      once: { type: 'boolean', default: false },
      'only-new': { type: 'boolean', default: false },
    },
  });
  const options: SimulatorOptions = {
    delayMs: number('delay', values.delay, 0, 600_000),
    failRate: number('fail-rate', values['fail-rate'], 0, 1),
    concurrency: number('concurrency', values.concurrency, 1, 16),
    pollMs: number('poll', values.poll, 10, 60_000),
    once: values.once ?? false,
    onlyNew: values['only-new'] ?? false,
    log: (line) => console.log(`[simulate] ${line}`),
  };
  const target = await openDatabaseTarget(loadConfig());
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
