/**
 * No N+1: the number of SQL statements for nested lists does not grow with the page size, and lists select
 * only the columns asked for.
 */
import { MeCountsDocument, RunsDocument, RunsWithEverythingDocument } from './generated/graphql';
import { startApi, type ApiFixture } from '../helpers/api';
import { createCompletedRun } from '../helpers/fixtures';
import { dataOf, execute } from '../helpers/graphql';

let api: ApiFixture;
let token: string;

beforeAll(async () => {
  // Without the request budget: its permits are claimed from the database now and then (a new minute, a spent
  // chunk), and such a claim inside a measured request would be counted as one of its statements.
  api = await startApi({ RATE_LIMIT_REQUESTS_PER_MINUTE: '0' });
  const user = await api.signIn();
  token = user.token;
  for (let i = 0; i < 25; i++) await createCompletedRun(api.db.prisma, user.userId);
});
afterAll(() => api.close());

async function statementsFor<T, V>(document: Parameters<typeof execute<T, V>>[1], variables: V) {
  api.server.statements.length = 0;
  const data = dataOf(await execute(api.server.url, document, variables, { token }));
  return { data, statements: [...api.server.statements] };
}

it('runs with cards, card counts, reports and stage outputs: the same few statements for 2 or 20 runs', async () => {
  const small = await statementsFor(RunsWithEverythingDocument, { first: 2 });
  const large = await statementsFor(RunsWithEverythingDocument, { first: 20 });
  expect(small.data.runs.edges).toHaveLength(2);
  expect(large.data.runs.edges).toHaveLength(20);
  for (const { node } of large.data.runs.edges) {
    expect(node.opportunityCardCount).toBe(5);
    expect(node.opportunityCards).toHaveLength(5);
    expect(node.inspirationReport).not.toBeNull();
    expect(node.stageOutputs).toHaveLength(5);
  }
  process.stdout.write(
    `runs(first: 20) with nested lists: ${large.statements.length} SQL statements\n${large.statements.map((s) => `  ${s.slice(0, 140)}`).join('\n')}\n`,
  );
  expect(large.statements.length).toBe(small.statements.length);
  // Runs with their cards, report, outputs and card counts: relations and counts are joined into one statement.
  expect(large.statements.length).toBe(1);
  // The card count is counted per run inside its LATERAL join, never an aggregate over everyone's cards.
  expect(large.statements[0]).toMatch(
    /LEFT JOIN LATERAL \(SELECT COALESCE\(JSONB_AGG\("__prisma_data__"\), '\[\]'\) AS "__prisma_data__", COUNT\("__prisma_data__"\) AS "_aggr_count_opportunityCards"/,
  );
  expect(large.statements[0]).not.toMatch(/GROUP BY/);
});

it('me with its counts is one statement; a first page and its total are one statement', async () => {
  const me = await statementsFor(MeCountsDocument, {});
  expect(me.data.me).toEqual({ starredCardCount: 0, runs: { totalCount: 25 } });
  // me by primary key with the starred count read beside it through the user's index, then the run count (no
  // page: only totalCount is asked for).
  expect(me.statements).toHaveLength(2);
  expect(me.statements[0]).toMatch(
    /FROM "public"."OpportunityCard" x WHERE x."userId" = \$1 AND x.starred = \$2\).* FROM "public"."User" u WHERE u.id = \$3/s,
  );
  const page = await statementsFor(RunsDocument, { first: 5 });
  expect(page.data.runs.totalCount).toBe(25);
  expect(page.data.runs.edges).toHaveLength(5);
  // The page with its total, counted once through the user's index (not per row).
  expect(page.statements).toHaveLength(1);
  expect(page.statements[0]).toMatch(/\(SELECT count\(\*\)::int FROM "public"."Run" t WHERE t."userId" = \$\d+\) AS "__total"/);
  // A later page: Prisma's client reads it, its total beside it.
  const later = await statementsFor(RunsDocument, { first: 5, after: page.data.runs.pageInfo.endCursor });
  expect(later.data.runs.totalCount).toBe(25);
  expect(later.statements).toHaveLength(2);
  // Counts go through the user's index, never an aggregate over everyone's rows.
  for (const sql of [...me.statements, ...page.statements, ...later.statements]) expect(sql).not.toMatch(/GROUP BY/);
});

it('a list selects only the columns the query asks for', async () => {
  const { statements } = await statementsFor(RunsDocument, { first: 5 });
  const select = statements.find((sql) => /FROM "public"."Run"/.test(sql) && /LIMIT/.test(sql))!;
  expect(select).toContain('"companyName"');
  expect(select).not.toContain('"documentUrl"');
  expect(select).not.toContain('"errorMessage"');
});
