/** 1,000 concurrent subscriptions on one instance all receive the terminal state of their runs (completeness, not timing). */
import { RunProgressDocument } from './generated/graphql';
import { startApi, type ApiFixture } from '../helpers/api';
import { subscribeWs, wsClient, type Subscription, disposeAll } from '../helpers/subscriptions';
import type { Client } from 'graphql-ws';

const USERS = 10;
const RUNS_PER_USER = 100;
let api: ApiFixture;
const clients: Client[] = [];

beforeAll(async () => {
  // 100 subscriptions per user on one connection: above the defaults, which a test of its own covers.
  api = await startApi({ WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: '100', MAX_SUBSCRIPTIONS_PER_USER: '100' });
});
afterAll(async () => {
  await disposeAll(clients);
  await api.close();
});

type Progress = { runUpdated: { status: string; currentStage: number } };

it('1,000 subscriptions over 10 connections each end with COMPLETED', async () => {
  const subscriptions: Array<{ userId: string; runId: string; sub: Subscription<Progress> }> = [];
  for (let u = 0; u < USERS; u++) {
    const { token, userId } = await api.signIn(`user_many_${u}`);
    const runs = await api.db.prisma.run.createManyAndReturn({
      data: Array.from({ length: RUNS_PER_USER }, (_, i) => ({
        userId,
        companyId: 'load',
        companyName: 'Load',
        documentName: `r${i}.pdf`,
        documentUrl: 'https://x.test/r.pdf',
      })),
      select: { id: true },
    });
    const client = wsClient(api.server.wsUrl, token);
    clients.push(client);
    for (const run of runs) subscriptions.push({ userId, runId: run.id, sub: subscribeWs(client, RunProgressDocument, { id: run.id }) });
  }
  expect(subscriptions).toHaveLength(1_000);
  await Promise.all(subscriptions.map(({ sub }) => sub.waitFor((m) => m.data?.runUpdated.status === 'PENDING', 60_000)));
  expect(api.server.subscriptions.open).toBe(1_000);

  // The pipeline moves every run, in a few big statements, as a busy worker pool would.
  await api.db.sql.query(`UPDATE "Run" SET status = 'RUNNING', "currentStage" = 3, "updatedAt" = now() WHERE "companyId" = 'load'`);
  await api.db.sql.query(
    `UPDATE "Run" SET status = 'COMPLETED', "currentStage" = 5, "completedAt" = now(), "updatedAt" = now() WHERE "companyId" = 'load'`,
  );

  const ended = await Promise.all(subscriptions.map(({ sub }) => sub.ended));
  expect(ended.every((result) => result.error === undefined)).toBe(true);
  const last = subscriptions.map(({ sub }) => sub.messages.at(-1)?.data?.runUpdated);
  expect(last.filter((state) => state?.status !== 'COMPLETED' || state.currentStage !== 5)).toEqual([]);
  // Every finished subscription let go of its watcher.
  expect(api.server.subscriptions.open).toBe(0);
}, 120_000);
