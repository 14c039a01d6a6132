/**
 * The PostgreSQL server the whole test run uses: TEST_DATABASE_URL when set (any database on that server;
 * the run creates and drops its own databases there), else an embedded PostgreSQL in a temporary folder,
 * deleted afterwards. A template database is migrated once with Prisma's engine; each test file clones it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runStatement } from '../../src/db/admin';
import { startEmbeddedPostgres } from '../../src/tooling/embedded';
import { spawnSync } from 'node:child_process';
import { maskUrl, withDatabase } from '../../src/db/url';

export interface TestPostgres {
  stop(): Promise<void>;
}

/** Migrates with the same command a user runs (`npm run db:migrate`), in a child process. */
function migrateWithCli(databaseUrl: string): void {
  const root = path.resolve(__dirname, '..', '..');
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts', 'deploy'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl, DIRECT_URL: '', NODE_ENV: 'test' },
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new Error(`migrating the test template failed:\n${result.stdout}\n${result.stderr}`);
  }
}

export async function startTestPostgres(): Promise<TestPostgres> {
  let adminUrl = process.env.TEST_DATABASE_URL;
  let stopServer = () => Promise.resolve();
  if (adminUrl) {
    process.stdout.write(`\ntests use TEST_DATABASE_URL ${maskUrl(adminUrl)}\n`);
  } else {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'opportunity-api-test-'));
    const embedded = await startEmbeddedPostgres({ dataDir, ephemeral: true });
    adminUrl = withDatabase(embedded.url, 'postgres');
    stopServer = async () => {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
    process.stdout.write(`\ntests use an embedded PostgreSQL in ${dataDir}\n`);
  }

  const template = `test_template_${process.pid}_${Date.now().toString(36)}`;
  await runStatement(adminUrl, `CREATE DATABASE "${template}"`);
  migrateWithCli(withDatabase(adminUrl, template));

  // Read by the test workers (tests/helpers/database.ts), which Jest starts after this.
  process.env.TEST_ADMIN_URL = adminUrl;
  process.env.TEST_TEMPLATE_DATABASE = template;

  return {
    async stop() {
      await runStatement(adminUrl, `DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`).catch(() => undefined);
      await stopServer();
    },
  };
}
