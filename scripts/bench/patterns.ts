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

/**
 * How the peer is told whose data to read: `condition`, PostGraphile without authentication, the user's id as a
 * condition argument (what any caller could change); `rls`, PostGraphile with a verified token handed to
 * PostgreSQL, whose row-level-security policies keep each table to the token's user (no user in the query).
 */
export type PeerScope = 'condition' | 'rls';

/** The same question put to the peer (PostGraphile 5, amber preset: its names). */
export interface PeerQuery {
  query: string;
  variables: Record<string, unknown>;
  /** The peer's `data` in the API's shape, to compare with the baseline's. */
  asApi(data: unknown): unknown;
}

export interface Pattern {
  name: string;
  /** What the design's table expects of the query (empty for the patterns it does not list). */
  expected: string;
  query: string;
  variables: Record<string, unknown>;
  /** The same `data`, from hand-written SQL. */
  baseline(sql: pg.Pool, user: BenchUser): Promise<unknown>;
  peer?: (scope: PeerScope) => PeerQuery;
}

/** PostGraphile's timestamps (without time zone) as the API's ISO strings. */
const iso = (timestamp: string) => new Date(`${timestamp}Z`).toISOString();
const isoOrNull = (timestamp: string | null) => (timestamp === null ? null : iso(timestamp));

/** The run's scalar fields as the API names them, and as PostGraphile does (its `rowId` is the API's `id`). */
const RUN_SCALARS = 'id companyId companyName documentName documentUrl status currentStage errorMessage createdAt updatedAt completedAt';
const PEER_RUN_SCALARS = RUN_SCALARS.replace(/^id /, 'rowId ');

interface PeerRunScalars {
  rowId: string;
  companyId: string;
  companyName: string;
  documentName: string;
  documentUrl: string;
  status: string;
  currentStage: number;
  errorMessage: string | null;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
}

const runScalarsAsApi = (run: PeerRunScalars) => ({
  id: run.rowId,
  companyId: run.companyId,
  companyName: run.companyName,
  documentName: run.documentName,
  documentUrl: run.documentUrl,
  status: run.status,
  currentStage: run.currentStage,
  errorMessage: run.errorMessage,
  createdAt: iso(run.createdAt),
  updatedAt: iso(run.updatedAt),
  completedAt: isoOrNull(run.completedAt),
});

/** The user's part of a peer's condition: named under `condition`, left to the policies under `rls`. */
function scoped(scope: PeerScope, user: BenchUser, conditions: string[]) {
  const all = scope === 'condition' ? ['userId: $u', ...conditions] : conditions;
  return {
    declaration: scope === 'condition' ? ['$u: String!'] : [],
    condition: all.length ? `condition: { ${all.join(', ')} }` : '',
    variables: scope === 'condition' ? { u: user.id } : {},
  };
}

const declare = (declarations: string[]) => (declarations.length ? `(${declarations.join(', ')})` : '');

interface PeerRunNode {
  rowId: string;
  companyName: string;
  status: string;
  currentStage: number;
  createdAt: string;
  opportunityCardsByRunId: { totalCount: number };
}

const PEER_PAGE = 'totalCount edges { node { rowId companyName status currentStage createdAt opportunityCardsByRunId { totalCount } } }';

/** A page of the user's runs from the peer, newest first (the API's order), with `filter` besides the user. */
function peerRunPage(
  user: BenchUser,
  filter: { conditions: string[]; declarations: string[]; variables: Record<string, unknown> } = {
    conditions: [],
    declarations: [],
    variables: {},
  },
  { selection, node }: { selection: string; node: (run: never) => unknown } = { selection: PEER_PAGE, node: narrowRunNode },
) {
  return (scope: PeerScope): PeerQuery => {
    const who = scoped(scope, user, filter.conditions);
    const args = ['first: 20', who.condition, 'orderBy: [CREATED_AT_DESC, ROW_ID_DESC]'].filter(Boolean).join(', ');
    return {
      query: `query ${declare([...who.declaration, ...filter.declarations])} { allRuns(${args}) { ${selection} } }`,
      variables: { ...who.variables, ...filter.variables },
      asApi: (data) => {
        const { totalCount, edges } = (data as { allRuns: { totalCount: number; edges: Array<{ node: never }> } }).allRuns;
        return { runs: { totalCount, edges: edges.map((edge) => ({ node: node(edge.node) })) } };
      },
    };
  };
}

