/**
 * The Prisma client honours Prisma's URL parameters: connection_limit sizes its pool, pgbouncer=true turns
 * prepared statements off (they are on otherwise). It does not record a call site for every query.
 */
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

/** The statements prepared on the client's one connection after it ran the same query three times. */
async function preparedAfterRepeats(url: string): Promise<string[]> {
  const client = createPrismaClient(`${url}${url.includes('?') ? '&' : '?'}connection_limit=1`, { logQueries: false, production: true });
  try {
    for (let i = 0; i < 3; i++) await client.user.findMany({ where: { clerkId: 'user_prepared' }, take: 1 });
    const rows = await client.$queryRaw<Array<{ name: string; statement: string }>>`SELECT name, statement FROM pg_prepared_statements`;
    return rows.filter((row) => row.statement.includes('"User"')).map((row) => row.name);
  } finally {
    await client.$disconnect();
  }
}

it('a statement is prepared once per connection and reused', async () => {
  expect(await preparedAfterRepeats(db.url)).toHaveLength(1);
});

it('pgbouncer=true sends every statement unnamed', async () => {
  expect(await preparedAfterRepeats(`${db.url}?pgbouncer=true`)).toEqual([]);
});

it('a failed query reports its reason only: no call site was captured for it', async () => {
  const client = createPrismaClient(db.url, { logQueries: false, production: true });
  try {
    const failure = await client.user.findUniqueOrThrow({ where: { clerkId: 'user_absent' } }).then(
      () => undefined,
      (error: unknown) => error as { code?: string; message: string },
    );
    expect(failure?.code).toBe('P2025');
    // Any other error format prefixes the reason with the call site ("Invalid `…` invocation in <file>:<line>" and the source lines),
    // taken from a stack trace captured before each query is sent.
    expect(failure?.message).not.toMatch(/invocation in|client\.test/);
  } finally {
    await client.$disconnect();
  }
});
