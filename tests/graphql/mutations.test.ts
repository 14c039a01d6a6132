/** Every mutation through HTTP: createRun (with validation naming the field), setCardStarred, deleteRun, retryRun. */
import { CreateRunDocument, DeleteRunDocument, RetryRunDocument, SetCardStarredDocument, type CreateRunInput } from './generated/graphql';
import { startApi, type ApiFixture } from '../helpers/api';
import { createCompletedRun, createRun } from '../helpers/fixtures';
import { codesOf, dataOf, execute } from '../helpers/graphql';

let api: ApiFixture;
let token: string;
let userId: string;
beforeAll(async () => {
  api = await startApi();
  ({ token, userId } = await api.signIn());
});
afterAll(() => api.close());

const VALID: CreateRunInput = {
  companyId: 'lactalis-canada',
  companyName: 'Lactalis',
  documentName: 'trend-report-q1-2025.pdf',
  documentUrl: 'https://blob.example.com/trend-report-q1-2025.pdf',
};
const createRunWith = (input: CreateRunInput) => execute(api.server.url, CreateRunDocument, { input }, { token });

describe('createRun', () => {
  it('creates a PENDING run at stage 0 owned by the signed-in user', async () => {
    const { createRun: run } = dataOf(await createRunWith({ ...VALID, companyName: '  Lactalis  ' }));
    expect(run).toMatchObject({
      ...VALID,
      status: 'PENDING',
      currentStage: 0,
      errorMessage: null,
      completedAt: null,
      opportunityCardCount: 0,
    });
    const row = await api.db.prisma.run.findUniqueOrThrow({ where: { id: run.id } });
    expect(row.userId).toBe(userId);
    expect(row.companyName).toBe('Lactalis');
  });

  it.each<[string, Partial<CreateRunInput>, string, RegExp]>([
    ['an uppercase companyId', { companyId: 'Lactalis Canada' }, 'input.companyId', /lowercase slug/],
    ['a companyId with a double hyphen', { companyId: 'lactalis--canada' }, 'input.companyId', /lowercase slug/],
    ['a 65-character companyId', { companyId: 'a'.repeat(65) }, 'input.companyId', /at most 64/],
    ['an empty companyId', { companyId: '' }, 'input.companyId', /lowercase slug/],
    ['an empty companyName', { companyName: '' }, 'input.companyName', /1 to 200 characters \(got 0\)/],
    ['a blank companyName', { companyName: '   ' }, 'input.companyName', /1 to 200 characters/],
    ['a 201-character companyName', { companyName: 'x'.repeat(201) }, 'input.companyName', /1 to 200 characters \(got 201\)/],
    ['a 256-character documentName', { documentName: 'x'.repeat(256) }, 'input.documentName', /1 to 255 characters/],
    ['an ftp documentUrl', { documentUrl: 'ftp://example.com/a.pdf' }, 'input.documentUrl', /http:\/\/ or https:\/\//],
    ['a javascript: documentUrl', { documentUrl: 'javascript:alert(1)' }, 'input.documentUrl', /http:\/\/ or https:\/\//],
    ['a documentUrl that is no URL', { documentUrl: 'not a url' }, 'input.documentUrl', /http:\/\/ or https:\/\//],
    ['a 2060-character documentUrl', { documentUrl: `https://example.com/${'a'.repeat(2040)}` }, 'input.documentUrl', /at most 2048/],
  ])('rejects %s with BAD_USER_INPUT naming the field, and creates nothing', async (_label, change, field, message) => {
    const before = await api.db.prisma.run.count();
    const response = await createRunWith({ ...VALID, ...change });
    expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors![0]!.extensions!.field).toBe(field);
    expect(response.errors![0]!.message).toMatch(new RegExp(`^${field.replace('.', '\\.')} `));
    expect(response.errors![0]!.message).toMatch(message);
    expect(await api.db.prisma.run.count()).toBe(before);
  });

  it('a missing field is a request error (400, BAD_USER_INPUT) before anything runs', async () => {
    const { documentUrl: _omitted, ...partial } = VALID;
    const response = await createRunWith(partial as CreateRunInput);
    expect(response.status).toBe(400);
    expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors?.[0]?.message).toMatch(/documentUrl/);
  });

  it('stores the document URL normalised (outside production http is accepted too)', async () => {
    const { createRun: run } = dataOf(await createRunWith({ ...VALID, documentUrl: ' HTTP://X.test./a%20b.pdf ' }));
    expect(run.documentUrl).toBe('http://x.test/a%20b.pdf');
    expect((await api.db.prisma.run.findUniqueOrThrow({ where: { id: run.id } })).documentUrl).toBe('http://x.test/a%20b.pdf');
  });
});

describe('setCardStarred', () => {
  it('stars and unstars one of your cards', async () => {
    const run = await createCompletedRun(api.db.prisma, userId);
    const card = await api.db.prisma.opportunityCard.findFirstOrThrow({ where: { runId: run.id, number: 3 } });
    const starred = dataOf(await execute(api.server.url, SetCardStarredDocument, { id: card.id, starred: true }, { token }));
    expect(starred.setCardStarred).toMatchObject({ id: card.id, starred: true });
    expect((await api.db.prisma.opportunityCard.findUniqueOrThrow({ where: { id: card.id } })).starred).toBe(true);
    const unstarred = dataOf(await execute(api.server.url, SetCardStarredDocument, { id: card.id, starred: false }, { token }));
    expect(unstarred.setCardStarred.starred).toBe(false);
  });

  it('a missing card is NOT_FOUND', async () => {
    const response = await execute(
      api.server.url,
      SetCardStarredDocument,
      { id: '00000000-0000-4000-8000-000000000000', starred: true },
      { token },
    );
    expect(codesOf(response)).toEqual(['NOT_FOUND']);
    expect(response.data).toBeNull();
  });
});

describe('deleteRun', () => {
  it('deletes the run and its cards, report and outputs', async () => {
    const run = await createCompletedRun(api.db.prisma, userId);
    const { deleteRun } = dataOf(await execute(api.server.url, DeleteRunDocument, { id: run.id }, { token }));
    expect(deleteRun).toEqual({ deletedRunId: run.id });
    expect(await api.db.prisma.run.count({ where: { id: run.id } })).toBe(0);
    expect(await api.db.prisma.opportunityCard.count({ where: { runId: run.id } })).toBe(0);
    expect(await api.db.prisma.stageOutput.count({ where: { runId: run.id } })).toBe(0);
    expect(await api.db.prisma.inspirationReport.count({ where: { runId: run.id } })).toBe(0);
    // Deleting it again: it is gone.
    expect(codesOf(await execute(api.server.url, DeleteRunDocument, { id: run.id }, { token }))).toEqual(['NOT_FOUND']);
  });
});

describe('retryRun', () => {
  it('puts a FAILED run back to PENDING at stage 0, clears the error and the failed attempt’s outputs', async () => {
    const run = await createCompletedRun(api.db.prisma, userId, {
      status: 'FAILED',
      currentStage: 3,
      errorMessage: 'Stage 3 timed out',
      completedAt: null,
    });
    const { retryRun } = dataOf(await execute(api.server.url, RetryRunDocument, { id: run.id }, { token }));
    expect(retryRun).toEqual({
      id: run.id,
      status: 'PENDING',
      currentStage: 0,
      errorMessage: null,
      completedAt: null,
      stageOutputs: [],
      inspirationReport: null,
      opportunityCards: [],
    });
  });

  it.each(['PENDING', 'RUNNING', 'COMPLETED'] as const)('refuses a %s run with CONFLICT saying why, changing nothing', async (status) => {
    const run = await createRun(api.db.prisma, userId, { status, currentStage: status === 'PENDING' ? 0 : 4 });
    const before = await api.db.prisma.run.findUniqueOrThrow({ where: { id: run.id } });
    const response = await execute(api.server.url, RetryRunDocument, { id: run.id }, { token });
    expect(codesOf(response)).toEqual(['CONFLICT']);
    expect(response.errors![0]!.message).toBe(`Only a FAILED or CANCELLED run can be retried; this run is ${status}`);
    expect(await api.db.prisma.run.findUniqueOrThrow({ where: { id: run.id } })).toEqual(before);
  });

  it('two concurrent retries of one failed run: one succeeds, the other gets CONFLICT', async () => {
    const run = await createRun(api.db.prisma, userId, { status: 'FAILED', currentStage: 2, errorMessage: 'boom' });
    const responses = await Promise.all([1, 2].map(() => execute(api.server.url, RetryRunDocument, { id: run.id }, { token })));
    expect(responses.map((r) => (r.errors ? r.errors[0]!.extensions!.code : 'OK')).sort()).toEqual(['CONFLICT', 'OK']);
  });

  it('a missing run is NOT_FOUND', async () => {
    const response = await execute(api.server.url, RetryRunDocument, { id: '00000000-0000-4000-8000-000000000000' }, { token });
    expect(codesOf(response)).toEqual(['NOT_FOUND']);
  });
});

it('every mutation refuses a request without a token with 401', async () => {
  const anonymous = [
    await execute(api.server.url, CreateRunDocument, { input: VALID }),
    await execute(api.server.url, SetCardStarredDocument, { id: 'x', starred: true }),
    await execute(api.server.url, DeleteRunDocument, { id: 'x' }),
    await execute(api.server.url, RetryRunDocument, { id: 'x' }),
  ];
  for (const response of anonymous) {
    expect(response.status).toBe(401);
    expect(codesOf(response)).toEqual(['UNAUTHENTICATED']);
  }
});
