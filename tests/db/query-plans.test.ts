/**
 * The five benchmark query patterns (list runs, run with cards, starred count, by company, by status) on the 10k-run demo data set, written as the API runs them (always
 * scoped to the signed-in user), must be served by indexes: EXPLAIN shows index scans and never a
 * sequential scan of Run or OpportunityCard. Prints which index serves each pattern.
 */
import type { Database } from '../../src/db/client';
import { seedDemoData } from '../../src/tooling/seed';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { recordingClient, scansOf } from '../helpers/query-plans';

let db: TestDatabase;
const served: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  await seedDemoData(db.url, 10_000);
}, 120_000);
afterAll(async () => {
  await db.drop();
  process.stdout.write(`\nindexes serving the five benchmark query patterns (10k runs):\n${served.join('\n')}\n`);
});

async function users(): Promise<{ typical: string; heaviest: string }> {
  const { rows } = await db.sql.query<{ userId: string }>(`SELECT "userId" FROM "Run" GROUP BY "userId" ORDER BY count(*) DESC, "userId"`);
  return { heaviest: rows[0]!.userId, typical: rows[Math.floor(rows.length / 2)]!.userId };
}

const patterns: Array<[string, (p: Database, userId: string, runId: string) => Promise<unknown>]> = [
  [
    'List user’s runs (page 1)',
    (p, userId) => p.run.findMany({ where: { userId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: 21 }),
  ],
  [
    'Get run with cards',
    (p, userId, runId) => p.run.findFirst({ where: { id: runId, userId }, include: { opportunityCards: { orderBy: { number: 'asc' } } } }),
  ],
  ['Count starred cards', (p, userId) => p.opportunityCard.count({ where: { userId, starred: true } })],
  [
    'Filter by company',
    (p, userId) =>
      p.run.findMany({ where: { userId, companyId: 'lactalis-canada' }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: 21 }),
  ],
  [
    'Search by status',
    (p, userId) => p.run.findMany({ where: { userId, status: 'FAILED' }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: 21 }),
  ],
];

describe.each(['typical', 'heaviest'] as const)('for the %s user', (which) => {
  it.each(patterns)('%s uses indexes, never a sequential scan of Run or OpportunityCard', async (name, query) => {
    const userId = (await users())[which];
    const { rows } = await db.sql.query<{ id: string }>(
      `SELECT id FROM "Run" WHERE "userId" = $1 AND status = 'COMPLETED' ORDER BY "createdAt" DESC LIMIT 1`,
      [userId],
    );
    const recording = recordingClient(db.url);
    try {
      await query(recording.client, userId, rows[0]!.id);
      const found = await scansOf(db.url, recording.take());
      expect(found.length).toBeGreaterThan(0);
      expect(found.filter((s) => s.type === 'Seq Scan' && ['Run', 'OpportunityCard'].includes(s.relation ?? ''))).toEqual([]);
      // Every table read goes through an index (a Bitmap Heap Scan reads the rows its Bitmap Index Scan found).
      const viaIndex = (s: (typeof found)[number]) => /Index/.test(s.type) || s.type === 'Bitmap Heap Scan';
      expect(found.filter((s) => !viaIndex(s))).toEqual([]);
      // "This user's runs with status X / for company Y, newest first" read one composite index, not an
      // intersection of the user's runs with everyone's runs of that status or company.
      const composite = {
        'Filter by company': 'Run_userId_companyId_createdAt_idx',
        'Search by status': 'Run_userId_status_createdAt_idx',
      }[name];
      if (composite)
        expect(
          found
            .filter((s) => s.relation === 'Run' || s.index?.startsWith('Run_'))
            .map((s) => s.index)
            .filter(Boolean),
        ).toEqual([composite]);
      served.push(
        `  ${which.padEnd(8)} ${name.padEnd(26)} ${found
          .filter((s) => s.index)
          .map((s) => `${s.type} on ${s.index}`)
          .join(', ')}`,
      );
    } finally {
      await recording.client.$disconnect();
    }
  });
});
