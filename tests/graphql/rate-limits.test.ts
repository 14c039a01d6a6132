/**
 * Per-user rate limits hold across instances (two servers on one database): createRun per minute and per day,
 * the general request budget, and concurrent subscriptions per connection and per user. Refusals are
 * RATE_LIMITED (HTTP 429 with Retry-After) and change nothing.
 */
import { CreateRunDocument, MeDocument, RetryRunDocument, RunProgressDocument, type CreateRunInput } from './generated/graphql';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { createRun } from '../helpers/fixtures';
import { codesOf, dataOf, execute } from '../helpers/graphql';
import { startTestServer, type TestServer } from '../helpers/server';
import { subscribeWs, wsClient } from '../helpers/subscriptions';
import { createSigner, type TestSigner } from '../helpers/tokens';

const INPUT: CreateRunInput = {
  companyId: 'acme',
  companyName: 'Acme',
  documentName: 'report.pdf',
  documentUrl: 'https://example.com/report.pdf',
};

let db: TestDatabase;
let signer: TestSigner;
const servers: TestServer[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  signer = await createSigner();
});
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await db.drop();
});

/** Two instances sharing the database, with these limits. */
async function twoInstances(env: NodeJS.ProcessEnv): Promise<[TestServer, TestServer]> {
  const started = await Promise.all([0, 1].map(() => startTestServer(db.url, { CLERK_JWT_KEY: signer.publicKeyPem, ...env })));
  servers.push(...started);
  return started as [TestServer, TestServer];
}

async function signIn(server: TestServer, sub: string) {
  const token = await signer.sign({ sub, expiresIn: 3600 });
  const { me } = dataOf(await execute(server.url, MeDocument, {}, { token }));
  return { token, userId: me.id };
}

describe('createRun', () => {
  it('at most RATE_LIMIT_CREATE_RUN_PER_MINUTE across instances; the next is 429 with retryAfter and creates nothing', async () => {
    const [a, b] = await twoInstances({ RATE_LIMIT_CREATE_RUN_PER_MINUTE: '5' });
    const { token, userId } = await signIn(a, 'user_runs_minute');
    // Alternating instances, concurrently: the limit is one shared count.
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) => execute(i % 2 ? b.url : a.url, CreateRunDocument, { input: INPUT }, { token })),
    );
    const created = responses.filter((r) => !r.errors);
    const refused = responses.filter((r) => r.errors);
    expect(created).toHaveLength(5);
    expect(refused).toHaveLength(3);
    for (const response of refused) {
      expect(response.status).toBe(429);
      expect(codesOf(response)).toEqual(['RATE_LIMITED']);
      expect(response.errors![0]!.extensions).toMatchObject({ limit: 'createRunPerMinute' });
      const retryAfter = response.errors![0]!.extensions!.retryAfter as number;
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    expect(await db.prisma.run.count({ where: { userId } })).toBe(5);
    // Another user is not affected.
    const other = await signIn(b, 'user_runs_other');
    expect((await execute(b.url, CreateRunDocument, { input: INPUT }, { token: other.token })).errors).toBeUndefined();
  });

  it('a daily cap on top, named in the error', async () => {
    const [a, b] = await twoInstances({ RATE_LIMIT_CREATE_RUN_PER_MINUTE: '100', RATE_LIMIT_CREATE_RUN_PER_DAY: '3' });
    const { token, userId } = await signIn(a, 'user_runs_day');
    for (const server of [a, b, a])
      expect((await execute(server.url, CreateRunDocument, { input: INPUT }, { token })).errors).toBeUndefined();
    const refused = await execute(b.url, CreateRunDocument, { input: INPUT }, { token });
    expect(refused.status).toBe(429);
    expect(refused.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 'createRunPerDay' });
    expect(refused.errors![0]!.message).toMatch(/3 per day/);
    expect(await db.prisma.run.count({ where: { userId } })).toBe(3);
  });

  it('invalid input is refused before it spends a permit', async () => {
    const [a] = await twoInstances({ RATE_LIMIT_CREATE_RUN_PER_MINUTE: '1' });
    const { token } = await signIn(a, 'user_runs_invalid');
    for (let i = 0; i < 3; i++) {
      const bad = await execute(a.url, CreateRunDocument, { input: { ...INPUT, documentUrl: 'ftp://x' } }, { token });
      expect(codesOf(bad)).toEqual(['BAD_USER_INPUT']);
    }
    expect((await execute(a.url, CreateRunDocument, { input: INPUT }, { token })).errors).toBeUndefined();
  });
});

