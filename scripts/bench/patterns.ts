/**
 * The five query patterns the design's performance table names (plus the fixed cost of any request), each as
 * the GraphQL operation a frontend sends and as the hand-written SQL a bare baseline server answers it with,
 * producing the same JSON.
 */
import type pg from 'pg';

export interface BenchUser {
  id: string;
  clerkId: string;
  runs: number;
  /** A completed run of this user (with cards, report and outputs). */
  runId: string;
  /** The user's most used company. */
  companyId: string;
}

export interface Pattern {
  name: string;
  /** What the design's table expects of the query. */
  expected: string;
  query: string;
  variables: Record<string, unknown>;
  /** The same `data`, from hand-written SQL. */
  baseline(sql: pg.Pool, user: BenchUser): Promise<unknown>;
}

const PAGE = 'totalCount edges { node { id companyName status currentStage createdAt opportunityCardCount } }';

/** One page of runs with the filter's total, in one statement. */
async function runPage(sql: pg.Pool, userId: string, filter: { column?: 'companyId' | 'status'; value?: string } = {}) {
  const value = filter.column === 'status' ? '$2::"RunStatus"' : '$2';
  const where = filter.column ? `AND r."${filter.column}" = ${value}` : '';
  const params = filter.column ? [userId, filter.value] : [userId];
  const { rows } = await sql.query<{
    total: number;
    id: string;
    companyName: string;
    status: string;
    currentStage: number;
    createdAt: Date;
    cards: number;
  }>(
    `SELECT (SELECT count(*) FROM "Run" r WHERE r."userId" = $1 ${where})::int AS total,
            r.id, r."companyName", r.status, r."currentStage", r."createdAt",
            (SELECT count(*) FROM "OpportunityCard" c WHERE c."runId" = r.id)::int AS cards
     FROM "Run" r WHERE r."userId" = $1 ${where}
     ORDER BY r."createdAt" DESC, r.id DESC LIMIT 20`,
    params,
  );
  return {
    runs: {
      totalCount: rows[0]?.total ?? 0,
      edges: rows.map((r) => ({
        node: {
          id: r.id,
          companyName: r.companyName,
          status: r.status,
          currentStage: r.currentStage,
          createdAt: r.createdAt.toISOString(),
          opportunityCardCount: r.cards,
        },
      })),
    },
  };
}

async function runDetail(sql: pg.Pool, user: BenchUser) {
  const { rows } = await sql.query<{ run: unknown }>(
    `SELECT json_build_object(
       'id', r.id, 'status', r.status,
       'opportunityCards', coalesce((SELECT json_agg(json_build_object('number', c.number, 'title', c.title, 'tagline', c.tagline,
          'whyNow', c.why_now, 'starred', c.starred) ORDER BY c.number) FROM "OpportunityCard" c WHERE c."runId" = r.id), '[]'),
       'inspirationReport', (SELECT json_build_object('inspirations', json_build_array(json_build_object('title', i."inspiration1Title"),
          json_build_object('title', i."inspiration2Title"))) FROM "InspirationReport" i WHERE i."runId" = r.id),
       'stageOutputs', coalesce((SELECT json_agg(json_build_object('stageNumber', o."stageNumber", 'markdownOutput', o."markdownOutput")
          ORDER BY o."stageNumber") FROM "StageOutput" o WHERE o."runId" = r.id), '[]')) AS run
     FROM "Run" r WHERE r.id = $1 AND r."userId" = $2`,
    [user.runId, user.id],
  );
  return { run: rows[0]?.run ?? null };
}

export function benchPatterns(user: BenchUser): Pattern[] {
  return [
    {
      name: 'List user’s runs (page 1)',
      expected: '~15ms',
      query: `{ runs(first: 20) { ${PAGE} } }`,
      variables: {},
      baseline: (sql) => runPage(sql, user.id),
    },
    {
      name: 'Get run with cards',
      expected: '~25ms',
      query: `query ($id: ID!) { run(id: $id) { id status opportunityCards { number title tagline whyNow starred }
        inspirationReport { inspirations { title } } stageOutputs { stageNumber markdownOutput } } }`,
      variables: { id: user.runId },
      baseline: (sql) => runDetail(sql, user),
    },
    {
      name: 'Count starred cards',
      expected: '~10ms',
      query: '{ me { starredCardCount } }',
      variables: {},
      baseline: async (sql) => {
        const { rows } = await sql.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM "OpportunityCard" WHERE "userId" = $1 AND starred',
          [user.id],
        );
        return { me: { starredCardCount: rows[0]!.n } };
      },
    },
    {
      name: 'Filter by company',
      expected: '~20ms',
      query: `query ($c: String) { runs(first: 20, companyId: $c) { ${PAGE} } }`,
      variables: { c: user.companyId },
      baseline: (sql) => runPage(sql, user.id, { column: 'companyId', value: user.companyId }),
    },
    {
      name: 'Search by status',
      expected: '~15ms',
      query: `{ runs(first: 20, status: FAILED) { ${PAGE} } }`,
      variables: {},
      baseline: (sql) => runPage(sql, user.id, { column: 'status', value: 'FAILED' }),
    },
  ];
}

/** The fixed cost of a request: nothing to read. */
export const FIXED_COST: Pattern = {
  name: 'Fixed cost: { __typename }',
  expected: '',
  query: '{ __typename }',
  variables: {},
  baseline: () => Promise.resolve({ __typename: 'Query' }),
};
