/**
 * The run lifecycle as a user drives it, through a real server: cancelRun (PENDING and RUNNING runs, the final
 * state reaching subscribers, the worker's lease gone), retryRun of a cancelled run, deleteRun of a running run
 * (its subscribers told), and createRun's idempotency keys (argument and Idempotency-Key header, concurrent
 * duplicates, another input, other users, another instance, expiry). The pipeline's side is
 * tests/pipeline-worker.test.ts.
 */
import type { Client } from 'graphql-ws';
import {
  CancelRunDocument,
  CreateRunDocument,
  DeleteRunDocument,
  RetryRunDocument,
  RunProgressDocument,
  type CreateRunInput,
} from './generated/graphql';
import { startApi, type ApiFixture } from '../helpers/api';
import { createCompletedRun, createRun } from '../helpers/fixtures';
import { codesOf, dataOf, execute } from '../helpers/graphql';
import { startTestServer } from '../helpers/server';
import { disposeAll, subscribeSse, subscribeWs, wsClient } from '../helpers/subscriptions';

let api: ApiFixture;
const clients: Client[] = [];
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await disposeAll(clients);
  await api.close();
});

const INPUT: CreateRunInput = {
  companyId: 'lactalis-canada',
  companyName: 'Lactalis',
  documentName: 'trend-report.pdf',
  documentUrl: 'https://blob.example.com/trend-report.pdf',
};

/** A worker's claim, as the pipeline writes it: RUNNING at `stage`, with a lease. */
async function claimedByAWorker(runId: string, stage = 2): Promise<void> {
  await api.db.sql.query(`UPDATE "Run" SET status = 'RUNNING', "currentStage" = $2 WHERE id = $1`, [runId, stage]);
  await api.db.sql.query(
    `INSERT INTO "RunLease" ("runId", token, attempt, "expiresAt") VALUES ($1, 'worker-token', 1, now() AT TIME ZONE 'UTC' + interval '1 minute')`,
    [runId],
  );
}

/** A run of `userId` a worker holds at stage 2, with stage 1's output written. */
async function runningWithAnOutput(userId: string) {
  const run = await createRun(api.db.prisma, userId);
  await claimedByAWorker(run.id);
  await api.db.sql.query(
    `INSERT INTO "StageOutput" (id, "runId", "stageNumber", "markdownOutput") VALUES (gen_random_uuid(), $1, 1, '# one')`,
    [run.id],
  );
  return run;
}

const leaseOf = (runId: string) => api.db.prisma.runLease.findUnique({ where: { runId } });

function follow(token: string, runId: string) {
  const client = wsClient(api.server.wsUrl, token);
  clients.push(client);
  return subscribeWs(client, RunProgressDocument, { id: runId });
}

describe('cancelRun', () => {
  it('a PENDING run is CANCELLED at once and keeps its record; its subscriber gets that state and completes', async () => {
    const { token, userId } = await api.signIn();
    const run = await createRun(api.db.prisma, userId);
    const sub = follow(token, run.id);
    await sub.waitFor((m) => m.data?.runUpdated.status === 'PENDING');
    const { cancelRun } = dataOf(await execute(api.server.url, CancelRunDocument, { id: run.id }, { token }));
    expect(cancelRun).toMatchObject({ id: run.id, status: 'CANCELLED', currentStage: 0, errorMessage: null, completedAt: null });
    expect(await sub.ended).toEqual({});
    expect(sub.messages.map((m) => m.data?.runUpdated.status)).toEqual(['PENDING', 'CANCELLED']);
    expect(await api.db.prisma.run.findUniqueOrThrow({ where: { id: run.id } })).toMatchObject({ status: 'CANCELLED', userId });
  });

  it('a RUNNING run is CANCELLED where it stands, its outputs kept and its lease gone (its worker stops at its next write)', async () => {
    const { token, userId } = await api.signIn();
    const run = await runningWithAnOutput(userId);
    const { cancelRun } = dataOf(await execute(api.server.url, CancelRunDocument, { id: run.id }, { token }));
    expect(cancelRun).toMatchObject({ status: 'CANCELLED', currentStage: 2 });
    expect(await leaseOf(run.id)).toBeNull();
    expect(await api.db.prisma.stageOutput.count({ where: { runId: run.id } })).toBe(1);
  });

  it('cancelling a cancelled run answers with it; a COMPLETED or FAILED run is a CONFLICT naming its status, unchanged', async () => {
    const { token, userId } = await api.signIn();
    const run = await createRun(api.db.prisma, userId);
    for (let i = 0; i < 2; i++) {
      expect(dataOf(await execute(api.server.url, CancelRunDocument, { id: run.id }, { token })).cancelRun.status).toBe('CANCELLED');
    }
    const finished = [
      await createCompletedRun(api.db.prisma, userId),
      await createRun(api.db.prisma, userId, { status: 'FAILED', currentStage: 3, errorMessage: 'Stage 3 failed' }),
    ];
    for (const done of finished) {
      const before = await api.db.prisma.run.findUniqueOrThrow({ where: { id: done.id } });
      const response = await execute(api.server.url, CancelRunDocument, { id: done.id }, { token });
      expect(codesOf(response)).toEqual(['CONFLICT']);
      expect(response.errors![0]).toMatchObject({
        message: `Only a PENDING or RUNNING run can be cancelled; this run is ${before.status}`,
        extensions: { status: before.status },
      });
      expect(await api.db.prisma.run.findUniqueOrThrow({ where: { id: done.id } })).toEqual(before);
    }
  });

  it("another user's run, or a missing one, is NOT_FOUND and stays as it was", async () => {
    const alice = await api.signIn();
    const bob = await api.signIn();
    const run = await createRun(api.db.prisma, alice.userId);
    await claimedByAWorker(run.id);
    for (const id of [run.id, '00000000-0000-4000-8000-000000000000']) {
      const response = await execute(api.server.url, CancelRunDocument, { id }, { token: bob.token });
      expect(codesOf(response)).toEqual(['NOT_FOUND']);
      expect(response.errors![0]!.message).toBe('Run not found');
    }
    expect((await api.db.prisma.run.findUniqueOrThrow({ where: { id: run.id } })).status).toBe('RUNNING');
    expect(await leaseOf(run.id)).not.toBeNull();
  });
});

