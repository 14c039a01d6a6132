/**
 * src/runs/run-reads.ts answers two questions with SQL of its own (through `$queryRaw`) instead of Prisma's query
 * builder: how many of a user's runs match a filter, and a first page of them. Each must return exactly what
 * Prisma's own read returns for the same question, on the seeded demo data (other users' runs absent, every
 * filter, every column, the card count), must say when it does not answer a shape, and must read through
 * the user's indexes as Prisma's statements do.
 */
import { Owner } from '../../src/auth/owner';
import { Prisma } from '../../src/generated/prisma/client';
import { RunReads, type RunFilter } from '../../src/runs/run-reads';
import { NEWEST_FIRST } from '../../src/runs/runs';
import { seedDemoData } from '../../src/tooling/seed';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { recordingClient, scansOf, type RecordingClient } from '../helpers/query-plans';

let db: TestDatabase;
let reads: RunReads;
/** Users by how many runs they hold: the busiest, one from the middle, and one with none. */
let users: { busiest: string; middle: string; none: string };
let companyOf: (userId: string) => Promise<string>;

beforeAll(async () => {
  db = await createTestDatabase();
  await seedDemoData(db.url, 3_000);
  reads = new RunReads(db.prisma);
  const { rows } = await db.sql.query<{ id: string; runs: number }>(
    `SELECT u.id, count(r.id)::int AS runs FROM "User" u LEFT JOIN "Run" r ON r."userId" = u.id GROUP BY u.id ORDER BY 2 DESC, 1`,
  );
  await db.sql.query(
    `INSERT INTO "User" (id, "clerkId", email, "updatedAt") VALUES ('no-runs', 'user_no_runs', 'none@example.com', now())`,
  );
  users = { busiest: rows[0]!.id, middle: rows[Math.floor(rows.length / 2)]!.id, none: 'no-runs' };
  companyOf = async (userId) =>
    (
      await db.sql.query<{ companyId: string }>(
        `SELECT "companyId" FROM "Run" WHERE "userId" = $1 GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`,
        [userId],
      )
    ).rows[0]?.companyId ?? 'lactalis-canada';
}, 120_000);
afterAll(() => db.drop());

/** Prisma's own read of the same page, as src/runs/runs.ts asks it when the SQL does not answer. */
const prismaPage = (userId: string, filter: RunFilter, query: object) =>
  db.prisma.run.findMany({ ...query, where: new Owner(userId).runs(filterOf(filter)), orderBy: NEWEST_FIRST });
const filterOf = (filter: RunFilter) => ({
  ...(filter.status != null ? { status: filter.status } : {}),
  ...(filter.companyId != null ? { companyId: filter.companyId } : {}),
});

const EVERY_COLUMN = Object.fromEntries(Object.values(Prisma.RunScalarFieldEnum).map((column) => [column, true as const]));
const SELECTIONS: Array<[string, object]> = [
  [
    'the list view',
    { id: true, companyName: true, status: true, currentStage: true, createdAt: true, _count: { select: { opportunityCards: true } } },
  ],
  ['every column', EVERY_COLUMN],
  ['every column and the card count', { ...EVERY_COLUMN, _count: { select: { opportunityCards: true } } }],
  ['the id alone', { id: true }],
];

