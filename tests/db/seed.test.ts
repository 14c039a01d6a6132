/** src/tooling/seed.ts: the seed's data exactly, idempotent; the demo data set deterministic and shaped like a product. */
import { SEED_USER } from '../../src/auth/dev-keys';
import { DEMO_USERS, SEED_RUN_ID, seedDemoData } from '../../src/tooling/seed';
import { runScript } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

let db: TestDatabase;
let twin: TestDatabase;
beforeAll(async () => {
  [db, twin] = await Promise.all([createTestDatabase(), createTestDatabase()]);
});
afterAll(async () => {
  await Promise.all([db.drop(), twin.drop()]);
});

async function snapshot(target: TestDatabase, table: string, where = 'true'): Promise<string> {
  const { rows } = await target.sql.query<{ digest: string | null; n: number }>(
    `SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) AS digest, count(*)::int AS n FROM "${table}" t WHERE ${where}`,
  );
  return `${rows[0]!.n}:${rows[0]!.digest}`;
}
const TABLES = ['User', 'Run', 'OpportunityCard', 'InspirationReport', 'StageOutput'];

describe('base seed (npm run db:seed)', () => {
  it('loads the seed’s user, its COMPLETED Lactalis run at stage 5 and 5 cards, and is idempotent', async () => {
    const result = await runScript('scripts/seed.ts', [], { DATABASE_URL: twin.url });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Seed data: user test_user_123');
    const before = await Promise.all(TABLES.map((t) => snapshot(twin, t)));
    const again = await runScript('scripts/seed.ts', [], { DATABASE_URL: twin.url });
    expect(again.code).toBe(0);
    expect(await Promise.all(TABLES.map((t) => snapshot(twin, t)))).toEqual(before);

    const user = await twin.prisma.user.findUniqueOrThrow({
      where: { clerkId: SEED_USER.clerkId },
      include: { runs: { include: { opportunityCards: { orderBy: { number: 'asc' } } } } },
    });
    expect(user).toMatchObject({ email: 'test@example.com', name: 'Test User' });
    expect(user.runs).toHaveLength(1);
    const run = user.runs[0]!;
    expect(run).toMatchObject({
      companyId: 'lactalis-canada',
      companyName: 'Lactalis',
      documentName: 'test-report.pdf',
      documentUrl: 'https://example.com/test.pdf',
      status: 'COMPLETED',
      currentStage: 5,
    });
    expect(run.completedAt).toBeInstanceOf(Date);
    expect(run.opportunityCards.map((c) => [c.number, c.title, c.tagline, c.why_now, c.target_segment, c.quick_win, c.starred])).toEqual(
      [1, 2, 3, 4, 5].map((n) => [n, `Test Opportunity ${n}`, `Test tagline ${n}`, 'Test timing', 'Test segment', 'Test quick win', false]),
    );
  });
});

