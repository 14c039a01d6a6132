/**
 * Identical runUpdated subscribers (same document, variables, user and session) share one execution, over
 * graphql-ws and SSE alike: each still receives every state in order, a late joiner gets the current state
 * at once, leaving does not end the others, the per-user limit still counts each of them, and nothing is
 * shared across sessions (a revoked session ends only its own subscribers).
 */
import type { Client } from 'graphql-ws';
import { newSigningSecret, sampleClerkEvent, signDelivery } from '../../scripts/support/clerk-webhooks';
import { RunProgressDocument, RunProgressWithOutputsDocument } from './generated/graphql';
import { startApi, type ApiFixture } from '../helpers/api';
import { createRun } from '../helpers/fixtures';
import { disposeAll, subscribeSse, subscribeWs, wsClient } from '../helpers/subscriptions';

const secret = newSigningSecret();
let api: ApiFixture;
const clients: Client[] = [];

beforeAll(async () => {
  api = await startApi({ CLERK_WEBHOOK_SIGNING_SECRET: secret, MAX_SUBSCRIPTIONS_PER_USER: '6' });
});
afterEach(async () => {
  await disposeAll(clients.splice(0));
});
afterAll(async () => {
  await api.close();
});

async function sharedExecutions(): Promise<number> {
  const text = await (await fetch(`${api.server.url}/metrics`)).text();
  return Number(/^opportunity_shared_subscription_executions (\d+)$/m.exec(text)?.[1]);
}

const connect = (token: string) => {
  const client = wsClient(api.server.wsUrl, token);
  clients.push(client);
  return client;
};

const stageOf = (message: { data?: { runUpdated?: { currentStage: number } } | null }) => message.data?.runUpdated?.currentStage;