async function filtersFor(userId: string): Promise<Array<[string, RunFilter]>> {
  const companyId = await companyOf(userId);
  return [
    ['no filter', {}],
    ...(['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const).map((status): [string, RunFilter] => [status, { status }]),
    ['its busiest company', { companyId }],
    ['a company it never used', { companyId: 'no-such-company' }],
    ['COMPLETED at its busiest company', { status: 'COMPLETED', companyId }],
  ];
}

describe.each(['busiest', 'middle', 'none'] as const)('for the %s user', (which) => {
  it('counts exactly what Prisma counts, for every filter', async () => {
    const userId = users[which];
    for (const [, filter] of await filtersFor(userId)) {
      const expected = await db.prisma.run.count({ where: new Owner(userId).runs(filterOf(filter)) });
      expect({ filter, count: await reads.count(new Owner(userId), filter) }).toEqual({ filter, count: expected });
    }
  });

  it('reads a first page and its total in one statement: the same page and count as Prisma, 0 when nothing matches', async () => {
    const userId = users[which];
    const query = { select: SELECTIONS[0]![1], take: 21 };
    for (const [, filter] of await filtersFor(userId)) {
      const read = await reads.firstPageAndTotal(new Owner(userId), filter, query, true);
      expect(read).toEqual({
        runs: await prismaPage(userId, filter, query),
        total: await db.prisma.run.count({ where: new Owner(userId).runs(filterOf(filter)) }),
      });
    }
  });

  it.each(SELECTIONS)('reads the same first page as Prisma: %s, every filter and page size', async (_name, select) => {
    const userId = users[which];
    for (const [, filter] of await filtersFor(userId)) {
      for (const take of [1, 6, 21, 101]) {
        const query = { select, take };
        const page = await reads.firstPage(new Owner(userId), filter, query);
        expect(page).toEqual(await prismaPage(userId, filter, query));
        // Only this user's runs, whatever was selected.
        const ids = (page ?? []).map((run) => run.id);
        if (ids.length) {
          const owners = await db.sql.query<{ userId: string }>('SELECT DISTINCT "userId" FROM "Run" WHERE id = ANY($1)', [ids]);
          expect(owners.rows.map((row) => row.userId)).toEqual([userId]);
        }
      }
    }
  });
});

it("leaves every other shape to Prisma's client", async () => {
  const owner = new Owner(users.busiest);
  const [first] = await prismaPage(users.busiest, {}, { select: { id: true }, take: 1 });
  for (const query of [
    { select: { id: true }, take: 5, skip: 1, cursor: { id: first!.id } }, // a later page
    { select: { id: true }, take: -5 }, // from the end
    { select: { id: true, opportunityCards: { select: { id: true } } }, take: 5 }, // a nested list
    { select: { id: true, _count: { select: { opportunityCards: { where: { starred: true } } } } }, take: 5 }, // a filtered count
    { select: { id: true, nope: true }, take: 5 }, // not a column
    { include: { opportunityCards: true }, take: 5 },
  ]) {
    expect(await reads.firstPage(owner, {}, query)).toBeUndefined();
  }
});

describe('its statements read through the user’s indexes', () => {
  let recording: RecordingClient;
  beforeAll(() => {
    recording = recordingClient(db.url);
  });
  afterAll(() => recording.client.$disconnect());

  /** Sequential scans (named by table) and the indexes the plans of `read`'s statements use. */
  async function indexesUsed(read: () => Promise<unknown>): Promise<string[]> {
    recording.take();
    await read();
    return (await scansOf(db.url, recording.take())).flatMap((scan) =>
      scan.type === 'Seq Scan' ? [`Seq Scan on ${scan.relation}`] : scan.index ? [scan.index] : [],
    );
  }

  // Without a filter any index leading with the user will do (a count may well take the smallest); with one,
  // the composite index of the user and that column, never an intersection with everyone's runs.
  it.each<[string, RunFilter, RegExp]>([
    ['no filter', {}, /^Run_userId_/],
    ['a status', { status: 'FAILED' }, /^Run_userId_status_createdAt_idx$/],
    ['a company', { companyId: 'lactalis-canada' }, /^Run_userId_companyId_createdAt_idx$/],
  ])('%s', async (_name, filter, index) => {
    const traced = new RunReads(recording.client);
    const owner = new Owner(users.busiest);
    const select = { id: true, createdAt: true, _count: { select: { opportunityCards: true } } };
    for (const read of [() => traced.count(owner, filter), () => traced.firstPage(owner, filter, { select, take: 21 })]) {
      const used = await indexesUsed(read);
      expect(used.filter((scan) => scan.startsWith('Seq Scan'))).toEqual([]);
      const onRun = used.filter((scan) => scan.startsWith('Run_'));
      expect(onRun.length).toBeGreaterThan(0);
      for (const scan of onRun) expect(scan).toMatch(index);
    }
  });
});
