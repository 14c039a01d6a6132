/**
 * The five benchmark query patterns (list runs, run with cards, starred count, by company, by status) on the 10k-run demo data set, written as the API runs them (always
 * scoped to the signed-in user), must be served by indexes: EXPLAIN shows index scans and never a
 * sequential scan of Run or OpportunityCard. Prints which index serves each pattern.
 */
import pg from 'pg';
import { seedDemoData } from '../../src/tooling/seed';
import { createPrismaClient, type Database } from '../../src/db/client';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

let db: TestDatabase;
let statements: Array<{ sql: string; params: unknown[] }> = [];
const served: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  await seedDemoData(db.url, 10_000);
}, 120_000);
afterAll(async () => {
  await db.drop();
  process.stdout.write(`\nindexes serving the five benchmark query patterns (10k runs):\n${served.join('\n')}\n`);
});

/** A client that records the SQL Prisma sends, with its parameters, to EXPLAIN exactly that. */
function tracing(): Database {
  const client = createPrismaClient(db.url, { logQueries: true, production: false });
  client.$on('query' as never, (event: { query: string; params: string }) => {
    statements.push({ sql: event.query, params: JSON.parse(event.params) as unknown[] });
  });
  return client;
}

function walk(node: PlanNode, visit: (n: PlanNode) => void): void {
  visit(node);
  for (const child of node.Plans ?? []) walk(child, visit);
}

async function explain(run: () => Promise<unknown>): Promise<PlanNode[]> {
  statements = [];
  await run();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const plans: PlanNode[] = [];
    for (const { sql, params } of statements) {
      if (!/^\s*SELECT/i.test(sql)) continue;
      const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
      plans.push(rows[0]!['QUERY PLAN'][0]!.Plan);
    }
    return plans;
  } finally {
    await client.end();
  }
}

function scans(plans: PlanNode[]) {
  const found: Array<{ type: string; relation?: string; index?: string }> = [];
  for (const plan of plans)
    walk(plan, (n) => {
      if (/Scan/.test(n['Node Type'])) found.push({ type: n['Node Type'], relation: n['Relation Name'], index: n['Index Name'] });
    });
  return found;
}

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
    const p = tracing();
    try {
      const found = scans(await explain(() => query(p, userId, rows[0]!.id)));
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
      await p.$disconnect();
    }
  });
});
