/**
 * Batched run reads (many subscriptions starting in the same tick): each read gets its own user's row, and
 * a batch's query shape depends only on how many users it spans (rounded up to a power of two), never on
 * which of them repeat, so Prisma's plan cache serves it. A shape per pattern of repeated users was a plan
 * compiled anew for almost every batch of a reconnect storm (12% of the server's time).
 */
import { createPrismaClient, type Database } from '../../src/db/client';
import { Owner } from '../../src/auth/owner';
import { SharedReads } from '../../src/live/shared-reads';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { createRun, createUser } from '../helpers/fixtures';

let db: TestDatabase;
let client: Database;
const statements: string[] = [];
const query = { select: { id: true, status: true } };
/** What Prisma's client engine reports (its debug output, enabled below). */
const engineLog: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  client = createPrismaClient(db.url, { logQueries: true, production: false });
  client.$on('query' as never, (event: { query: string }) => statements.push(event.query));
  // Prisma's debug output says whether each query's plan came from its cache; it goes to console.warn.
  (globalThis as { DEBUG?: string }).DEBUG = 'prisma:client:clientEngine';
  jest.spyOn(console, 'warn').mockImplementation((line: unknown) => void engineLog.push(String(line)));
});
afterAll(async () => {
  (globalThis as { DEBUG?: string }).DEBUG = '';
  jest.restoreAllMocks();
  await client.$disconnect();
  await db.drop();
});

/** Reads started in one tick (one batch): each read's row id, its statements, and its plans compiled anew. */
async function batch(reads: Array<[Owner, string]>) {
  const shared = new SharedReads();
  statements.length = engineLog.length = 0;
  const rows = await Promise.all(reads.map(([owner, runId]) => shared.run(client, owner, runId, query)));
  return {
    ids: rows.map((row) => row?.id ?? null),
    runReads: statements.filter((sql) => /FROM "public"\."Run"/.test(sql)),
    plansCompiled: engineLog.filter((line) => line.includes('query plan cache miss')).length,
  };
}

it('each read gets its own row; which users repeat in a batch compiles no new plan', async () => {
  const users = await Promise.all(['a', 'b', 'c', 'd'].map((name) => createUser(client, { clerkId: `user_reads_${name}` })));
  const [a, b, c, d] = users.map((user) => new Owner(user.id)) as [Owner, Owner, Owner, Owner];
  const runs = await Promise.all([a, a, b, b, c, d].map((owner) => createRun(client, owner.userId)));
  const [a1, a2, b1, b2, c1, d1] = runs.map((run) => run.id) as [string, string, string, string, string, string];

  const aliceTwice = await batch([
    [a, a1],
    [a, a2],
    [b, b1],
  ]);
  expect(aliceTwice.ids).toEqual([a1, a2, b1]);
  expect(aliceTwice.runReads).toHaveLength(1);
  expect(aliceTwice.plansCompiled).toBe(1); // the first of its shape: the probe sees compilations
  const bobTwice = await batch([
    [a, a1],
    [b, b1],
    [b, b2],
  ]);
  expect(bobTwice.ids).toEqual([a1, b1, b2]);
  expect(bobTwice.plansCompiled).toBe(0);

  // Three users, then four: one plan (the users' groups are padded to a power of two).
  const threeUsers = await batch([
    [a, a1],
    [b, b1],
    [c, c1],
  ]);
  expect(threeUsers.ids).toEqual([a1, b1, c1]);
  const fourUsers = await batch([
    [a, a2],
    [b, b2],
    [c, c1],
    [d, d1],
  ]);
  expect(fourUsers.ids).toEqual([a2, b2, c1, d1]);
  expect(fourUsers.plansCompiled).toBe(0);

  // Another user's run, asked for in the same batch as its owner's own read of it: only the owner gets it.
  const crossed = await batch([
    [a, b1],
    [b, b1],
    [a, a1],
  ]);
  expect(crossed.ids).toEqual([null, b1, a1]);
  expect(crossed.runReads.every((sql) => /"userId" = \$\d+/.test(sql))).toBe(true);
});
