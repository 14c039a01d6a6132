/** Every query through HTTP: me, run, runs and opportunityCards with pagination and filters. */
import { MeDocument, MyRunsDocument, OpportunityCardsDocument, RunDetailDocument, RunsDocument } from './generated/graphql';
import { startApi, type ApiFixture } from '../helpers/api';
import { createCompletedRun, createRun } from '../helpers/fixtures';
import { codesOf, dataOf, execute, postQuery } from '../helpers/graphql';

let api: ApiFixture;
let token: string;
let userId: string;
const runIds: string[] = []; // newest first
const STATUSES = ['COMPLETED', 'FAILED', 'RUNNING', 'PENDING'] as const;

beforeAll(async () => {
  api = await startApi();
  ({ token, userId } = await api.signIn());
  // 23 runs a minute apart; every 4th is completed with cards; two companies.
  const start = Date.parse('2026-06-01T00:00:00Z');
  for (let i = 0; i < 23; i++) {
    const data = {
      createdAt: new Date(start + i * 60_000),
      companyId: i % 2 ? 'danone' : 'lactalis-canada',
      companyName: i % 2 ? 'Danone' : 'Lactalis',
    };
    const status = STATUSES[i % 4]!;
    const run =
      status === 'COMPLETED'
        ? await createCompletedRun(api.db.prisma, userId, data)
        : await createRun(api.db.prisma, userId, { ...data, status, currentStage: status === 'PENDING' ? 0 : 2 });
    runIds.unshift(run.id);
  }
  // Two runs with the same createdAt: the id must break the tie without losing either.
  const tie = new Date(start - 3_600_000);
  runIds.push(
    ...[(await createRun(api.db.prisma, userId, { createdAt: tie })).id, (await createRun(api.db.prisma, userId, { createdAt: tie })).id]
      .sort()
      .reverse(),
  );
});
afterAll(() => api.close());

const runs = (variables: Parameters<typeof execute<unknown, object>>[2] & Record<string, unknown>) =>
  execute(api.server.url, RunsDocument, variables, { token });

