/**
 * POST /webhooks/clerk on a real server and database, with deliveries signed the way Svix signs them
 * (standardwebhooks, a test secret). Two server instances share the database: what one instance receives
 * (a revoked session, a deleted user) must reach the other's open WebSockets and SSE streams through
 * PostgreSQL's NOTIFY.
 */
import type { Client } from 'graphql-ws';
import {
  newSigningSecret,
  sampleClerkEvent,
  signDelivery,
  type SampleEventOptions,
  type SignedDelivery,
} from '../../scripts/support/clerk-webhooks';
import { DashboardDocument, MeDocument, RunProgressDocument } from '../graphql/generated/graphql';
import { startApi, type ApiFixture } from '../helpers/api';
import { createCompletedRun, createRun } from '../helpers/fixtures';
import { codesOf, dataOf, execute } from '../helpers/graphql';
import { startTestServer, type TestServer } from '../helpers/server';
import { disposeAll, subscribeSse, subscribeWs, wsClient } from '../helpers/subscriptions';

const secret = newSigningSecret();
let api: ApiFixture;
let second: TestServer;
const clients: Client[] = [];

beforeAll(async () => {
  api = await startApi({ CLERK_WEBHOOK_SIGNING_SECRET: secret });
  second = await startTestServer(api.db.url, { CLERK_JWT_KEY: api.signer.publicKeyPem, CLERK_WEBHOOK_SIGNING_SECRET: secret });
});
afterEach(async () => {
  await disposeAll(clients.splice(0));
});
afterAll(async () => {
  await second.close();
  await api.close();
});

async function post(delivery: SignedDelivery, server: { url: string } = api.server) {
  const res = await fetch(`${server.url}/webhooks/clerk`, { method: 'POST', headers: delivery.headers, body: delivery.body });
  return { status: res.status, body: (await res.json()) as { received?: boolean; outcome?: string; error?: string } };
}

const signed = (type: string, options: SampleEventOptions, signing: { id?: string; timestamp?: Date } = {}) =>
  signDelivery(secret, JSON.stringify(sampleClerkEvent(type, options)), signing);

const send = (type: string, options: SampleEventOptions, server?: { url: string }) => post(signed(type, options), server);

/** Every table's row count: a refused delivery must leave them all as they were. */
async function rowCounts() {
  const { prisma } = api.db;
  return {
    users: await prisma.user.count(),
    runs: await prisma.run.count(),
    processed: await prisma.processedWebhook.count(),
    states: await prisma.clerkUserState.count(),
    revoked: await prisma.revokedSession.count(),
  };
}

