/**
 * Seed data. The base set: user `test_user_123`, a Lactalis run COMPLETED at stage 5 and its 5 opportunity
 * cards, loaded into a brand-new embedded database by `npm start` and by `npm run db:seed`. Idempotent: fixed
 * ids and upserts leave the same rows on every run. `seedDemoData` adds a deterministic demo data set.
 */
import pg from 'pg';
import { createPrismaClient } from '../db/client';
import { parsePoolSettings } from '../db/url';
import { SEED_USER } from '../auth/dev-keys';

export const SEED_RUN_ID = '5eed0000-0000-4000-8000-000000000001';
const seedCardId = (n: number) => `5eed0000-0000-4000-8000-0000000001${String(n).padStart(2, '0')}`;

export interface BaseSeedResult {
  userId: string;
  runId: string;
  cardCount: number;
}

export async function seedBaseData(databaseUrl: string): Promise<BaseSeedResult> {
  const prisma = createPrismaClient(databaseUrl, { logQueries: false, production: false });
  try {
    return await prisma.$transaction(async (tx) => {
      const user = await tx.user.upsert({
        where: { clerkId: SEED_USER.clerkId },
        create: SEED_USER,
        update: {},
      });
      const run = await tx.run.upsert({
        where: { id: SEED_RUN_ID },
        create: {
          id: SEED_RUN_ID,
          userId: user.id,
          companyId: 'lactalis-canada',
          companyName: 'Lactalis',
          documentName: 'test-report.pdf',
          documentUrl: 'https://example.com/test.pdf',
          status: 'COMPLETED',
          currentStage: 5,
          completedAt: new Date(),
        },
        update: {},
      });
      for (const num of [1, 2, 3, 4, 5]) {
        await tx.opportunityCard.upsert({
          where: { id: seedCardId(num) },
          create: {
            id: seedCardId(num),
            runId: run.id,
            userId: user.id,
            number: num,
            title: `Test Opportunity ${num}`,
            tagline: `Test tagline ${num}`,
            problem: 'Test problem',
            solution: 'Test solution',
            why_now: 'Test timing',
            target_segment: 'Test segment',
            quick_win: 'Test quick win',
          },
          update: {},
        });
      }
      const cardCount = await tx.opportunityCard.count({ where: { runId: run.id } });
      return { userId: user.id, runId: run.id, cardCount };
    });
  } finally {
    await prisma.$disconnect();
  }
}

export const DEMO_USERS = 100;
const COMPANIES = [
  ['lactalis-canada', 'Lactalis'],
  ['danone-north-america', 'Danone'],
  ['nestle-usa', 'Nestlé'],
  ['unilever', 'Unilever'],
  ['general-mills', 'General Mills'],
  ['kraft-heinz', 'Kraft Heinz'],
  ['pepsico', 'PepsiCo'],
  ['coca-cola', 'Coca-Cola'],
  ['mondelez', 'Mondelez'],
  ['kelloggs', "Kellogg's"],
  ['saputo', 'Saputo'],
  ['agropur', 'Agropur'],
  ['mccain-foods', 'McCain Foods'],
  ['maple-leaf-foods', 'Maple Leaf Foods'],
  ['loblaw', 'Loblaw'],
  ['sobeys', 'Sobeys'],
  ['metro-inc', 'Metro'],
  ['tim-hortons', 'Tim Hortons'],
  ['starbucks', 'Starbucks'],
  ['loreal', "L'Oréal"],
  ['procter-gamble', 'Procter & Gamble'],
  ['ikea', 'IKEA'],
  ['lululemon', 'Lululemon'],
  ['shopify', 'Shopify'],
  ['canadian-tire', 'Canadian Tire'],
] as const;
/** Demo timestamps end here, so the data set is the same whenever it is generated. */
const DEMO_EPOCH = '2026-11-01T00:00:00Z';

/**
 * One statement per batch, computed inside PostgreSQL from `generate_series`: every value is derived from the
 * run's number through md5, so the same `--runs N` always yields the same rows, and re-running inserts nothing
 * (ON CONFLICT DO NOTHING on deterministic ids; children are only written for runs inserted by this batch).
 */
