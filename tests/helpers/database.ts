/**
 * Each test file owns a fresh, migrated database cloned from the run's template (tests/setup/postgres.ts),
 * so files run in parallel and never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { runStatement } from '../../src/db/admin';
import { createPrismaClient, type Database } from '../../src/db/client';
import { LISTENER_APPLICATION_NAME } from '../../src/db/events';
import { withDatabase } from '../../src/db/url';

export interface TestDatabase {
  name: string;
  url: string;
  /** A Prisma client on this database (closed by `drop()`). */
  prisma: Database;
  /** Raw SQL on this database, as the Python pipeline would write. */
  sql: pg.Pool;
  drop(): Promise<void>;
}

function adminUrl(): string {
  const url = process.env.TEST_ADMIN_URL;
  if (!url) throw new Error('TEST_ADMIN_URL is not set: run the tests through jest (npm test)');
  return url;
}

/** Runs a statement on the test server itself (create or drop a database). */
const onServer = (sql: string) => runStatement(adminUrl(), sql);

/** An empty database (no tables), for migration tests. */
export async function createEmptyDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `test_${randomBytes(6).toString('hex')}`;
  await onServer(`CREATE DATABASE "${name}"`);
  return { name, url: withDatabase(adminUrl(), name), drop: () => onServer(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const template = process.env.TEST_TEMPLATE_DATABASE;
  if (!template) throw new Error('TEST_TEMPLATE_DATABASE is not set: run the tests through jest (npm test)');
  const name = `test_${randomBytes(6).toString('hex')}`;
  // Two workers cloning the template at the same instant can collide; the second simply tries again.
  for (let attempt = 1; ; attempt++) {
    try {
      await onServer(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
      break;
    } catch (error) {
      if (attempt >= 10 || !String(error).includes('being accessed by other users')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
  const url = withDatabase(adminUrl(), name);
  const prisma = createPrismaClient(url, { logQueries: false, production: false });
  const sql = new pg.Pool({ connectionString: url, max: 4 });
  // An idle connection that the server drops (say on DROP DATABASE … WITH (FORCE)) must not crash the file.
  sql.on('error', () => undefined);
  return {
    name,
    url,
    prisma,
    sql,
    async drop() {
      await prisma.$disconnect();
      await sql.end();
      await onServer(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

/**
 * Kills the LISTEN connection of a run event listener, as a network failure would: only if that backend
 * really is a listener (a pid alone could, in theory, have been reused by another session on a shared server).
 */
export async function terminateListener(sql: pg.Pool, pid: number | undefined): Promise<void> {
  if (pid === undefined) throw new Error('the listener has no connection to terminate');
  const { rows } = await sql.query<{ terminated: boolean }>(
    'SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity WHERE pid = $1 AND application_name = $2',
    [pid, LISTENER_APPLICATION_NAME],
  );
  if (!rows[0]?.terminated) throw new Error(`backend ${pid} is not a run event listener`);
}