describe('user.created / user.updated', () => {
  it('creates the user with email and name, then updates them', async () => {
    const clerkId = 'user_wh_profile';
    expect(await send('user.created', { clerkId, email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace' })).toEqual({
      status: 200,
      body: { received: true, outcome: 'applied' },
    });
    expect(await api.db.prisma.user.findUnique({ where: { clerkId }, select: { email: true, name: true } })).toEqual({
      email: 'ada@example.com',
      name: 'Ada Lovelace',
    });
    expect((await send('user.updated', { clerkId, email: 'ada@new.example.com', firstName: 'Ada' })).body.outcome).toBe('applied');
    expect(await api.db.prisma.user.findUnique({ where: { clerkId }, select: { email: true, name: true } })).toEqual({
      email: 'ada@new.example.com',
      name: 'Ada',
    });
  });

  it('updates a user first created by a request, and the API shows it', async () => {
    const { token } = await api.signIn('user_wh_signed_in');
    await send('user.updated', { clerkId: 'user_wh_signed_in', email: 'renamed@example.com', firstName: 'Renamed' });
    expect(dataOf(await execute(api.server.url, MeDocument, {}, { token })).me).toMatchObject({
      email: 'renamed@example.com',
      name: 'Renamed',
    });
  });

  it('never lets an older event overwrite a newer one, whatever order they arrive in', async () => {
    const clerkId = 'user_wh_order';
    const t = Date.now();
    await send('user.created', { clerkId, email: 'v1@example.com', updatedAt: t - 3000 });
    await send('user.updated', { clerkId, email: 'v3@example.com', updatedAt: t - 1000 });
    expect(await send('user.updated', { clerkId, email: 'v2@example.com', updatedAt: t - 2000 })).toEqual({
      status: 200,
      body: { received: true, outcome: 'stale' },
    });
    expect((await api.db.prisma.user.findUniqueOrThrow({ where: { clerkId } })).email).toBe('v3@example.com');
  });

  it('answers 409 and writes nothing when the email belongs to another user here (Svix retries it)', async () => {
    await send('user.created', { clerkId: 'user_wh_holder', email: 'taken@example.com' });
    const before = await rowCounts();
    const res = await send('user.created', { clerkId: 'user_wh_newcomer', email: 'taken@example.com' });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatch(/email address belongs to another user/);
    expect(await rowCounts()).toEqual(before);
  });
});

describe('deliveries that are refused or ignored', () => {
  const valid = () => signed('user.updated', { clerkId: 'user_wh_refused', email: 'refused@example.com' });

  it.each([
    ['a tampered body', (d: SignedDelivery) => ({ ...d, body: d.body.replace('refused@', 'attacker@') }), /No matching signature found/],
    ['another secret', () => signDelivery(newSigningSecret(), valid().body), /No matching signature found/],
    [
      'a timestamp older than 5 minutes',
      () => signed('user.updated', { clerkId: 'user_wh_refused' }, { timestamp: new Date(Date.now() - 6 * 60_000) }),
      /timestamp too old/,
    ],
    [
      'no signature header',
      (d: SignedDelivery) => ({ ...d, headers: { ...d.headers, 'svix-signature': '' } }),
      /Missing required webhook headers: svix-signature/,
    ],
    ['a body that is not JSON', () => signDelivery(secret, 'not json'), /Webhook refused/],
    [
      'an event without the user id',
      () => signDelivery(secret, JSON.stringify({ type: 'user.updated', data: { updated_at: 1, email_addresses: [] }, timestamp: 1 })),
      /malformed event: data\.id/,
    ],
    [
      'a session event without its user',
      () => signDelivery(secret, JSON.stringify({ type: 'session.revoked', data: { id: 'sess_x' }, timestamp: 1 })),
      /malformed event: data\.user_id/,
    ],
  ])('%s: 400 with the reason, nothing written', async (_case, make, reason) => {
    const before = await rowCounts();
    const res = await post(make(valid()));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(reason);
    expect(res.body.error).not.toContain('\n');
    expect(await rowCounts()).toEqual(before);
  });

  it('a replayed delivery (same svix-id) answers 200 and changes nothing', async () => {
    const clerkId = 'user_wh_replay';
    const first = signed('user.created', { clerkId, email: 'first@example.com' }, { id: 'msg_replay_1' });
    expect((await post(first)).body.outcome).toBe('applied');
    // Svix retries with the same id and a new timestamp; even a different body under that id is not applied.
    const retry = signed('user.updated', { clerkId, email: 'second@example.com', updatedAt: Date.now() + 1000 }, { id: 'msg_replay_1' });
    expect(await post(retry, second)).toEqual({ status: 200, body: { received: true, outcome: 'replayed' } });
    expect((await api.db.prisma.user.findUniqueOrThrow({ where: { clerkId } })).email).toBe('first@example.com');
    expect(await api.db.prisma.processedWebhook.count({ where: { id: 'msg_replay_1' } })).toBe(1);
  });

  it('concurrent deliveries of one svix-id are applied once', async () => {
    const delivery = signed('user.created', { clerkId: 'user_wh_concurrent', email: 'concurrent@example.com' });
    const outcomes = await Promise.all([post(delivery), post(delivery, second), post(delivery)]);
    expect(outcomes.map((o) => o.body.outcome).sort()).toEqual(['applied', 'replayed', 'replayed']);
  });

  it('an event type this server does not use answers 200 "ignored" and writes nothing', async () => {
    const before = await rowCounts();
    expect(await send('organization.created', { clerkId: 'user_wh_refused' })).toEqual({
      status: 200,
      body: { received: true, outcome: 'ignored' },
    });
    expect(await rowCounts()).toEqual(before);
  });

  it('a body over WEBHOOK_MAX_BODY_BYTES is 413, and no CSRF header or GraphQL limit applies to the endpoint', async () => {
    const huge = signed('user.updated', { clerkId: 'user_wh_refused', firstName: 'x'.repeat(300_000) });
    expect((await post(huge)).status).toBe(413);
    // A plain-text content type and no x-graphql-yoga-csrf header: Svix's request is not a browser's.
    const plain = signed('user.created', { clerkId: 'user_wh_plain', email: 'plain@example.com' });
    expect((await post({ ...plain, headers: { ...plain.headers, 'content-type': 'text/plain' } })).status).toBe(200);
  });

  it('/metrics counts webhooks by type and outcome', async () => {
    await send('user.updated', { clerkId: 'user_wh_metrics', email: 'metrics@example.com' });
    const text = await (await fetch(`${api.server.url}/metrics`)).text();
    expect(text).toMatch(/opportunity_clerk_webhooks_total\{type="user\.updated",outcome="applied"\} [1-9]/);
    expect(text).toMatch(/opportunity_clerk_webhooks_total\{type="unverified",outcome="rejected"\} [1-9]/);
  });

  it('is 404 on a server without CLERK_WEBHOOK_SIGNING_SECRET', async () => {
    const plainServer = await startTestServer(api.db.url, { CLERK_JWT_KEY: api.signer.publicKeyPem });
    try {
      const res = await post(signed('user.created', { clerkId: 'user_wh_off' }), plainServer);
      expect(res.status).toBe(404);
      expect(res.body.error).toMatch(/set CLERK_WEBHOOK_SIGNING_SECRET/);
    } finally {
      await plainServer.close();
    }
  });
});

describe('user.deleted', () => {
  it("removes every row of that user and nothing of anyone else's, closes their live connections, and refuses their tokens", async () => {
    const { token, userId } = await api.signIn('user_wh_doomed');
    const other = await api.signIn('user_wh_survivor');
    for (const id of [userId, other.userId]) {
      await createCompletedRun(api.db.prisma, id);
      await createRun(api.db.prisma, id);
    }
    const { prisma } = api.db;
    const countsOf = async (id: string) => ({
      runs: await prisma.run.count({ where: { userId: id } }),
      cards: await prisma.opportunityCard.count({ where: { userId: id } }),
      reports: await prisma.inspirationReport.count({ where: { run: { userId: id } } }),
      outputs: await prisma.stageOutput.count({ where: { run: { userId: id } } }),
    });
    expect(await countsOf(userId)).toEqual({ runs: 2, cards: 5, reports: 1, outputs: 5 });
    const survivorBefore = await countsOf(other.userId);

    // Live on the other instance: a WebSocket subscription and an SSE stream.
    let closed: { code: number; reason: string } | undefined;
    const ws = wsClient(second.wsUrl, token, { on: { closed: (event) => (closed = event as { code: number; reason: string }) } });
    clients.push(ws);
    const wsDashboard = subscribeWs(ws, DashboardDocument, {});
    const pendingRun = (await prisma.run.findFirstOrThrow({ where: { userId, status: 'PENDING' } })).id;
    const sse = subscribeSse(second.url, token, RunProgressDocument, { id: pendingRun });
    await sse.waitFor((m) => m.data?.runUpdated?.status === 'PENDING');
    await prisma.run.update({ where: { id: pendingRun }, data: { status: 'RUNNING', currentStage: 1 } });
    await wsDashboard.waitFor((m) => m.data?.runsUpdated?.currentStage === 1);

    const sentAt = Date.now();
    expect((await send('user.deleted', { clerkId: 'user_wh_doomed' })).body.outcome).toBe('applied');
    await Promise.all([wsDashboard.ended, sse.ended]);
    expect(Date.now() - sentAt).toBeLessThan(1000);
    expect(closed).toEqual(expect.objectContaining({ code: 4403, reason: 'Forbidden: Account deleted' }));
    expect(sse.messages.at(-1)?.errors?.[0]).toMatchObject({ message: 'Account deleted', extensions: { code: 'UNAUTHENTICATED' } });

    expect(await prisma.user.count({ where: { id: userId } })).toBe(0);
    expect(await countsOf(userId)).toEqual({ runs: 0, cards: 0, reports: 0, outputs: 0 });
    expect(await countsOf(other.userId)).toEqual(survivorBefore);

    // The token is still valid for a while: no instance re-creates an empty user from it.
    for (const server of [api.server, second]) {
      const res = await execute(server.url, MeDocument, {}, { token });
      expect(res.status).toBe(401);
      expect(res.errors?.[0]?.message).toMatch(/account was deleted/);
    }
    expect(await prisma.user.count({ where: { clerkId: 'user_wh_doomed' } })).toBe(0);
    expect(dataOf(await execute(second.url, MeDocument, {}, { token: other.token })).me.id).toBe(other.userId);

    // Until Clerk creates the user again.
    expect((await send('user.created', { clerkId: 'user_wh_doomed', email: 'back@example.com' })).body.outcome).toBe('applied');
    expect(dataOf(await execute(api.server.url, MeDocument, {}, { token })).me).toMatchObject({ email: 'back@example.com', runCount: 0 });
  });

  it('a late update of a deleted user does not bring them back', async () => {
    const clerkId = 'user_wh_deleted_late';
    await send('user.created', { clerkId, email: 'late@example.com', updatedAt: Date.now() - 5000 });
    await send('user.deleted', { clerkId });
    expect((await send('user.updated', { clerkId, email: 'late2@example.com', updatedAt: Date.now() - 1000 })).body.outcome).toBe('stale');
    expect(await api.db.prisma.user.count({ where: { clerkId } })).toBe(0);
  });
});

describe('session.revoked / session.ended / session.removed', () => {
  it.each(['session.revoked', 'session.ended', 'session.removed'])(
    '%s closes that session’s WebSocket and SSE stream on another instance within 1 s; another session keeps working',
    async (type) => {
      const clerkId = `user_wh_${type.replace('.', '_')}`;
      const revokedSid = `sess_${type.replace('.', '_')}_a`;
      const { userId } = await api.signIn(clerkId);
      const revokedToken = await api.signer.sign({ sub: clerkId, sid: revokedSid, expiresIn: 600 });
      const otherToken = await api.signer.sign({ sub: clerkId, sid: `sess_${type.replace('.', '_')}_b`, expiresIn: 600 });
      const run = await createRun(api.db.prisma, userId);

      let closed: { code: number; reason: string } | undefined;
      const revokedWs = wsClient(second.wsUrl, revokedToken, {
        on: { closed: (event) => (closed = event as { code: number; reason: string }) },
      });
      const otherWs = wsClient(second.wsUrl, otherToken);
      clients.push(revokedWs, otherWs);
      const onRevoked = subscribeWs(revokedWs, RunProgressDocument, { id: run.id });
      const onOther = subscribeWs(otherWs, RunProgressDocument, { id: run.id });
      const sse = subscribeSse(second.url, revokedToken, RunProgressDocument, { id: run.id });
      for (const sub of [onRevoked, onOther, sse]) await sub.waitFor((m) => m.data?.runUpdated?.status === 'PENDING');

      const sentAt = Date.now();
      expect((await send(type, { clerkId, sessionId: revokedSid })).body.outcome).toBe('applied');
      await Promise.all([onRevoked.ended, sse.ended]);
      expect(Date.now() - sentAt).toBeLessThan(1000);
      expect(closed).toEqual(expect.objectContaining({ code: 4403, reason: 'Forbidden: Session ended or revoked: sign in again' }));
      expect(sse.messages.at(-1)?.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

      // The other session still gets live updates, and its requests pass, on both instances.
      await api.db.prisma.run.update({ where: { id: run.id }, data: { status: 'RUNNING', currentStage: 1 } });
      await onOther.waitFor((m) => m.data?.runUpdated?.currentStage === 1);
      for (const server of [api.server, second]) {
        expect(dataOf(await execute(server.url, MeDocument, {}, { token: otherToken })).me.id).toBe(userId);
        const refused = await execute(server.url, MeDocument, {}, { token: revokedToken });
        expect(refused.status).toBe(401);
        expect(codesOf(refused)).toEqual(['UNAUTHENTICATED']);
        expect(refused.errors?.[0]?.message).toMatch(/session was ended or revoked/);
      }
    },
  );

  it('an instance started later refuses a revoked session too (revocations are loaded at start)', async () => {
    await api.signIn('user_wh_later');
    const token = await api.signer.sign({ sub: 'user_wh_later', sid: 'sess_wh_later', expiresIn: 600 });
    await send('session.revoked', { clerkId: 'user_wh_later', sessionId: 'sess_wh_later' });
    const third = await startTestServer(api.db.url, { CLERK_JWT_KEY: api.signer.publicKeyPem });
    try {
      expect((await execute(third.url, MeDocument, {}, { token })).status).toBe(401);
    } finally {
      await third.close();
    }
  });

  it('refuses tokens that live longer than SESSION_TOKEN_MAX_LIFETIME_SECONDS (a revocation could not outlast them)', async () => {
    const strict = await startTestServer(api.db.url, { CLERK_JWT_KEY: api.signer.publicKeyPem, SESSION_TOKEN_MAX_LIFETIME_SECONDS: '600' });
    try {
      const long = await api.signer.sign({ sub: 'user_wh_long', expiresIn: 3600 });
      const res = await execute(strict.url, MeDocument, {}, { token: long });
      expect(res.status).toBe(401);
      expect(res.errors?.[0]?.message).toMatch(/longer than SESSION_TOKEN_MAX_LIFETIME_SECONDS \(600\)/);
      const short = await api.signer.sign({ sub: 'user_wh_long', expiresIn: 600 });
      expect((await execute(strict.url, MeDocument, {}, { token: short })).status).toBe(200);
    } finally {
      await strict.close();
    }
  });
});