const DEMO_BATCH_SQL = `
WITH companies AS (
  SELECT ordinality - 1 AS idx, c->>0 AS company_id, c->>1 AS company_name
  FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS t(c, ordinality)
),
src AS (
  SELECT g, md5('demo-run:' || g) AS m FROM generate_series($1::bigint, $2::bigint) AS g
),
shaped AS (
  SELECT g,
    md5('demo-run-id:' || g)::uuid::text AS id,
    floor(${DEMO_USERS} * power(('x' || substr(m, 1, 8))::bit(32)::bigint / 4294967296.0, 2))::int AS user_no,
    ('x' || substr(m, 9, 8))::bit(32)::bigint % ${COMPANIES.length} AS company_idx,
    $4::timestamptz - make_interval(secs => ('x' || substr(m, 17, 8))::bit(32)::bigint % 31536000) AS created_at,
    ('x' || substr(m, 25, 8))::bit(32)::bigint AS h
  FROM src
),
staged AS (
  SELECT s.*,
    CASE WHEN h % 100 < 80 THEN 'COMPLETED' WHEN h % 100 < 88 THEN 'FAILED'
         WHEN h % 100 < 95 THEN 'RUNNING' ELSE 'PENDING' END AS status,
    (1 + (h / 100) % 5)::int AS stage_reached
  FROM shaped s
),
runs AS (
  INSERT INTO "Run" ("id", "userId", "companyId", "companyName", "documentName", "documentUrl", "status",
                     "currentStage", "errorMessage", "createdAt", "updatedAt", "completedAt")
  SELECT st.id, md5('demo-user:' || st.user_no)::uuid::text, c.company_id, c.company_name,
    'trend-report-' || st.g || '.pdf', 'https://blob.example.com/reports/' || st.id || '.pdf',
    st.status::"RunStatus",
    CASE st.status WHEN 'COMPLETED' THEN 5 WHEN 'PENDING' THEN 0 ELSE st.stage_reached END,
    CASE WHEN st.status = 'FAILED' THEN 'Stage ' || st.stage_reached || ' failed: model response could not be parsed' END,
    st.created_at,
    st.created_at + interval '4 minutes',
    CASE WHEN st.status = 'COMPLETED' THEN st.created_at + interval '4 minutes' END
  FROM staged st JOIN companies c ON c.idx = st.company_idx
  ON CONFLICT ("id") DO NOTHING
  RETURNING "id", "userId", "status", "currentStage", "companyName", "createdAt"
),
done AS (
  -- Stages whose output exists: all five when completed, the ones before the current stage otherwise.
  SELECT r.*, CASE WHEN r.status = 'COMPLETED' THEN 5 ELSE greatest(r."currentStage" - 1, 0) END AS stages_done
  FROM runs r
),
cards AS (
  INSERT INTO "OpportunityCard" ("id", "runId", "userId", "number", "title", "tagline", "problem", "solution",
                                 "why_now", "target_segment", "quick_win", "starred", "createdAt", "updatedAt")
  SELECT md5('demo-card:' || d.id || ':' || n)::uuid::text, d.id, d."userId", n,
    d."companyName" || ' opportunity ' || n,
    'A sharper way for ' || d."companyName" || ' to win shoppers (' || n || ')',
    'Shoppers cannot find products that match how they live now.',
    'A focused line extension with a digital companion for ' || d."companyName" || '.',
    'The trend report shows demand moved in the last two quarters.',
    'Urban households aged 25-44',
    'Pilot in ten stores within six weeks.',
    ('x' || substr(md5('demo-star:' || d.id || ':' || n), 1, 8))::bit(32)::bigint % 5 = 0,
    d."createdAt" + interval '4 minutes', d."createdAt" + interval '4 minutes'
  FROM done d CROSS JOIN generate_series(1, 5) AS n
  WHERE d.status = 'COMPLETED'
  RETURNING 1
),
reports AS (
  INSERT INTO "InspirationReport" ("id", "runId", "inspiration1Title", "inspiration1Content", "inspiration1Elements",
                                   "inspiration2Title", "inspiration2Content", "inspiration2Elements", "createdAt", "updatedAt")
  SELECT md5('demo-report:' || d.id)::uuid::text, d.id,
    'Convenience as a ritual', 'How ' || d."companyName" || ' shoppers turn quick meals into moments.',
    ARRAY['convenience', 'ritual', 'premium'],
    'Local pride', 'Provenance stories that travel from the farm to the shelf.',
    ARRAY['provenance', 'community', 'transparency'],
    d."createdAt" + interval '1 minute', d."createdAt" + interval '1 minute'
  FROM done d WHERE d.stages_done >= 1
  RETURNING 1
),
outputs AS (
  INSERT INTO "StageOutput" ("id", "runId", "stageNumber", "markdownOutput", "jsonOutput", "createdAt")
  SELECT md5('demo-output:' || d.id || ':' || s)::uuid::text, d.id, s,
    '# Stage ' || s || ' — ' || d."companyName" || E'\\n\\n' ||
      repeat('The report points to a shift in how households plan meals, buy premium staples and judge brands '
             || 'on transparency. This stage condenses that signal into findings for the next stage. ', 12),
    jsonb_build_object('stage', s, 'company', d."companyName", 'findings', 3 + s, 'confidence', round(0.5 + s / 10.0, 2)),
    d."createdAt" + make_interval(mins => s)
  FROM done d CROSS JOIN generate_series(1, 5) AS s
  WHERE s <= d.stages_done
  RETURNING 1
)
SELECT (SELECT count(*) FROM runs)::int AS runs, (SELECT count(*) FROM cards)::int AS cards,
       (SELECT count(*) FROM reports)::int AS reports, (SELECT count(*) FROM outputs)::int AS outputs`;