describe('me', () => {
  it('returns the signed-in user with counts', async () => {
    const starred = await api.db.prisma.opportunityCard.findFirstOrThrow({ where: { userId } });
    await api.db.prisma.opportunityCard.update({ where: { id: starred.id }, data: { starred: true } });
    const { me } = dataOf(await execute(api.server.url, MeDocument, {}, { token }));
    expect(me).toMatchObject({ id: userId, runCount: 25, starredCardCount: 1 });
    expect(me.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    await api.db.prisma.opportunityCard.update({ where: { id: starred.id }, data: { starred: false } });
  });

  it('me.runs pages through the same runs with filters', async () => {
    const first = dataOf(await execute(api.server.url, MyRunsDocument, { first: 3, status: 'COMPLETED' }, { token })).me.runs;
    expect(first.totalCount).toBe(6);
    expect(first.edges.map((e) => e.node.status)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
    const rest = dataOf(
      await execute(api.server.url, MyRunsDocument, { first: 3, after: first.pageInfo.endCursor, status: 'COMPLETED' }, { token }),
    ).me.runs;
    expect(rest.pageInfo.hasNextPage).toBe(false);
    expect([...first.edges, ...rest.edges].map((e) => e.node.id)).toEqual(runIds.filter((_, i) => i < 23 && (22 - i) % 4 === 0));
  });
});

describe('runs', () => {
  it('pages newest first across all pages with no duplicates or gaps, ties broken by id', async () => {
    const seen: string[] = [];
    let after: string | null | undefined;
    let pages = 0;
    for (;;) {
      const page = dataOf(await runs({ first: 7, after })).runs;
      expect(page.totalCount).toBe(25);
      seen.push(...page.edges.map((e) => e.node.id));
      pages++;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(pages).toBe(4);
    expect(seen).toEqual(runIds);
  });

  it('defaults to 20 per page and pages backwards with last/before', async () => {
    expect(dataOf(await runs({})).runs.edges).toHaveLength(20);
    const page = dataOf(await runs({ first: 10 })).runs;
    const back = dataOf(await runs({ last: 3, before: page.edges[5]!.cursor })).runs;
    expect(back.edges.map((e) => e.node.id)).toEqual(runIds.slice(2, 5));
    expect(back.pageInfo.hasPreviousPage).toBe(true);
  });

  it('never returns more than 100 per page', async () => {
    const heavy = await api.signIn();
    const heavyUser = await api.db.prisma.user.findUniqueOrThrow({ where: { id: heavy.userId } });
    await api.db.prisma.run.createMany({
      data: Array.from({ length: 105 }, (_, i) => ({
        userId: heavyUser.id,
        companyId: 'bulk',
        companyName: 'Bulk',
        documentName: `r${i}.pdf`,
        documentUrl: 'https://x.test/r.pdf',
      })),
    });
    const page = dataOf(await execute(api.server.url, RunsDocument, { first: 500 }, { token: heavy.token })).runs;
    expect(page.edges).toHaveLength(100);
    expect(page.pageInfo.hasNextPage).toBe(true);
    expect(page.totalCount).toBe(105);
  });

  it('refuses a negative page size and mixed directions with BAD_USER_INPUT', async () => {
    for (const variables of [{ first: -1 }, { last: 2, after: runIds[0] }]) {
      const response = await runs(variables);
      expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
    }
  });

  it('filters by status and by companyId, with matching totalCount', async () => {
    const failed = dataOf(await runs({ first: 50, status: 'FAILED' })).runs;
    expect(failed.totalCount).toBe(6);
    expect(new Set(failed.edges.map((e) => e.node.status))).toEqual(new Set(['FAILED']));
    const danone = dataOf(await runs({ first: 50, companyId: 'danone' })).runs;
    expect(danone.totalCount).toBe(11);
    expect(new Set(danone.edges.map((e) => e.node.companyName))).toEqual(new Set(['Danone']));
    const both = dataOf(await runs({ first: 50, companyId: 'danone', status: 'RUNNING' })).runs;
    expect(both.edges.every((e) => e.node.companyId === 'danone' && e.node.status === 'RUNNING')).toBe(true);
    expect(both.totalCount).toBe(both.edges.length);
    expect(dataOf(await runs({ companyId: 'nobody' })).runs).toMatchObject({ totalCount: 0, edges: [] });
  });

  it('totalCount is exact however it is asked for: aliased, in fragments, alone, skipped, on me.runs', async () => {
    const query = `query ($skip: Boolean!) {
      runs(first: 2, status: FAILED) { total: totalCount ...Page edges { node { id } } }
      alone: runs(companyId: "danone") { totalCount }
      skipped: runs(first: 1) { totalCount @skip(if: $skip) edges { node { id } } }
      inline: runs(first: 1) { ... on RunConnection { totalCount } }
      me { runs(first: 1, status: COMPLETED) { ...Page } }
    }
    fragment Page on RunConnection { totalCount pageInfo { hasNextPage } }`;
    const response = await postQuery(api.server.url, query, { token, variables: { skip: true } });
    expect(response.errors).toBeUndefined();
    expect(response.data).toMatchObject({
      runs: { total: 6, totalCount: 6, pageInfo: { hasNextPage: true } },
      alone: { totalCount: 11 },
      skipped: { edges: [{ node: { id: runIds[0] } }] },
      inline: { totalCount: 25 },
      me: { runs: { totalCount: 6, pageInfo: { hasNextPage: true } } },
    });
    expect(response.data!.skipped).not.toHaveProperty('totalCount');
  });

  it('rejects a cursor that is not one of ours with BAD_USER_INPUT', async () => {
    const response = await runs({ first: 2, after: 'bm90LWEtY3Vyc29y' });
    expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors?.[0]?.message).toMatch(/cursor/i);
  });
});

describe('run', () => {
  it('returns one run with its cards ordered by number, report, and stage outputs ordered by stage', async () => {
    const completed = runIds[2]!; // i = 20 → COMPLETED
    const { run } = dataOf(await execute(api.server.url, RunDetailDocument, { id: completed }, { token }));
    expect(run).toMatchObject({ id: completed, status: 'COMPLETED', currentStage: 5, opportunityCardCount: 5, errorMessage: null });
    expect(run!.opportunityCards.map((c) => c.number)).toEqual([1, 2, 3, 4, 5]);
    expect(run!.opportunityCards[0]).toMatchObject({
      title: 'Opportunity 1',
      whyNow: 'Why now',
      targetSegment: 'Segment',
      quickWin: 'Quick win',
      run: { id: completed },
    });
    expect(run!.inspirationReport!.inspirations).toEqual([
      { title: 'Convenience as a ritual', content: 'Quick meals become moments.', elements: ['convenience', 'ritual'] },
      { title: 'Local pride', content: 'Provenance stories.', elements: ['provenance'] },
    ]);
    expect(run!.stageOutputs.map((o) => o.stageNumber)).toEqual([1, 2, 3, 4, 5]);
    expect(run!.stageOutputs[2]).toMatchObject({ markdownOutput: '# Stage 3', jsonOutput: { stage: 3 } });
    expect(run!.completedAt).not.toBeNull();
  });

  it('stageOutputs(stageNumber) returns just that stage', async () => {
    const { run } = dataOf(await execute(api.server.url, RunDetailDocument, { id: runIds[2]!, stageNumber: 4 }, { token }));
    expect(run!.stageOutputs.map((o) => o.stageNumber)).toEqual([4]);
  });

  it('a run without outputs has empty lists and no report', async () => {
    const pending = runIds[0]!; // i = 22 → RUNNING? (22 % 4 = 2)
    const { run } = dataOf(await execute(api.server.url, RunDetailDocument, { id: pending }, { token }));
    expect(run).toMatchObject({ opportunityCards: [], opportunityCardCount: 0, inspirationReport: null, stageOutputs: [] });
  });

  it('is null for an id that does not exist, or that is not a UUID', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const response = await execute(api.server.url, RunDetailDocument, { id }, { token });
      expect(response).toMatchObject({ status: 200, data: { run: null } });
      expect(response.errors).toBeUndefined();
    }
  });
});

