/** The Prisma client honours Prisma's URL parameters: connection_limit sizes its pool. */
import { createPrismaClient } from '../../src/db/client';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

async function backendsUsed(url: string, concurrent: number): Promise<number> {
  const client = createPrismaClient(url, { logQueries: false, production: true });
  try {
    const pids = await Promise.all(
      Array.from({ length: concurrent }, () =>
        client.$queryRaw<Array<{ pid: number }>>`SELECT pg_backend_pid() AS pid, pg_sleep(0.05)::text AS slept`.then(
          (rows) => rows[0]!.pid,
        ),
      ),
    );
    return new Set(pids).size;
  } finally {
    await client.$disconnect();
  }
}

it('connection_limit=1 serves concurrent queries over one connection', async () => {
  expect(await backendsUsed(`${db.url}?connection_limit=1`, 6)).toBe(1);
});

it('connection_limit=3 uses at most three', async () => {
  const used = await backendsUsed(`${db.url}?connection_limit=3&pool_timeout=5`, 9);
  expect(used).toBeGreaterThan(1);
  expect(used).toBeLessThanOrEqual(3);
});

it('a PgBouncer-style URL (pgbouncer=true, schema, connection_limit) works and keeps its pool size', async () => {
  expect(await backendsUsed(`${db.url}?pgbouncer=true&connection_limit=2&schema=public`, 4)).toBeLessThanOrEqual(2);
});
