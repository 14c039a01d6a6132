/**
 * Two users: B tries every query and mutation with A's ids. B sees nothing of A (null / NOT_FOUND), gets the
 * same response as for an id that does not exist, and changes nothing.
 */
import {
  DeleteRunDocument,
  MeDocument,
  MyRunsDocument,
  OpportunityCardsDocument,
  RetryRunDocument,
  RunDetailDocument,
  RunsDocument,
  SetCardStarredDocument,
} from './generated/graphql';
import { startApi, type ApiFixture } from '../helpers/api';
import { createCompletedRun, createRun } from '../helpers/fixtures';
import { dataOf, execute, type GraphQLResponse } from '../helpers/graphql';

const MISSING = '00000000-0000-4000-8000-000000000000';
let api: ApiFixture;
let a: { token: string; userId: string };
let b: { token: string; userId: string };
let aCompleted: string;
let aFailed: string;
let aCard: string;

beforeAll(async () => {
  api = await startApi();
  a = await api.signIn('user_alice');
  b = await api.signIn('user_bob');
  aCompleted = (await createCompletedRun(api.db.prisma, a.userId, { companyId: 'alice-co', companyName: 'Alice Co' })).id;
  aFailed = (await createRun(api.db.prisma, a.userId, { status: 'FAILED', currentStage: 2, errorMessage: 'boom', companyId: 'alice-co' }))
    .id;
  aCard = (await api.db.prisma.opportunityCard.findFirstOrThrow({ where: { runId: aCompleted } })).id;
  await createCompletedRun(api.db.prisma, b.userId, { companyId: 'bob-co', companyName: 'Bob Co' });
});
afterAll(() => api.close());

/** Every row of A's, as text: compared before and after B's attempts. */
async function aliceSnapshot(): Promise<string> {
  const { rows } = await api.db.sql.query(
    `SELECT
       (SELECT string_agg(r::text, '|' ORDER BY r.id) FROM "Run" r WHERE r."userId" = $1) AS runs,
       (SELECT string_agg(c::text, '|' ORDER BY c.id) FROM "OpportunityCard" c WHERE c."userId" = $1) AS cards,
       (SELECT string_agg(i::text, '|' ORDER BY i.id) FROM "InspirationReport" i JOIN "Run" r ON r.id = i."runId" WHERE r."userId" = $1) AS reports,
       (SELECT string_agg(o::text, '|' ORDER BY o.id) FROM "StageOutput" o JOIN "Run" r ON r.id = o."runId" WHERE r."userId" = $1) AS outputs`,
    [a.userId],
  );
  return JSON.stringify(rows[0]);
}

/** A response with the given id replaced, to compare A's id with a missing one. */
const shape = (response: GraphQLResponse<unknown>, id: string) => JSON.stringify(response).replaceAll(id, '<id>');

describe('B with A’s ids', () => {
  let before: string;
  beforeAll(async () => {
    before = await aliceSnapshot();
  });
  afterAll(async () => {
    expect(await aliceSnapshot()).toBe(before);
  });

  it('run(id) is null, exactly as for a missing id', async () => {
    for (const id of [aCompleted, aFailed]) {
      const theirs = await execute(api.server.url, RunDetailDocument, { id }, { token: b.token });
      const missing = await execute(api.server.url, RunDetailDocument, { id: MISSING }, { token: b.token });
      expect(theirs).toEqual({ status: 200, data: { run: null }, errors: undefined });
      expect(shape(theirs, id)).toBe(shape(missing, MISSING));
    }
  });

  it('runs and me.runs list only B’s runs, whatever the filters', async () => {
    const all = dataOf(await execute(api.server.url, RunsDocument, { first: 100 }, { token: b.token })).runs;
    expect(all.totalCount).toBe(1);
    expect(all.edges.map((e) => e.node.companyId)).toEqual(['bob-co']);
    const aliceCompany = dataOf(await execute(api.server.url, RunsDocument, { companyId: 'alice-co' }, { token: b.token })).runs;
    expect(aliceCompany).toMatchObject({ totalCount: 0, edges: [] });
    const failed = dataOf(await execute(api.server.url, RunsDocument, { status: 'FAILED' }, { token: b.token })).runs;
    expect(failed).toMatchObject({ totalCount: 0, edges: [] });
    const mine = dataOf(await execute(api.server.url, MyRunsDocument, { companyId: 'alice-co' }, { token: b.token })).me.runs;
    expect(mine).toMatchObject({ totalCount: 0, edges: [] });
  });

  it('a cursor made from A’s run id pages only through B’s runs', async () => {
    const aliceCursor = dataOf(await execute(api.server.url, RunsDocument, { first: 1 }, { token: a.token })).runs.edges[0]!.cursor;
    const response = await execute(api.server.url, RunsDocument, { first: 10, after: aliceCursor }, { token: b.token });
    const ids = (response.data?.runs.edges ?? []).map((e) => e.node.companyId);
    expect(ids.every((company) => company === 'bob-co')).toBe(true);
  });

  it('opportunityCards never include A’s cards, even filtered by A’s run', async () => {
    const byRun = dataOf(
      await execute(api.server.url, OpportunityCardsDocument, { runId: aCompleted }, { token: b.token }),
    ).opportunityCards;
    expect(byRun).toMatchObject({ totalCount: 0, edges: [] });
    const all = dataOf(await execute(api.server.url, OpportunityCardsDocument, { first: 100 }, { token: b.token })).opportunityCards;
    expect(all.totalCount).toBe(5);
    expect(all.edges.some((e) => e.node.id === aCard)).toBe(false);
  });

  it('me is B, with B’s counts', async () => {
    const { me } = dataOf(await execute(api.server.url, MeDocument, {}, { token: b.token }));
    expect(me).toMatchObject({ id: b.userId, runCount: 1, starredCardCount: 0 });
  });

  it('setCardStarred on A’s card is NOT_FOUND, exactly as for a missing id, and stars nothing', async () => {
    const theirs = await execute(api.server.url, SetCardStarredDocument, { id: aCard, starred: true }, { token: b.token });
    const missing = await execute(api.server.url, SetCardStarredDocument, { id: MISSING, starred: true }, { token: b.token });
    expect(theirs.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(shape(theirs, aCard)).toBe(shape(missing, MISSING));
  });

  it('deleteRun on A’s run is NOT_FOUND, exactly as for a missing id, and deletes nothing', async () => {
    const theirs = await execute(api.server.url, DeleteRunDocument, { id: aCompleted }, { token: b.token });
    const missing = await execute(api.server.url, DeleteRunDocument, { id: MISSING }, { token: b.token });
    expect(theirs.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(shape(theirs, aCompleted)).toBe(shape(missing, MISSING));
  });

  it('retryRun on A’s failed run is NOT_FOUND (not CONFLICT, which would reveal it), and retries nothing', async () => {
    for (const id of [aFailed, aCompleted]) {
      const theirs = await execute(api.server.url, RetryRunDocument, { id }, { token: b.token });
      const missing = await execute(api.server.url, RetryRunDocument, { id: MISSING }, { token: b.token });
      expect(theirs.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(shape(theirs, id)).toBe(shape(missing, MISSING));
    }
  });
});

it('A still sees all of A’s data afterwards', async () => {
  const { run } = dataOf(await execute(api.server.url, RunDetailDocument, { id: aCompleted }, { token: a.token }));
  expect(run).toMatchObject({ id: aCompleted, opportunityCardCount: 5 });
  expect(run!.opportunityCards.every((card) => card.starred === false)).toBe(true);
});