describe('retryRun of a cancelled run', () => {
  it('puts it back to PENDING at stage 0 with its outputs and lease gone, counted like a FAILED one', async () => {
    const { token, userId } = await api.signIn();
    const run = await runningWithAnOutput(userId);
    dataOf(await execute(api.server.url, CancelRunDocument, { id: run.id }, { token }));
    const { retryRun } = dataOf(await execute(api.server.url, RetryRunDocument, { id: run.id }, { token }));
    expect(retryRun).toMatchObject({ status: 'PENDING', currentStage: 0, stageOutputs: [] });
    expect(await leaseOf(run.id)).toBeNull();
    expect(await api.db.prisma.runRetries.findUniqueOrThrow({ where: { runId: run.id } })).toMatchObject({ count: 1 });
  });
});

describe('deleteRun of a running run', () => {
  it.each(['graphql-ws', 'SSE'])(
    'deletes it with its lease; a %s subscriber gets NOT_FOUND with deleted: true, then the stream ends',
    async (transport) => {
      const { token, userId } = await api.signIn();
      const run = await createRun(api.db.prisma, userId);
      await claimedByAWorker(run.id);
      const sub = transport === 'SSE' ? subscribeSse(api.server.url, token, RunProgressDocument, { id: run.id }) : follow(token, run.id);
      await sub.waitFor((m) => m.data?.runUpdated.status === 'RUNNING');
      expect(dataOf(await execute(api.server.url, DeleteRunDocument, { id: run.id }, { token })).deleteRun.deletedRunId).toBe(run.id);
      expect(await sub.ended).toEqual({});
      expect(sub.messages.at(-1)).toMatchObject({
        data: null,
        errors: [{ message: `Run ${run.id} was deleted`, extensions: { code: 'NOT_FOUND', deleted: true, runId: run.id } }],
      });
      expect(await leaseOf(run.id)).toBeNull();
    },
  );
});