describe('opportunityCards', () => {
  it('pages through all cards newest first, filters by starred and runId', async () => {
    const all: string[] = [];
    let after: string | null | undefined;
    for (;;) {
      const page = dataOf(await execute(api.server.url, OpportunityCardsDocument, { first: 7, after }, { token })).opportunityCards;
      expect(page.totalCount).toBe(30);
      all.push(...page.edges.map((e) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(new Set(all).size).toBe(30);
    expect(all).toHaveLength(30);

    const run = runIds[2]!;
    const ofRun = dataOf(await execute(api.server.url, OpportunityCardsDocument, { runId: run }, { token })).opportunityCards;
    expect(ofRun.totalCount).toBe(5);
    expect(ofRun.edges.map((e) => [e.node.number, e.node.run.id])).toEqual([1, 2, 3, 4, 5].map((n) => [n, run]));

    await api.db.prisma.opportunityCard.updateMany({ where: { runId: run, number: { in: [2, 4] } }, data: { starred: true } });
    const starred = dataOf(await execute(api.server.url, OpportunityCardsDocument, { starred: true }, { token })).opportunityCards;
    expect(starred.edges.map((e) => e.node.number)).toEqual([2, 4]);
    const unstarred = dataOf(await execute(api.server.url, OpportunityCardsDocument, { starred: false }, { token })).opportunityCards;
    expect(unstarred.totalCount).toBe(28);
  });
});
