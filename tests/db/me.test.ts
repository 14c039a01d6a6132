/**
 * src/auth/me.ts reads the signed-in user's row and counts with SQL of its own (through `$queryRaw`) when that
 * is all `me` asks: it must return exactly what Prisma's own read returns for the same query, on seeded data
 * (only the user's own runs and cards counted), and a user that is gone must fail as Prisma's read fails.
 */
import { Owner } from '../../src/auth/owner';
import { readMe } from '../../src/auth/me';
import { Prisma } from '../../src/generated/prisma/client';
import { seedDemoData } from '../../src/tooling/seed';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

let db: TestDatabase;
let userIds: string[];

beforeAll(async () => {
  db = await createTestDatabase();
  await seedDemoData(db.url, 2_000);
  await db.sql.query(
    `INSERT INTO "User" (id, "clerkId", email, "updatedAt") VALUES ('no-runs', 'user_no_runs', 'none@example.com', now())`,
  );
  const { rows } = await db.sql.query<{ id: string }>(
    `SELECT u.id FROM "User" u LEFT JOIN "Run" r ON r."userId" = u.id GROUP BY u.id ORDER BY count(r.id) DESC, u.id`,
  );
  userIds = [rows[0]!.id, rows[Math.floor(rows.length / 2)]!.id, 'no-runs'];
}, 120_000);
afterAll(() => db.drop());

const EVERY_COLUMN = Object.fromEntries(Object.values(Prisma.UserScalarFieldEnum).map((column) => [column, true as const]));
const QUERIES: Array<[string, object]> = [
  ['the starred count', { select: { id: true, _count: { select: { opportunityCards: { where: { starred: true } } } } } }],
  ['the unstarred count', { select: { id: true, _count: { select: { opportunityCards: { where: { starred: false } } } } } }],
  [
    'every column and every count',
    { select: { ...EVERY_COLUMN, _count: { select: { runs: true, opportunityCards: { where: { starred: true } } } } } },
  ],
  ['all cards and runs', { select: { id: true, _count: { select: { runs: true, opportunityCards: true } } } }],
  ['the columns alone', { select: EVERY_COLUMN }],
  // Not answered by the SQL: a nested list (Prisma's client reads it, the answer is the same either way).
  ['a nested list', { select: { id: true, runs: { select: { id: true }, take: 3, orderBy: { id: 'asc' } } } }],
];

it.each(QUERIES)('reads what Prisma reads: %s', async (_name, query) => {
  for (const id of userIds) {
    expect(await readMe(db.prisma, new Owner(id), query)).toEqual(await db.prisma.user.findUniqueOrThrow({ ...query, where: { id } }));
  }
});

it("counts only the user's own runs and cards", async () => {
  const [busiest] = userIds;
  const me = (await readMe(db.prisma, new Owner(busiest!), {
    select: { id: true, _count: { select: { runs: true, opportunityCards: { where: { starred: true } } } } },
  })) as unknown as { _count: { runs: number; opportunityCards: number } };
  const { rows } = await db.sql.query<{ runs: number; starred: number }>(
    `SELECT (SELECT count(*)::int FROM "Run" WHERE "userId" = $1) AS runs,
            (SELECT count(*)::int FROM "OpportunityCard" WHERE "userId" = $1 AND starred) AS starred`,
    [busiest],
  );
  expect(me._count).toEqual({ runs: rows[0]!.runs, opportunityCards: rows[0]!.starred });
  expect(rows[0]!.runs).toBeGreaterThan(0);
});

it('fails for a user that is gone as Prisma’s own read fails', async () => {
  const query = { select: { id: true, _count: { select: { opportunityCards: { where: { starred: true } } } } } };
  const prismaError = await db.prisma.user.findUniqueOrThrow({ ...query, where: { id: 'gone' } }).catch((error: unknown) => error);
  const error = await readMe(db.prisma, new Owner('gone'), query).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
  expect((error as { code: string }).code).toBe((prismaError as { code: string }).code);
});
