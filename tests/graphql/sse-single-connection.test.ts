/**
 * graphql-sse's single-connection mode at /graphql/stream, as its own client speaks it (`singleConnection: true`):
 * one reservation, one event stream, however many subscriptions (more than the six a browser opens per host);
 * the per-user subscription limit counts them as it counts any others, across modes; a stream is its user's
 * alone; closing it ends every subscription on it. Trusted documents over this mode: tests/graphql/trusted-documents.test.ts.
 */
import { createClient, type Client } from 'graphql-sse';
import { RunProgressDocument } from './generated/graphql';
import { startApi, type ApiFixture } from '../helpers/api';
import { createRun } from '../helpers/fixtures';
import { subscribeWs, wsClient, type Message, type Subscription } from '../helpers/subscriptions';

const LIMIT = 9;
let api: ApiFixture;
beforeAll(async () => {
  api = await startApi({ MAX_SUBSCRIPTIONS_PER_USER: String(LIMIT) });
});
afterAll(() => api.close());

type Progress = { runUpdated: { id: string; status: string; currentStage: number } };

/** A single-connection client that records every request it sends (method and path). */
function streamClient(token: string): { client: Client<true>; requests: string[] } {
  const requests: string[] = [];
  const client = createClient({
    url: `${api.server.url}/graphql/stream`,
    singleConnection: true,
    headers: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    fetchFn: (input: RequestInfo | URL, init?: RequestInit) => {
      requests.push(`${init?.method ?? 'GET'} ${new URL(input instanceof Request ? input.url : input).pathname}`);
      return fetch(input, init);
    },
  });
  return { client, requests };
}

