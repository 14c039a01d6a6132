/**
 * What one statement costs the process that sends it (`npm run bench -- --statement-cost`): the API's own
 * Prisma calls for the starred count and a page of runs, against node-postgres sending a prepared statement
 * that answers the same question, and against Prisma's `$queryRawUnsafe` with that statement. CPU time of this
 * process per call (user + system), calls one after the other on an otherwise idle process, so the numbers
 * are the client libraries' own cost, not the server's or the network's.
 */
import pg from 'pg';
import { createPrismaClient, type Database } from '../../src/db/client';
import { NEWEST_FIRST } from '../../src/runs/runs';
import { STARRED_COUNT_SQL, type BenchUser } from './patterns';

const WARMUP_CALLS = 500;
const MEASURED_CALLS = 3_000;
/** Rounds of the three clients in turn; the table shows their mean. */
export const STATEMENT_COST_ROUNDS = 2;

interface Client {
  label: string;
  call(): Promise<unknown>;
}

const PAGE_SQL = `SELECT r.id, r."companyName", r.status, r."currentStage", r."createdAt",
    (SELECT count(*)::int FROM "OpportunityCard" c WHERE c."runId" = r.id) AS "opportunityCardCount"
  FROM "Run" r WHERE r."userId" = $1 ORDER BY r."createdAt" DESC, r.id DESC LIMIT 21`;

/** The three ways of asking one question; the Prisma call is the one the API's resolvers make. */
function clientsFor(question: 'starred' | 'page', db: Database, pool: pg.Pool, user: BenchUser): Client[] {
  const sql = question === 'starred' ? STARRED_COUNT_SQL : PAGE_SQL;
  const prismaCall =
    question === 'starred'
      ? () =>
          db.user.findUniqueOrThrow({
            where: { id: user.id },
            select: { id: true, _count: { select: { opportunityCards: { where: { starred: true } } } } },
          })
      : () =>
          db.run.findMany({
            where: { userId: user.id },
            orderBy: NEWEST_FIRST,
            take: 21,
            skip: 0,
            select: {
              id: true,
              companyName: true,
              status: true,
              currentStage: true,
              createdAt: true,
              _count: { select: { opportunityCards: true } },
            },
          });
  return [
    { label: 'node-postgres, prepared', call: () => pool.query({ name: question, text: sql, values: [user.id] }) },
    { label: "Prisma, the API's call", call: prismaCall },
    { label: 'Prisma $queryRawUnsafe, same SQL', call: () => db.$queryRawUnsafe(sql, user.id) },
  ];
}

/** µs of this process's CPU per call, over MEASURED_CALLS sequential calls after a warm-up. */
async function cpuPerCall(client: Client): Promise<number> {
  for (let i = 0; i < WARMUP_CALLS; i++) await client.call();
  const before = process.cpuUsage();
  for (let i = 0; i < MEASURED_CALLS; i++) await client.call();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / MEASURED_CALLS;
}

/** Rows of [question, client, µs per call (mean of the rounds), ratio to node-postgres]. */
export async function measureStatementCost(url: string, user: BenchUser): Promise<string[][]> {
  const db = createPrismaClient(url, { logQueries: false, production: true });
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    const rows: string[][] = [];
    for (const [question, name] of [
      ['starred', 'Count starred cards'],
      ['page', 'A page of 20 runs with card counts'],
    ] as const) {
      const clients = clientsFor(question, db, pool, user);
      const sums = clients.map(() => 0);
      // Alternated, so a slow moment of the machine falls on all three alike.
      for (let round = 0; round < STATEMENT_COST_ROUNDS; round++) {
        for (const [i, client] of clients.entries()) sums[i]! += await cpuPerCall(client);
      }
      const micros = sums.map((sum) => sum / STATEMENT_COST_ROUNDS);
      clients.forEach((client, i) => rows.push([name, client.label, micros[i]!.toFixed(0), (micros[i]! / micros[0]!).toFixed(2)]));
    }
    return rows;
  } finally {
    await Promise.all([db.$disconnect(), pool.end()]);
  }
}
