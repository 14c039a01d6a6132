/**
 * `npm run db:seed [-- --runs N]`: loads the seed's data (src/tooling/seed.ts) into DATABASE_URL or the embedded
 * PostgreSQL, and with --runs a deterministic demo data set of N runs over 100 users.
 */
import { SEED_USER } from '../src/auth/dev-keys';
import { seedBaseData, seedDemoData } from '../src/tooling/seed';
import { ConfigError, loadConfig } from '../src/config';
import { openDatabaseTarget } from '../src/tooling/target';
import { commandLine } from '../src/args';
import { runCli } from './cli';

function parseRuns(argv: string[]): number | undefined {
  const { values } = commandLine(
    {
      usage: 'npm run db:seed [-- --runs N]',
      help: `Loads the seed's data (user test_user_123, a completed Lactalis run and its five cards) into DATABASE_URL or the
embedded PostgreSQL; with --runs N also a deterministic demo data set of N runs over 100 users (rows already
there are left as they are).`,
      options: { runs: { type: 'string' } },
    },
    argv,
  );
  if (values.runs === undefined) return undefined;
  const value = Number(values.runs);
  if (!Number.isInteger(value) || value < 1 || value > 10_000_000) {
    throw new ConfigError(`--runs needs a whole number from 1 to 10000000 (got "${values.runs}")`);
  }
  return value;
}

async function main(argv: string[]): Promise<void> {
  const runs = parseRuns(argv);
  const target = await openDatabaseTarget(loadConfig());
  try {
    const base = await seedBaseData(target.url);
    console.log(`Seed data: user ${SEED_USER.clerkId} (${base.userId}), run ${base.runId}, ${base.cardCount} cards`);
    if (runs) {
      const started = Date.now();
      const result = await seedDemoData(target.url, runs, (done, total) => {
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        process.stdout.write(`\rdemo runs ${done}/${total} (${Math.floor((done / total) * 100)}%) ${seconds}s`);
      });
      process.stdout.write('\n');
      console.log(
        `Demo data: inserted ${result.runs} runs, ${result.cards} cards, ${result.reports} inspiration reports, ` +
          `${result.outputs} stage outputs in ${((Date.now() - started) / 1000).toFixed(1)}s ` +
          `(rows that already existed were left as they were)`,
      );
    }
  } finally {
    await target.close();
  }
}

runCli(() => main(process.argv.slice(2)));