describe('retryRun', () => {
  /** Fails the run as the pipeline would. */
  const fail = (runId: string) => db.prisma.run.update({ where: { id: runId }, data: { status: 'FAILED', errorMessage: 'boom' } });

  it('spends the createRun permits: retries and new runs share the per-minute limit, across instances', async () => {
    const [a, b] = await twoInstances({ RATE_LIMIT_CREATE_RUN_PER_MINUTE: '3', RUN_MAX_RETRIES: '100' });
    const { token, userId } = await signIn(a, 'user_retry_quota');
    const run = await createRun(db.prisma, userId, { status: 'FAILED', errorMessage: 'boom' });
    const outcomes: string[] = [];
    for (const server of [a, b, a, b, a]) {
      const response = await execute(server.url, RetryRunDocument, { id: run.id }, { token });
      outcomes.push(response.errors ? `${response.status} ${String(response.errors[0]!.extensions!.limit)}` : 'retried');
      await fail(run.id);
    }
    expect(outcomes).toEqual(['retried', 'retried', 'retried', '429 createRunPerMinute', '429 createRunPerMinute']);
    // The retries spent the minute's permits: no new run either.
    const created = await execute(b.url, CreateRunDocument, { input: INPUT }, { token });
    expect(created.status).toBe(429);
    expect(created.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 'createRunPerMinute' });
  });

  it('and the per-day limit', async () => {
    const [a] = await twoInstances({ RATE_LIMIT_CREATE_RUN_PER_MINUTE: '100', RATE_LIMIT_CREATE_RUN_PER_DAY: '2', RUN_MAX_RETRIES: '100' });
    const { token, userId } = await signIn(a, 'user_retry_day');
    const run = await createRun(db.prisma, userId, { status: 'FAILED', errorMessage: 'boom' });
    expect((await execute(a.url, CreateRunDocument, { input: INPUT }, { token })).errors).toBeUndefined();
    expect((await execute(a.url, RetryRunDocument, { id: run.id }, { token })).errors).toBeUndefined();
    await fail(run.id);
    const refused = await execute(a.url, RetryRunDocument, { id: run.id }, { token });
    expect(refused.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 'createRunPerDay' });
    expect((await db.prisma.run.findUniqueOrThrow({ where: { id: run.id } })).status).toBe('FAILED');
  });

  it('a run is retried at most RUN_MAX_RETRIES times, then CONFLICT saying so; a refusal spends no permit', async () => {
    const [a, b] = await twoInstances({ RATE_LIMIT_CREATE_RUN_PER_MINUTE: '4', RUN_MAX_RETRIES: '2' });
    const { token, userId } = await signIn(a, 'user_retry_max');
    const run = await createRun(db.prisma, userId, { status: 'FAILED', errorMessage: 'boom' });
    for (const server of [a, b]) {
      expect((await execute(server.url, RetryRunDocument, { id: run.id }, { token })).errors).toBeUndefined();
      await fail(run.id);
    }
    for (const server of [a, b, a]) {
      const refused = await execute(server.url, RetryRunDocument, { id: run.id }, { token });
      expect(codesOf(refused)).toEqual(['CONFLICT']);
      expect(refused.errors![0]!.extensions).toMatchObject({ limit: 'retriesPerRun', max: 2 });
      expect(refused.errors![0]!.message).toMatch(/retried 2 times, the most allowed \(RUN_MAX_RETRIES\)/);
    }
    expect((await db.prisma.run.findUniqueOrThrow({ where: { id: run.id } })).status).toBe('FAILED');
    // Two permits of four spent by the retries, none by the refusals.
    for (let i = 0; i < 2; i++) expect((await execute(a.url, CreateRunDocument, { input: INPUT }, { token })).errors).toBeUndefined();
    expect((await execute(a.url, CreateRunDocument, { input: INPUT }, { token })).status).toBe(429);
  });

  it('concurrent retries at the cap: exactly the allowed number succeed', async () => {
    const [a, b] = await twoInstances({ RATE_LIMIT_CREATE_RUN_PER_MINUTE: '0', RUN_MAX_RETRIES: '1' });
    const { token, userId } = await signIn(a, 'user_retry_race');
    const run = await createRun(db.prisma, userId, { status: 'FAILED', errorMessage: 'boom' });
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, i) => execute(i % 2 ? b.url : a.url, RetryRunDocument, { id: run.id }, { token })),
    );
    expect(responses.filter((r) => !r.errors)).toHaveLength(1);
    expect(responses.filter((r) => r.errors).every((r) => codesOf(r)[0] === 'CONFLICT')).toBe(true);
    expect(await db.prisma.runRetries.findUniqueOrThrow({ where: { runId: run.id } })).toMatchObject({ count: 1 });
  });
});