function narrowRunNode(run: PeerRunNode) {
  return {
    id: run.rowId,
    companyName: run.companyName,
    status: run.status,
    currentStage: run.currentStage,
    createdAt: iso(run.createdAt),
    opportunityCardCount: run.opportunityCardsByRunId.totalCount,
  };
}

/** One of the user's runs: by its id and the user under `condition`, by its id alone (the policies) under `rls`. */
function peerRun(user: BenchUser, selection: string, asApi: (run: never) => unknown) {
  return (scope: PeerScope): PeerQuery => {
    const who = scoped(scope, user, ['rowId: $r']);
    return {
      query: `query ${declare([...who.declaration, '$r: String!'])} { allRuns(${who.condition}) { nodes { ${selection} } } }`,
      variables: { ...who.variables, r: user.runId },
      asApi: (data) => {
        const run = (data as { allRuns: { nodes: never[] } }).allRuns.nodes[0];
        return { run: run ? asApi(run) : null };
      },
    };
  };
}

interface PeerRunDetail {
  rowId: string;
  status: string;
  opportunityCardsByRunId: { nodes: Array<{ number: number; title: string; tagline: string; whyNow: string; starred: boolean }> };
  inspirationReportsByRunId: { nodes: Array<{ inspiration1Title: string; inspiration2Title: string }> };
  stageOutputsByRunId: { nodes: Array<{ stageNumber: number; markdownOutput: string }> };
}

const PEER_RUN_DETAIL = `rowId status
  opportunityCardsByRunId(orderBy: NUMBER_ASC) { nodes { number title tagline whyNow starred } }
  inspirationReportsByRunId { nodes { inspiration1Title inspiration2Title } }
  stageOutputsByRunId(orderBy: STAGE_NUMBER_ASC) { nodes { stageNumber markdownOutput } }`;

function runDetailAsApi(run: PeerRunDetail) {
  const report = run.inspirationReportsByRunId.nodes[0];
  return {
    id: run.rowId,
    status: run.status,
    opportunityCards: run.opportunityCardsByRunId.nodes,
    inspirationReport: report ? { inspirations: [{ title: report.inspiration1Title }, { title: report.inspiration2Title }] } : null,
    stageOutputs: run.stageOutputsByRunId.nodes,
  };
}

interface PeerCard {
  rowId: string;
  number: number;
  title: string;
  tagline: string;
  problem: string;
  solution: string;
  whyNow: string;
  targetSegment: string;
  quickWin: string;
  starred: boolean;
  createdAt: string;
  updatedAt: string;
}

interface PeerReport {
  rowId: string;
  inspiration1Title: string;
  inspiration1Content: string;
  inspiration1Elements: string[];
  inspiration2Title: string;
  inspiration2Content: string;
  inspiration2Elements: string[];
  createdAt: string;
  updatedAt: string;
}

interface PeerOutput {
  rowId: string;
  stageNumber: number;
  markdownOutput: string;
  jsonOutput: unknown;
  createdAt: string;
}

interface PeerRunEveryField extends PeerRunScalars {
  opportunityCardsByRunId: { totalCount: number; nodes: PeerCard[] };
  inspirationReportsByRunId: { nodes: PeerReport[] };
  stageOutputsByRunId: { nodes: PeerOutput[] };
}

/** Every field of a run's detail page, in the API's names. */
const RUN_EVERY_FIELD = `${RUN_SCALARS} opportunityCardCount
  opportunityCards { id number title tagline problem solution whyNow targetSegment quickWin starred createdAt updatedAt }
  inspirationReport { id inspirations { title content elements } createdAt updatedAt }
  stageOutputs { id stageNumber markdownOutput jsonOutput createdAt }`;