it('identical subscribers share one execution and each gets every state; a late joiner starts from the current one', async () => {
  const clerkId = 'user_shared_a';
  const { userId } = await api.signIn(clerkId);
  const token = await api.signer.sign({ sub: clerkId, sid: 'sess_shared_a', expiresIn: 600 });
  const run = await createRun(api.db.prisma, userId);
  const [one, two] = [connect(token), connect(token)];
  const subs = [subscribeWs(one, RunProgressDocument, { id: run.id }), subscribeWs(two, RunProgressDocument, { id: run.id })];
  subs.push(subscribeSse(api.server.url, token, RunProgressDocument, { id: run.id }));
  for (const sub of subs) await sub.waitFor((m) => m.data?.runUpdated?.status === 'PENDING');
  // Another selection is another execution; so is SSE, whose stream ends at its own token's expiry.
  const other = subscribeWs(one, RunProgressWithOutputsDocument, { id: run.id });
  await other.waitFor((m) => m.data?.runUpdated?.status === 'PENDING');
  expect(await sharedExecutions()).toBe(3);

  await api.db.prisma.run.update({ where: { id: run.id }, data: { status: 'RUNNING', currentStage: 1 } });
  for (const sub of subs) await sub.waitFor((m) => stageOf(m) === 1);
  const late = subscribeWs(connect(token), RunProgressDocument, { id: run.id });
  const first = await late.waitFor(() => true);
  expect(stageOf(first)).toBe(1);

  subs[0]!.unsubscribe(); // one leaves; the others go on
  for (const stage of [2, 3]) {
    await api.db.prisma.run.update({ where: { id: run.id }, data: { currentStage: stage } });
    await subs[1]!.waitFor((m) => stageOf(m) === stage); // one change at a time: bursts may coalesce
  }
  await api.db.prisma.run.update({ where: { id: run.id }, data: { status: 'COMPLETED', completedAt: new Date() } });
  for (const sub of [...subs.slice(1), late]) {
    await sub.ended;
    const stages = sub.messages.map(stageOf);
    expect(stages.at(-1)).toBe(3);
    expect(sub.messages.at(-1)?.data?.runUpdated?.status).toBe('COMPLETED');
    expect([...stages].sort()).toEqual(stages); // never an older state after a newer one
  }
  expect(subs[1]!.messages.map((m) => `${m.data?.runUpdated?.status}:${stageOf(m)}`)).toEqual([
    'PENDING:0',
    'RUNNING:1',
    'RUNNING:2',
    'RUNNING:3',
    'COMPLETED:3',
  ]);
  other.unsubscribe();
  for (let i = 0; i < 100 && (await sharedExecutions()) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(await sharedExecutions()).toBe(0);
});

it('the per-user limit counts every shared subscriber', async () => {
  const clerkId = 'user_shared_limit';
  const { userId, token } = await api.signIn(clerkId);
  const run = await createRun(api.db.prisma, userId);
  const client = connect(token);
  const subs = Array.from({ length: 6 }, () => subscribeWs(client, RunProgressDocument, { id: run.id }));
  for (const sub of subs) await sub.waitFor((m) => m.data?.runUpdated?.status === 'PENDING');
  const refused = subscribeWs(client, RunProgressDocument, { id: run.id });
  await refused.ended;
  expect(refused.messages.map((m) => m.errors?.[0]?.extensions?.code)).toEqual(['RATE_LIMITED']);
  subs[0]!.unsubscribe();
  const admitted = subscribeWs(client, RunProgressDocument, { id: run.id });
  await admitted.waitFor((m) => m.data?.runUpdated?.status === 'PENDING');
});

it('is not shared across sessions: revoking one ends only its own subscribers', async () => {
  const clerkId = 'user_shared_sessions';
  const { userId } = await api.signIn(clerkId);
  const run = await createRun(api.db.prisma, userId);
  const tokenA = await api.signer.sign({ sub: clerkId, sid: 'sess_shared_x', expiresIn: 600 });
  const tokenB = await api.signer.sign({ sub: clerkId, sid: 'sess_shared_y', expiresIn: 600 });
  const onA = subscribeSse(api.server.url, tokenA, RunProgressDocument, { id: run.id });
  const onB = subscribeSse(api.server.url, tokenB, RunProgressDocument, { id: run.id });
  for (const sub of [onA, onB]) await sub.waitFor((m) => m.data?.runUpdated?.status === 'PENDING');
  expect(await sharedExecutions()).toBe(2);

  const { headers, body } = signDelivery(
    secret,
    JSON.stringify(sampleClerkEvent('session.revoked', { clerkId, sessionId: 'sess_shared_x' })),
  );
  expect((await fetch(`${api.server.url}/webhooks/clerk`, { method: 'POST', headers, body })).status).toBe(200);
  await onA.ended;
  expect(onA.messages.at(-1)?.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  await api.db.prisma.run.update({ where: { id: run.id }, data: { status: 'RUNNING', currentStage: 1 } });
  await onB.waitFor((m) => stageOf(m) === 1);
  onB.unsubscribe();
});

it('subscriptions starting together read their runs in one statement, each run matched to its own user', async () => {
  const alice = await api.signIn('user_batch_alice');
  const bob = await api.signIn('user_batch_bob');
  const aliceRuns = await Promise.all([1, 2, 3].map(() => createRun(api.db.prisma, alice.userId)));
  const bobRun = await createRun(api.db.prisma, bob.userId);
  const [aliceClient, bobClient] = [connect(alice.token), connect(bob.token)];
  // Warm both connections, so the subscriptions below arrive together.
  const warm = [
    subscribeWs(aliceClient, RunProgressDocument, { id: aliceRuns[0]!.id }),
    subscribeWs(bobClient, RunProgressDocument, { id: bobRun.id }),
  ];
  for (const sub of warm) await sub.waitFor((m) => m.data?.runUpdated?.status === 'PENDING');
  api.server.statements.length = 0;

  const mine = aliceRuns.slice(1).map((run) => subscribeWs(aliceClient, RunProgressWithOutputsDocument, { id: run.id }));
  const notMine = subscribeWs(aliceClient, RunProgressWithOutputsDocument, { id: bobRun.id });
  const bobs = subscribeWs(bobClient, RunProgressWithOutputsDocument, { id: bobRun.id });
  for (const sub of [...mine, bobs]) await sub.waitFor((m) => m.data?.runUpdated?.status === 'PENDING');
  await notMine.ended;
  expect(notMine.messages.map((m) => m.errors?.[0]?.extensions?.code)).toEqual(['NOT_FOUND']);
  expect(bobs.messages[0]?.data?.runUpdated?.id).toBe(bobRun.id);
  const runReads = api.server.statements.filter((sql) => /FROM "public"\."Run"/.test(sql) && !/COUNT/i.test(sql));
  expect(runReads.length).toBeLessThanOrEqual(2); // 4 subscriptions, read in 1 or 2 statements (arrival order decides)
  expect(runReads.every((sql) => /"userId" = \$\d+/.test(sql))).toBe(true);
});