describe('request budget', () => {
  it('at most RATE_LIMIT_REQUESTS_PER_MINUTE operations per user across instances, with Retry-After', async () => {
    const [a, b] = await twoInstances({ RATE_LIMIT_REQUESTS_PER_MINUTE: '40' });
    const { token } = await signIn(a, 'user_budget'); // the first of the 40
    const responses = await Promise.all(
      Array.from({ length: 70 }, async (_, i) => {
        const res = await fetch(`${i % 2 ? b.url : a.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: '{ me { id } }' }),
        });
        return { status: res.status, retryAfter: res.headers.get('retry-after') };
      }),
    );
    const ok = responses.filter((r) => r.status === 200).length;
    // Each instance claims permits in chunks, so a few of the 40 may stay unused; never more than 40.
    expect(ok).toBeLessThanOrEqual(39);
    expect(ok).toBeGreaterThanOrEqual(30);
    const limited = responses.filter((r) => r.status === 429);
    expect(limited.length).toBe(70 - ok);
    expect(limited.every((r) => Number(r.retryAfter) >= 1 && Number(r.retryAfter) <= 60)).toBe(true);
    // Health endpoints are not GraphQL operations: never limited.
    expect((await fetch(`${a.url}/health`)).status).toBe(200);
    expect((await fetch(`${a.url}/ready`)).status).toBe(200);
  });
});

describe('subscriptions', () => {
  it('at most WS_MAX_SUBSCRIPTIONS_PER_CONNECTION on one socket, at most MAX_SUBSCRIPTIONS_PER_USER per user', async () => {
    const [a] = await twoInstances({ WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: '3', MAX_SUBSCRIPTIONS_PER_USER: '5' });
    const { token, userId } = await signIn(a, 'user_subs');
    const runs = await Promise.all(Array.from({ length: 7 }, () => createRun(db.prisma, userId)));
    const first = wsClient(a.wsUrl, token);
    const second = wsClient(a.wsUrl, token);
    try {
      const onFirst = runs.slice(0, 4).map((run) => subscribeWs(first, RunProgressDocument, { id: run.id }));
      await Promise.all(onFirst.slice(0, 3).map((sub) => sub.waitFor((m) => m.data?.runUpdated.status === 'PENDING')));
      const perConnection = (await onFirst[3]!.ended).error as Array<{ message: string; extensions: Record<string, unknown> }>;
      expect(perConnection[0]!.extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 'subscriptionsPerConnection', max: 3 });

      const onSecond = runs.slice(4, 7).map((run) => subscribeWs(second, RunProgressDocument, { id: run.id }));
      await Promise.all(onSecond.slice(0, 2).map((sub) => sub.waitFor((m) => m.data?.runUpdated.status === 'PENDING')));
      // Refused by the subscription itself (like NOT_FOUND): one message carrying the error, then complete.
      await onSecond[2]!.ended;
      expect(onSecond[2]!.messages[0]?.errors?.[0]?.extensions).toMatchObject({
        code: 'RATE_LIMITED',
        limit: 'subscriptionsPerUser',
        max: 5,
      });
      expect(a.subscriptions.openOf(userId)).toBe(5);

      // Closing one frees its place.
      onFirst[0]!.unsubscribe();
      for (let i = 0; i < 100 && a.subscriptions.openOf(userId) !== 4; i++) await new Promise((r) => setTimeout(r, 20));
      const again = subscribeWs(second, RunProgressDocument, { id: runs[6]!.id });
      await again.waitFor((m) => m.data?.runUpdated.status === 'PENDING');
    } finally {
      await Promise.all([first.dispose(), second.dispose()]);
    }
  });
});