describe('createRun with an idempotency key', () => {
  const create = (token: string, options: { key?: string; header?: string; input?: CreateRunInput; url?: string } = {}) =>
    execute(
      options.url ?? api.server.url,
      CreateRunDocument,
      { input: options.input ?? INPUT, idempotencyKey: options.key },
      { token, headers: options.header === undefined ? {} : { 'idempotency-key': options.header } },
    );
  const runsOf = (userId: string) => api.db.prisma.run.count({ where: { userId } });

  it('the same key with the same input answers with the same run, however often, and spends no permit again', async () => {
    const { token, userId } = await api.signIn();
    const first = dataOf(await create(token, { key: 'start-1' })).createRun;
    // More replays than the per-minute limit of createRun (10): a replay starts nothing, so spends nothing.
    for (let i = 0; i < 12; i++) expect(dataOf(await create(token, { key: 'start-1' })).createRun).toEqual(first);
    expect(await runsOf(userId)).toBe(1);
  });

  it('concurrent duplicates (a double click) create one run and all answer with it', async () => {
    const { token, userId } = await api.signIn();
    const responses = await Promise.all(
      Array.from({ length: 6 }, () => create(token, { header: '"8e03978e-40d5-43e8-bc93-6894a57f9324"' })),
    );
    const ids = responses.map((response) => dataOf(response).createRun.id);
    expect(new Set(ids).size).toBe(1);
    expect(await runsOf(userId)).toBe(1);
  });

  it('the Idempotency-Key header as a structured string or bare, and the argument, are one key', async () => {
    const { token, userId } = await api.signIn();
    const quoted = dataOf(await create(token, { header: '"abc-123"' })).createRun.id;
    expect(dataOf(await create(token, { header: 'abc-123' })).createRun.id).toBe(quoted);
    expect(dataOf(await create(token, { key: 'abc-123' })).createRun.id).toBe(quoted);
    expect(dataOf(await create(token, { key: 'abc-123', header: 'abc-123' })).createRun.id).toBe(quoted);
    expect(await runsOf(userId)).toBe(1);
  });

  it('the same key with another input is a CONFLICT that creates nothing; without a key every call starts a run', async () => {
    const { token, userId } = await api.signIn();
    dataOf(await create(token, { key: 'k' }));
    const response = await create(token, { key: 'k', input: { ...INPUT, companyName: 'Someone else' } });
    expect(codesOf(response)).toEqual(['CONFLICT']);
    expect(response.errors![0]).toMatchObject({
      message: 'This idempotency key was already used for a createRun with a different input: use a new key for a new run (key "k")',
      extensions: { idempotencyKey: 'k' },
    });
    expect(await runsOf(userId)).toBe(1);
    dataOf(await create(token));
    dataOf(await create(token));
    expect(await runsOf(userId)).toBe(3);
  });

  it("keys are each user's own, and hold across instances", async () => {
    const alice = await api.signIn();
    const bob = await api.signIn();
    const alices = dataOf(await create(alice.token, { key: 'shared-key' })).createRun.id;
    const bobs = dataOf(await create(bob.token, { key: 'shared-key' })).createRun.id;
    expect(bobs).not.toBe(alices);
    const second = await startTestServer(api.db.url, { CLERK_JWT_KEY: api.signer.publicKeyPem, ALLOW_ARBITRARY_DOCUMENTS: 'true' });
    try {
      expect(dataOf(await create(alice.token, { key: 'shared-key', url: second.url })).createRun.id).toBe(alices);
    } finally {
      await second.close();
    }
    expect(await runsOf(alice.userId)).toBe(1);
  });

  it('a key whose run was deleted says so; a key older than IDEMPOTENCY_KEY_HOURS starts a new run', async () => {
    const { token, userId } = await api.signIn();
    const deleted = dataOf(await create(token, { key: 'gone' })).createRun.id;
    dataOf(await execute(api.server.url, DeleteRunDocument, { id: deleted }, { token }));
    const response = await create(token, { key: 'gone' });
    expect(codesOf(response)).toEqual(['NOT_FOUND']);
    expect(response.errors![0]!.message).toBe('The run this idempotency key created has since been deleted (key "gone")');
    const old = dataOf(await create(token, { key: 'old' })).createRun.id;
    await api.db.sql.query(
      `UPDATE "IdempotencyKey" SET "createdAt" = "createdAt" - interval '25 hours' WHERE "userId" = $1 AND key = 'old'`,
      [userId],
    );
    const fresh = dataOf(await create(token, { key: 'old' })).createRun.id;
    expect(fresh).not.toBe(old);
    expect(dataOf(await create(token, { key: 'old' })).createRun.id).toBe(fresh);
  });

  it.each<[string, { key?: string; header?: string }, string, RegExp]>([
    ['an empty key', { key: '' }, 'idempotencyKey', /1 to 255 visible ASCII characters/],
    ['a 256-character key', { key: 'k'.repeat(256) }, 'idempotencyKey', /\(got 256 characters\)/],
    ['a key with a space', { key: 'two words' }, 'idempotencyKey', /visible ASCII/],
    ['an empty header', { header: '""' }, 'Idempotency-Key header', /1 to 255 visible ASCII characters/],
    ['an argument and a header that differ', { key: 'a', header: 'b' }, 'idempotencyKey', /differs from the Idempotency-Key header/],
  ])('%s is BAD_USER_INPUT naming it, and creates nothing', async (_label, options, field, message) => {
    const { token, userId } = await api.signIn();
    const response = await create(token, options);
    expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors![0]!.extensions!.field).toBe(field);
    expect(response.errors![0]!.message).toMatch(message);
    expect(await runsOf(userId)).toBe(0);
  });
});