function subscribe(client: Client<true>, id: string): Subscription<Progress> {
  const messages: Array<Message<Progress>> = [];
  let finish!: (result: { error?: unknown }) => void;
  const ended = new Promise<{ error?: unknown }>((resolve) => (finish = resolve));
  const unsubscribe = client.subscribe<Progress>(
    { query: RunProgressDocument.toString(), variables: { id } },
    { next: (m) => messages.push(m as Message<Progress>), error: (error) => finish({ error }), complete: () => finish({}) },
  );
  return {
    messages,
    ended,
    unsubscribe,
    async waitFor(predicate, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = messages.find(predicate);
        if (match) return match;
        if (Date.now() > deadline) throw new Error(`no matching message; got ${JSON.stringify(messages)}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
}

async function openReaches(userId: string, count: number) {
  for (let i = 0; i < 500 && api.server.subscriptions.openOf(userId) !== count; i++) await new Promise((r) => setTimeout(r, 10));
  expect(api.server.subscriptions.openOf(userId)).toBe(count);
}

const pipeline = (runId: string, status: string, stage: number) =>
  api.db.sql.query(`UPDATE "Run" SET status = $2::"RunStatus", "currentStage" = $3, "updatedAt" = now() WHERE id = $1`, [
    runId,
    status,
    stage,
  ]);

it('eight subscriptions share one event stream and each follows its run to the end', async () => {
  const { token, userId } = await api.signIn('user_stream_many');
  const runs = await Promise.all(Array.from({ length: 8 }, () => createRun(api.db.prisma, userId)));
  const { client, requests } = streamClient(token);
  try {
    const subs = runs.map((run) => subscribe(client, run.id));
    await Promise.all(subs.map((sub) => sub.waitFor((m) => m.data?.runUpdated.status === 'PENDING')));
    await Promise.all(runs.map((run, i) => pipeline(run.id, 'RUNNING', (i % 5) + 1)));
    await Promise.all(subs.map((sub, i) => sub.waitFor((m) => m.data?.runUpdated.currentStage === (i % 5) + 1)));
    await Promise.all(runs.map((run) => pipeline(run.id, 'COMPLETED', 5)));
    expect(await Promise.all(subs.map((sub) => sub.ended))).toEqual(runs.map(() => ({})));
    for (const [i, sub] of subs.entries()) {
      expect(sub.messages.map((m) => `${m.data?.runUpdated.status}:${m.data?.runUpdated.currentStage}`)).toEqual([
        'PENDING:0',
        `RUNNING:${(i % 5) + 1}`,
        'COMPLETED:5',
      ]);
    }
    // One reservation, one stream, one short POST per operation: a browser's six connections are never the limit.
    expect(requests.filter((r) => r === 'PUT /graphql/stream')).toHaveLength(1);
    expect(requests.filter((r) => r === 'GET /graphql/stream')).toHaveLength(1);
    expect(requests.filter((r) => r === 'POST /graphql/stream')).toHaveLength(8);
    await openReaches(userId, 0);
  } finally {
    client.dispose();
  }
});

it('the per-user limit counts these subscriptions with those on graphql-ws, and a closed one frees its place', async () => {
  const { token, userId } = await api.signIn('user_stream_limit');
  const runs = await Promise.all(Array.from({ length: LIMIT + 1 }, () => createRun(api.db.prisma, userId)));
  const ws = wsClient(api.server.wsUrl, token);
  const { client } = streamClient(token);
  try {
    const overWs = runs.slice(0, 3).map((run) => subscribeWs(ws, RunProgressDocument, { id: run.id }));
    const overSse = runs.slice(3, LIMIT).map((run) => subscribe(client, run.id));
    await Promise.all([...overWs, ...overSse].map((sub) => sub.waitFor((m) => m.data?.runUpdated.status === 'PENDING')));
    await openReaches(userId, LIMIT);

    const refused = subscribe(client, runs[LIMIT]!.id);
    await refused.ended;
    expect(refused.messages[0]?.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 'subscriptionsPerUser', max: LIMIT });
    // The refusal ended only that operation: the others on the stream still follow their runs.
    await pipeline(runs[3]!.id, 'RUNNING', 2);
    await overSse[0]!.waitFor((m) => m.data?.runUpdated.currentStage === 2);

    overSse[1]!.unsubscribe();
    await openReaches(userId, LIMIT - 1);
    const again = subscribe(client, runs[LIMIT]!.id);
    await again.waitFor((m) => m.data?.runUpdated.status === 'PENDING');
    await openReaches(userId, LIMIT);
  } finally {
    await ws.dispose();
    client.dispose();
  }
  // Closing the stream ends every subscription on it.
  await openReaches(userId, 0);
});

describe('a stream is its user’s', () => {
  const reserve = (bearer?: string) =>
    fetch(`${api.server.url}/graphql/stream`, { method: 'PUT', headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });

  it('a reservation needs a signed-in user', async () => {
    const res = await reserve();
    expect(res.status).toBe(401);
  });

  it('another user cannot subscribe on it, open it or stop its operations', async () => {
    const alice = await api.signIn('user_stream_alice');
    const bob = await api.signIn('user_stream_bob');
    const reservation = await reserve(alice.token);
    expect(reservation.status).toBe(201);
    const streamToken = await reservation.text();
    const run = await createRun(api.db.prisma, bob.userId);
    const asBob = { authorization: `Bearer ${bob.token}`, 'x-graphql-event-stream-token': streamToken };

    const operation = await fetch(`${api.server.url}/graphql/stream`, {
      method: 'POST',
      headers: { ...asBob, 'content-type': 'application/json' },
      body: JSON.stringify({ query: RunProgressDocument.toString(), variables: { id: run.id }, extensions: { operationId: 'one' } }),
    });
    expect(operation.status).toBe(403);
    expect(await operation.text()).toBe('This event stream belongs to another user');
    const stream = await fetch(`${api.server.url}/graphql/stream`, { headers: { ...asBob, accept: 'text/event-stream' } });
    expect(stream.status).toBe(403);
    await stream.body?.cancel();
    const stop = await fetch(`${api.server.url}/graphql/stream?operationId=one`, { method: 'DELETE', headers: asBob });
    expect(stop.status).toBe(403);
    expect(api.server.subscriptions.openOf(bob.userId)).toBe(0);
  });
});
