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

/** The same question put to the peer (PostGraphile 5, amber preset: its names, the user as a condition). */
export interface PeerQuery {
  query: string;
  variables: Record<string, unknown>;
  /** The peer's `data` in the API's shape, to compare with the baseline's. */
  asApi(data: unknown): unknown;
}

export interface Pattern {
  name: string;
  /** What the design's table expects of the query. */
  expected: string;
  query: string;
  variables: Record<string, unknown>;
  /** The same `data`, from hand-written SQL. */
  baseline(sql: pg.Pool, user: BenchUser): Promise<unknown>;
  peer?: PeerQuery;
}

/** PostGraphile's timestamps (without time zone) as the API's ISO strings. */
const iso = (timestamp: string) => new Date(`${timestamp}Z`).toISOString();

interface PeerRunNode {
  rowId: string;
  companyName: string;
  status: string;
  currentStage: number;
  createdAt: string;
  opportunityCardsByRunId: { totalCount: number };
}

const PEER_PAGE = 'totalCount edges { node { rowId companyName status currentStage createdAt opportunityCardsByRunId { totalCount } } }';

/** A page of the user's runs from the peer, newest first (the API's order), with `condition` besides the user. */
function peerRunPage(
  user: BenchUser,
  filter: { condition: string; declaration: string; variables: Record<string, unknown> } | undefined = undefined,
): PeerQuery {
  const { condition = '', declaration = '', variables = {} } = filter ?? {};
  return {
    query: `query ($u: String!${declaration}) { allRuns(first: 20, condition: { userId: $u${condition} }, orderBy: [CREATED_AT_DESC, ROW_ID_DESC]) { ${PEER_PAGE} } }`,
    variables: { u: user.id, ...variables },
    asApi: (data) => {
      const { totalCount, edges } = (data as { allRuns: { totalCount: number; edges: Array<{ node: PeerRunNode }> } }).allRuns;
      const node = (run: PeerRunNode) => ({
        id: run.rowId,
        companyName: run.companyName,
        status: run.status,
        currentStage: run.currentStage,
        createdAt: iso(run.createdAt),
        opportunityCardCount: run.opportunityCardsByRunId.totalCount,
      });
      return { runs: { totalCount, edges: edges.map((edge) => ({ node: node(edge.node) })) } };
    },
  };
}

interface PeerRunDetail {
  rowId: string;
  status: string;
  opportunityCardsByRunId: { nodes: Array<{ number: number; title: string; tagline: string; whyNow: string; starred: boolean }> };
  inspirationReportsByRunId: { nodes: Array<{ inspiration1Title: string; inspiration2Title: string }> };
  stageOutputsByRunId: { nodes: Array<{ stageNumber: number; markdownOutput: string }> };
}

function peerRunDetail(user: BenchUser): PeerQuery {
  return {
    query: `query ($u: String!, $r: String!) { allRuns(condition: { rowId: $r, userId: $u }) { nodes { rowId status
        opportunityCardsByRunId(orderBy: NUMBER_ASC) { nodes { number title tagline whyNow starred } }
        inspirationReportsByRunId { nodes { inspiration1Title inspiration2Title } }
        stageOutputsByRunId { nodes { stageNumber markdownOutput } } } } }`,
    variables: { u: user.id, r: user.runId },
    asApi: (data) => {
      const run = (data as { allRuns: { nodes: PeerRunDetail[] } }).allRuns.nodes[0];
      if (!run) return { run: null };
      const report = run.inspirationReportsByRunId.nodes[0];
      return {
        run: {
          id: run.rowId,
          status: run.status,
          opportunityCards: run.opportunityCardsByRunId.nodes,
          inspirationReport: report ? { inspirations: [{ title: report.inspiration1Title }, { title: report.inspiration2Title }] } : null,
          stageOutputs: [...run.stageOutputsByRunId.nodes].sort((a, b) => a.stageNumber - b.stageNumber),
        },
      };
    },
  };
}

/** The baseline's starred count: one index scan over the user's starred cards. */
export const STARRED_COUNT_SQL = 'SELECT count(*)::int AS n FROM "OpportunityCard" WHERE "userId" = $1 AND starred';

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
      peer: peerRunPage(user),
    },
    {
      name: 'Get run with cards',
      expected: '~25ms',
      query: `query ($id: ID!) { run(id: $id) { id status opportunityCards { number title tagline whyNow starred }
        inspirationReport { inspirations { title } } stageOutputs { stageNumber markdownOutput } } }`,
      variables: { id: user.runId },
      baseline: (sql) => runDetail(sql, user),
      peer: peerRunDetail(user),
    },
    {
      name: 'Count starred cards',
      expected: '~10ms',
      query: '{ me { starredCardCount } }',
      variables: {},
      baseline: async (sql) => {
        const { rows } = await sql.query<{ n: number }>(STARRED_COUNT_SQL, [user.id]);
        return { me: { starredCardCount: rows[0]!.n } };
      },
      peer: {
        query: 'query ($u: String!) { allOpportunityCards(condition: { userId: $u, starred: true }) { totalCount } }',
        variables: { u: user.id },
        asApi: (data) => ({
          me: { starredCardCount: (data as { allOpportunityCards: { totalCount: number } }).allOpportunityCards.totalCount },
        }),
      },
    },
    {
      name: 'Filter by company',
      expected: '~20ms',
      query: `query ($c: String) { runs(first: 20, companyId: $c) { ${PAGE} } }`,
      variables: { c: user.companyId },
      baseline: (sql) => runPage(sql, user.id, { column: 'companyId', value: user.companyId }),
      peer: peerRunPage(user, { condition: ', companyId: $c', declaration: ', $c: String!', variables: { c: user.companyId } }),
    },
    {
      name: 'Search by status',
      expected: '~15ms',
      query: `{ runs(first: 20, status: FAILED) { ${PAGE} } }`,
      variables: {},
      baseline: (sql) => runPage(sql, user.id, { column: 'status', value: 'FAILED' }),
      peer: peerRunPage(user, { condition: ', status: FAILED', declaration: '', variables: {} }),
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
  peer: { query: '{ __typename }', variables: {}, asApi: (data) => data },
};