export interface DemoSeedResult {
  runs: number;
  cards: number;
  reports: number;
  outputs: number;
}

/**
 * A demo data set of `runCount` runs spread over 100 users like a real product: a few heavy users and a long
 * tail, ~25 companies, a year of createdAt, ~80% completed with 5 cards (~20% starred), the rest failed,
 * running or pending; an inspiration report once stage 1 is done; a stage output (~2 KB markdown + small JSON)
 * per finished stage.
 */
export async function seedDemoData(
  databaseUrl: string,
  runCount: number,
  onProgress: (done: number, total: number) => void = () => undefined,
): Promise<DemoSeedResult> {
  const pool = new pg.Pool({ connectionString: parsePoolSettings(databaseUrl).connectionString, max: 2 });
  pool.on('error', () => undefined); // an idle connection dropped by the server is simply replaced
  const totals: DemoSeedResult = { runs: 0, cards: 0, reports: 0, outputs: 0 };
  try {
    await pool.query(
      `INSERT INTO "User" ("id", "clerkId", "email", "name", "createdAt", "updatedAt")
       SELECT md5('demo-user:' || u)::uuid::text, 'demo_user_' || lpad(u::text, 3, '0'),
              'demo.user.' || lpad(u::text, 3, '0') || '@example.com', 'Demo User ' || u,
              $1::timestamptz - interval '1 year', $1::timestamptz - interval '1 year'
       FROM generate_series(0, ${DEMO_USERS - 1}) AS u
       ON CONFLICT DO NOTHING`,
      [DEMO_EPOCH],
    );
    const batchSize = 20_000;
    const companies = JSON.stringify(COMPANIES);
    for (let first = 1; first <= runCount; first += batchSize) {
      const last = Math.min(first + batchSize - 1, runCount);
      const { rows } = await pool.query<DemoSeedResult>(DEMO_BATCH_SQL, [first, last, companies, DEMO_EPOCH]);
      const batch = rows[0]!;
      totals.runs += batch.runs;
      totals.cards += batch.cards;
      totals.reports += batch.reports;
      totals.outputs += batch.outputs;
      onProgress(last, runCount);
    }
    await pool.query('ANALYZE "User", "Run", "OpportunityCard", "InspirationReport", "StageOutput"');
    return totals;
  } finally {
    await pool.end();
  }
}