describe('demo data (npm run db:seed -- --runs N)', () => {
  const RUNS = 3000;

  it('inserts N runs over 100 users with the shape of a real product, in bulk', async () => {
    const result = await seedDemoData(db.url, RUNS);
    const stats = await db.sql.query<Record<string, number>>(`
      SELECT count(*)::int AS runs,
             count(DISTINCT "userId")::int AS users,
             count(DISTINCT "companyId")::int AS companies,
             count(*) FILTER (WHERE status = 'COMPLETED')::int AS completed,
             count(*) FILTER (WHERE status = 'FAILED')::int AS failed,
             count(*) FILTER (WHERE status = 'RUNNING')::int AS running,
             count(*) FILTER (WHERE status = 'PENDING')::int AS pending,
             count(*) FILTER (WHERE status = 'COMPLETED' AND ("currentStage" <> 5 OR "completedAt" IS NULL))::int AS bad_completed,
             count(*) FILTER (WHERE status = 'PENDING' AND "currentStage" <> 0)::int AS bad_pending,
             count(*) FILTER (WHERE status = 'FAILED' AND "errorMessage" IS NULL)::int AS failed_without_message,
             extract(day FROM max("createdAt") - min("createdAt"))::int AS days
      FROM "Run"`);
    const s = stats.rows[0]!;
    expect(s).toMatchObject({ runs: RUNS, users: DEMO_USERS, companies: 25, bad_completed: 0, bad_pending: 0, failed_without_message: 0 });
    expect(s.days).toBeGreaterThan(350);
    expect(s.completed! / RUNS).toBeCloseTo(0.8, 1);
    for (const status of ['failed', 'running', 'pending']) expect(s[status]).toBeGreaterThan(0);

    const cards = await db.sql.query<Record<string, number>>(`
      SELECT count(*)::int AS cards, avg(starred::int)::float AS starred_share,
             count(*) FILTER (WHERE r.status <> 'COMPLETED')::int AS cards_of_unfinished,
             count(*) FILTER (WHERE c."userId" <> r."userId")::int AS foreign_owner
      FROM "OpportunityCard" c JOIN "Run" r ON r.id = c."runId"`);
    expect(cards.rows[0]).toMatchObject({ cards: s.completed! * 5, cards_of_unfinished: 0, foreign_owner: 0 });
    expect(cards.rows[0]!.starred_share).toBeCloseTo(0.2, 1);

    const children = await db.sql.query<Record<string, number>>(`
      SELECT
        (SELECT count(*) FROM "Run" r WHERE (r.status = 'COMPLETED' OR r."currentStage" > 1)
            AND NOT EXISTS (SELECT 1 FROM "InspirationReport" i WHERE i."runId" = r.id))::int AS missing_reports,
        (SELECT count(*) FROM "InspirationReport" i JOIN "Run" r ON r.id = i."runId" WHERE r.status <> 'COMPLETED' AND r."currentStage" <= 1)::int AS early_reports,
        (SELECT min(length("markdownOutput")) FROM "StageOutput")::int AS min_markdown,
        (SELECT max(length("jsonOutput"::text)) FROM "StageOutput")::int AS max_json,
        (SELECT count(*) FROM "StageOutput" o JOIN "Run" r ON r.id = o."runId"
            WHERE o."stageNumber" > CASE WHEN r.status = 'COMPLETED' THEN 5 ELSE r."currentStage" - 1 END)::int AS outputs_ahead`);
    expect(children.rows[0]).toMatchObject({ missing_reports: 0, early_reports: 0, outputs_ahead: 0 });
    expect(children.rows[0]!.min_markdown).toBeGreaterThan(2000);
    expect(children.rows[0]!.max_json).toBeLessThan(200);

    expect(result).toEqual({
      runs: RUNS,
      cards: cards.rows[0]!.cards,
      reports: await db.prisma.inspirationReport.count(),
      outputs: await db.prisma.stageOutput.count(),
    });
  });

  it('a few users hold many runs and most hold few, like a real product', async () => {
    const { rows } = await db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM "Run" GROUP BY "userId" ORDER BY n DESC`);
    const counts = rows.map((r) => r.n);
    expect(counts[0]!).toBeGreaterThan(RUNS * 0.05);
    expect(counts[Math.floor(counts.length / 2)]!).toBeLessThan(RUNS / DEMO_USERS);
  });

  it('is deterministic and idempotent: re-running inserts nothing; another database gets identical rows', async () => {
    const before = await Promise.all(TABLES.map((t) => snapshot(db, t)));
    expect(await seedDemoData(db.url, RUNS)).toEqual({ runs: 0, cards: 0, reports: 0, outputs: 0 });
    expect(await Promise.all(TABLES.map((t) => snapshot(db, t)))).toEqual(before);

    const cli = await runScript('scripts/seed.ts', ['--runs', String(RUNS)], { DATABASE_URL: twin.url });
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain(`demo runs ${RUNS}/${RUNS} (100%)`);
    // The twin also holds the base seed (the CLI always loads it); compare the demo rows.
    const demoRows = { Run: `t.id <> '${SEED_RUN_ID}'`, OpportunityCard: `t."runId" <> '${SEED_RUN_ID}'` } as Record<string, string>;
    for (const table of ['Run', 'OpportunityCard', 'InspirationReport', 'StageOutput']) {
      expect(await snapshot(twin, table, demoRows[table])).toBe(await snapshot(db, table, demoRows[table]));
    }
  });

  it('rejects a bad --runs value with a message naming it', async () => {
    const result = await runScript('scripts/seed.ts', ['--runs', 'lots'], { DATABASE_URL: twin.url });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--runs needs a whole number');
  });
});