const PEER_RUN_EVERY_FIELD = `${PEER_RUN_SCALARS}
  opportunityCardsByRunId(orderBy: NUMBER_ASC) { totalCount nodes { rowId number title tagline problem solution whyNow targetSegment quickWin starred createdAt updatedAt } }
  inspirationReportsByRunId { nodes { rowId inspiration1Title inspiration1Content inspiration1Elements inspiration2Title inspiration2Content inspiration2Elements createdAt updatedAt } }
  stageOutputsByRunId(orderBy: STAGE_NUMBER_ASC) { nodes { rowId stageNumber markdownOutput jsonOutput createdAt } }`;

function runEveryFieldAsApi(run: PeerRunEveryField) {
  const report = run.inspirationReportsByRunId.nodes[0];
  return {
    ...runScalarsAsApi(run),
    opportunityCardCount: run.opportunityCardsByRunId.totalCount,
    opportunityCards: run.opportunityCardsByRunId.nodes.map(({ rowId, createdAt, updatedAt, ...card }) => ({
      id: rowId,
      ...card,
      createdAt: iso(createdAt),
      updatedAt: iso(updatedAt),
    })),
    inspirationReport: report
      ? {
          id: report.rowId,
          inspirations: [
            { title: report.inspiration1Title, content: report.inspiration1Content, elements: report.inspiration1Elements },
            { title: report.inspiration2Title, content: report.inspiration2Content, elements: report.inspiration2Elements },
          ],
          createdAt: iso(report.createdAt),
          updatedAt: iso(report.updatedAt),
        }
      : null,
    stageOutputs: run.stageOutputsByRunId.nodes.map(({ rowId, createdAt, ...output }) => ({
      id: rowId,
      ...output,
      createdAt: iso(createdAt),
    })),
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

/** A timestamp column as the API's ISO string, in SQL (the columns hold UTC without a zone). */
const isoSql = (column: string) => `to_char(${column}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

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

/** The run's scalar fields as a JSON object, in SQL. */
const RUN_SCALARS_JSON = `'id', r.id, 'companyId', r."companyId", 'companyName', r."companyName", 'documentName', r."documentName",
  'documentUrl', r."documentUrl", 'status', r.status, 'currentStage', r."currentStage", 'errorMessage', r."errorMessage",
  'createdAt', ${isoSql('r."createdAt"')}, 'updatedAt', ${isoSql('r."updatedAt"')}, 'completedAt', ${isoSql('r."completedAt"')}`;

async function runEveryField(sql: pg.Pool, user: BenchUser) {
  const { rows } = await sql.query<{ run: unknown }>(
    `SELECT json_build_object(${RUN_SCALARS_JSON},
       'opportunityCardCount', (SELECT count(*) FROM "OpportunityCard" c WHERE c."runId" = r.id),
       'opportunityCards', coalesce((SELECT json_agg(json_build_object('id', c.id, 'number', c.number, 'title', c.title,
          'tagline', c.tagline, 'problem', c.problem, 'solution', c.solution, 'whyNow', c.why_now,
          'targetSegment', c.target_segment, 'quickWin', c.quick_win, 'starred', c.starred,
          'createdAt', ${isoSql('c."createdAt"')}, 'updatedAt', ${isoSql('c."updatedAt"')}) ORDER BY c.number)
          FROM "OpportunityCard" c WHERE c."runId" = r.id), '[]'),
       'inspirationReport', (SELECT json_build_object('id', i.id, 'inspirations', json_build_array(
            json_build_object('title', i."inspiration1Title", 'content', i."inspiration1Content", 'elements', i."inspiration1Elements"),
            json_build_object('title', i."inspiration2Title", 'content', i."inspiration2Content", 'elements', i."inspiration2Elements")),
          'createdAt', ${isoSql('i."createdAt"')}, 'updatedAt', ${isoSql('i."updatedAt"')}) FROM "InspirationReport" i WHERE i."runId" = r.id),
       'stageOutputs', coalesce((SELECT json_agg(json_build_object('id', o.id, 'stageNumber', o."stageNumber",
          'markdownOutput', o."markdownOutput", 'jsonOutput', o."jsonOutput", 'createdAt', ${isoSql('o."createdAt"')})
          ORDER BY o."stageNumber") FROM "StageOutput" o WHERE o."runId" = r.id), '[]')) AS run
     FROM "Run" r WHERE r.id = $1 AND r."userId" = $2`,
    [user.runId, user.id],
  );
  return { run: rows[0]?.run ?? null };
}

/** A page of the user's runs with every scalar field and the user's total, in one statement. */
async function runPageEveryField(sql: pg.Pool, user: BenchUser) {
  const { rows } = await sql.query<{ total: number; node: unknown }>(
    `SELECT (SELECT count(*) FROM "Run" r WHERE r."userId" = $1)::int AS total, json_build_object(${RUN_SCALARS_JSON}) AS node
     FROM "Run" r WHERE r."userId" = $1 ORDER BY r."createdAt" DESC, r.id DESC LIMIT 20`,
    [user.id],
  );
  return { runs: { totalCount: rows[0]?.total ?? 0, edges: rows.map((row) => ({ node: row.node })) } };
}

export function benchPatterns(user: BenchUser): Pattern[] {
  return [...designPatterns(user), ...widePatterns(user)];
}

/** The five patterns of the design's performance table, asking for what a list or card view shows. */
function designPatterns(user: BenchUser): Pattern[] {
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
      peer: peerRun(user, PEER_RUN_DETAIL, runDetailAsApi),
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
      peer: (scope) => {
        const who = scoped(scope, user, ['starred: true']);
        return {
          query: `query ${declare(who.declaration)} { allOpportunityCards(${who.condition}) { totalCount } }`,
          variables: who.variables,
          asApi: (data) => ({
            me: { starredCardCount: (data as { allOpportunityCards: { totalCount: number } }).allOpportunityCards.totalCount },
          }),
        };
      },
    },
    {
      name: 'Filter by company',
      expected: '~20ms',
      query: `query ($c: String) { runs(first: 20, companyId: $c) { ${PAGE} } }`,
      variables: { c: user.companyId },
      baseline: (sql) => runPage(sql, user.id, { column: 'companyId', value: user.companyId }),
      peer: peerRunPage(user, { conditions: ['companyId: $c'], declarations: ['$c: String!'], variables: { c: user.companyId } }),
    },
    {
      name: 'Search by status',
      expected: '~15ms',
      query: `{ runs(first: 20, status: FAILED) { ${PAGE} } }`,
      variables: {},
      baseline: (sql) => runPage(sql, user.id, { column: 'status', value: 'FAILED' }),
      peer: peerRunPage(user, { conditions: ['status: FAILED'], declarations: [], variables: {} }),
    },
  ];
}

/** Detail pages as frontends ask them: every field of a run with its cards, report and outputs; a page of whole runs. */
function widePatterns(user: BenchUser): Pattern[] {
  return [
    {
      name: 'Wide: run page, every field',
      expected: '',
      query: `query ($id: ID!) { run(id: $id) { ${RUN_EVERY_FIELD} } }`,
      variables: { id: user.runId },
      baseline: (sql) => runEveryField(sql, user),
      peer: peerRun(user, PEER_RUN_EVERY_FIELD, runEveryFieldAsApi),
    },
    {
      name: 'Wide: runs page, every scalar',
      expected: '',
      query: `{ runs(first: 20) { totalCount edges { node { ${RUN_SCALARS} } } } }`,
      variables: {},
      baseline: (sql) => runPageEveryField(sql, user),
      peer: peerRunPage(user, undefined, {
        selection: `totalCount edges { node { ${PEER_RUN_SCALARS} } }`,
        node: runScalarsAsApi,
      }),
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
  peer: () => ({ query: '{ __typename }', variables: {}, asApi: (data) => data }),
};
