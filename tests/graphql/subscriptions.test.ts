/**
 * Live run progress, end to end: the pipeline's raw SQL (a separate pg connection, as asyncpg would write)
 * reaches subscribers over graphql-ws and SSE through the database's NOTIFY events.
 */
import {
  CreateRunDocument,
  DashboardDocument,
  RunProgressDocument,
  RunProgressWithOutputsDocument,
  TypedDocumentString,
} from './generated/graphql';
import { startApi, type ApiFixture } from '../helpers/api';
import { terminateListener } from '../helpers/database';
import { createRun } from '../helpers/fixtures';
import { dataOf, execute } from '../helpers/graphql';
import { startTestServer } from '../helpers/server';
import { rawConnect, subscribeSse, subscribeWs, wsClient, type Message, disposeAll } from '../helpers/subscriptions';
import type { Client } from 'graphql-ws';

let api: ApiFixture;
let alice: { token: string; userId: string };
let bob: { token: string; userId: string };
const clients: Client[] = [];

beforeAll(async () => {
  api = await startApi({ WS_TOKEN_GRACE_SECONDS: '1' });
  alice = await api.signIn('user_alice');
  bob = await api.signIn('user_bob');
});
afterAll(async () => {
  await disposeAll(clients);
  await api.close();
});

/** Alice starts a run through the API of the server at `url`. */
async function createRunThroughApi(url: string, companyName: string) {
  const input = { companyId: 'acme', companyName, documentName: 'b.pdf', documentUrl: 'https://x.test/b.pdf' };
  return dataOf(await execute(url, CreateRunDocument, { input }, { token: alice.token })).createRun;
}

function client(token: string, url = api.server.wsUrl): Client {
  const created = wsClient(url, token);
  clients.push(created);
  return created;
}

/** What the pipeline does: plain SQL on its own connection. */
async function pipeline(runId: string, status: string, stage: number, extra = '') {
  await api.db.sql.query(`UPDATE "Run" SET status = $2::"RunStatus", "currentStage" = $3, "updatedAt" = now() ${extra} WHERE id = $1`, [
    runId,
    status,
    stage,
  ]);
}

/**
 * Waits until a server's listener holds exactly `count` watchers: a new subscription is registered once the count
 * has gone up, an ended one released once it has come back down.
 */
async function watchersReach(subscriptions: { open: number }, count: number): Promise<void> {
  for (let i = 0; i < 500 && subscriptions.open !== count; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(subscriptions.open).toBe(count);
}

type Progress = { runUpdated: { status: string; currentStage: number } };
const states = (messages: Array<Message<Progress>>) =>
  messages.map((m) => `${m.data?.runUpdated.status}:${m.data?.runUpdated.currentStage}`);

describe('runUpdated', () => {
  it('delivers the initial state, RUNNING at each stage, COMPLETED, then completes', async () => {
    const run = await createRun(api.db.prisma, alice.userId);
    const sub = subscribeWs(client(alice.token), RunProgressDocument, { id: run.id });
    await sub.waitFor((m) => m.data?.runUpdated.status === 'PENDING');
    for (let stage = 1; stage <= 5; stage++) {
      await pipeline(run.id, 'RUNNING', stage);
      await sub.waitFor((m) => m.data?.runUpdated.currentStage === stage);
    }
    await pipeline(run.id, 'COMPLETED', 5, ', "completedAt" = now()');
    expect(await sub.ended).toEqual({});
    expect(states(sub.messages)).toEqual(['PENDING:0', 'RUNNING:1', 'RUNNING:2', 'RUNNING:3', 'RUNNING:4', 'RUNNING:5', 'COMPLETED:5']);
    expect(sub.messages.at(-1)!.data!.runUpdated).toMatchObject({ errorMessage: null });
    expect(typeof sub.messages.at(-1)!.data!.runUpdated.completedAt).toBe('string');
  });

  it('a burst of changes may coalesce, but never goes backwards and always ends on the newest state', async () => {
    const run = await createRun(api.db.prisma, alice.userId);
    const sub = subscribeWs(client(alice.token), RunProgressDocument, { id: run.id });
    await sub.waitFor((m) => m.data?.runUpdated.status === 'PENDING');
    for (let stage = 1; stage <= 5; stage++) await pipeline(run.id, 'RUNNING', stage);
    await pipeline(run.id, 'FAILED', 5, `, "errorMessage" = 'Stage 5: model timeout'`);
    await sub.ended;
    const stages = sub.messages.map((m) => m.data!.runUpdated.currentStage);
    expect([...stages].sort((x, y) => x - y)).toEqual(stages);
    expect(sub.messages.at(-1)!.data!.runUpdated).toMatchObject({ status: 'FAILED', errorMessage: 'Stage 5: model timeout' });
    expect(sub.messages.filter((m) => m.data?.runUpdated.status === 'FAILED')).toHaveLength(1);
  });

  it('a database failure while refetching ends that subscription with an error and releases its watch; the connection stays usable', async () => {
    const before = api.server.subscriptions.open;
    const run = await createRun(api.db.prisma, alice.userId);
    const connection = client(alice.token);
    const sub = subscribeWs(connection, RunProgressDocument, { id: run.id });
    await sub.waitFor((m) => m.data?.runUpdated.status === 'PENDING');
    await watchersReach(api.server.subscriptions, before + 1);
    // The refetch after this notification reads a column that is gone for a moment.
    await api.db.sql.query('ALTER TABLE "Run" RENAME COLUMN "completedAt" TO "completedAtAway"');
    try {
      const event = { runId: run.id, userId: alice.userId, change: 'updated' };
      await api.db.sql.query(`SELECT pg_notify('run_events', $1)`, [JSON.stringify(event)]);
      const { error } = await sub.ended;
      expect((error as Array<{ extensions?: { code?: string } }>)[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    } finally {
      await api.db.sql.query('ALTER TABLE "Run" RENAME COLUMN "completedAtAway" TO "completedAt"');
    }
    expect(states(sub.messages)).toEqual(['PENDING:0']);
    await watchersReach(api.server.subscriptions, before);
    const again = subscribeWs(connection, RunProgressDocument, { id: run.id });
    await again.waitFor((m) => m.data?.runUpdated.status === 'PENDING');
    again.unsubscribe();
  });

  it('a run already finished sends its state once and completes', async () => {
    const run = await createRun(api.db.prisma, alice.userId, { status: 'COMPLETED', currentStage: 5, completedAt: new Date() });
    const sub = subscribeWs(client(alice.token), RunProgressDocument, { id: run.id });
    await sub.ended;
    expect(states(sub.messages)).toEqual(['COMPLETED:5']);
  });

  it('selecting opportunityCards and stageOutputs works: outputs written by SQL appear as they arrive', async () => {
    const run = await createRun(api.db.prisma, alice.userId);
    const sub = subscribeWs(client(alice.token), RunProgressWithOutputsDocument, { id: run.id });
    await sub.waitFor((m) => m.data?.runUpdated.status === 'PENDING');
    await pipeline(run.id, 'RUNNING', 1);
    await api.db.sql.query(
      `INSERT INTO "StageOutput" (id, "runId", "stageNumber", "markdownOutput", "jsonOutput") VALUES (gen_random_uuid(), $1, 1, '# one', '{"ok":true}')`,
      [run.id],
    );
    await sub.waitFor((m) => m.data?.runUpdated.stageOutputs.length === 1);
    await api.db.sql.query(
      `INSERT INTO "OpportunityCard" (id, "runId", "userId", number, title, tagline, problem, solution, why_now, target_segment, quick_win, "updatedAt")
       SELECT gen_random_uuid(), $1, $2, n, 'Card ' || n, 't', 'p', 's', 'w', 'g', 'q', now() FROM generate_series(1, 5) n`,
      [run.id, alice.userId],
    );
    await pipeline(run.id, 'COMPLETED', 5, ', "completedAt" = now()');
    await sub.ended;
    expect(sub.messages.at(-1)!.data!.runUpdated).toMatchObject({
      status: 'COMPLETED',
      opportunityCardCount: 5,
      opportunityCards: [1, 2, 3, 4, 5].map((n) => ({ number: n, title: `Card ${n}` })),
      stageOutputs: [{ stageNumber: 1 }],
      inspirationReport: null,
    });
  });

  it('someone else’s run, or a missing one: NOT_FOUND and never any data', async () => {
    const run = await createRun(api.db.prisma, alice.userId);
    for (const id of [run.id, '00000000-0000-4000-8000-000000000000']) {
      const sub = subscribeWs(client(bob.token), RunProgressDocument, { id });
      await sub.ended;
      expect(sub.messages.every((m) => !m.data)).toBe(true);
      expect(sub.messages.flatMap((m) => m.errors ?? []).map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    }
    await pipeline(run.id, 'RUNNING', 1); // Bob never hears of it
  });

  it('keeps working over SSE (graphql-sse client)', async () => {
    const run = await createRun(api.db.prisma, alice.userId);
    const sub = subscribeSse(api.server.url, alice.token, RunProgressDocument, { id: run.id });
    await sub.waitFor((m) => m.data?.runUpdated.status === 'PENDING');
    await pipeline(run.id, 'RUNNING', 3);
    await sub.waitFor((m) => m.data?.runUpdated.currentStage === 3);
    await pipeline(run.id, 'COMPLETED', 5, ', "completedAt" = now()');
    await sub.ended;
    expect(states(sub.messages)).toEqual(['PENDING:0', 'RUNNING:3', 'COMPLETED:5']);
    sub.unsubscribe();
  });
});

it('stopping a server ends its open SSE streams instead of waiting for them forever', async () => {
  const extra = await startTestServer(api.db.url, { CLERK_JWT_KEY: api.signer.publicKeyPem });
  const run = await createRun(api.db.prisma, alice.userId);
  const sub = subscribeSse(extra.url, alice.token, RunProgressDocument, { id: run.id });
  await sub.waitFor((m) => m.data?.runUpdated.status === 'PENDING');
  const started = Date.now();
  await extra.close();
  expect(Date.now() - started).toBeLessThan(10_000);
  sub.unsubscribe();
});

describe('runsUpdated', () => {
  type Dash = { runsUpdated: { id: string; status: string; companyName: string } };

  it('sees runs created by SQL and by createRun, changes to them, and deletions', async () => {
    const before = api.server.subscriptions.open;
    const sub = subscribeWs(client(alice.token), DashboardDocument, {});
    await watchersReach(api.server.subscriptions, before + 1); // the subscription is listening
    const { rows } = await api.db.sql.query<{ id: string }>(
      `INSERT INTO "Run" (id, "userId", "companyId", "companyName", "documentName", "documentUrl", "updatedAt")
       VALUES (gen_random_uuid(), $1, 'acme', 'Acme by SQL', 'a.pdf', 'https://x.test/a.pdf', now()) RETURNING id`,
      [alice.userId],
    );
    const sqlRun = rows[0]!.id;
    await sub.waitFor((m) => (m.data as Dash | undefined)?.runsUpdated.companyName === 'Acme by SQL');
    const created = await createRunThroughApi(api.server.url, 'Acme by API');
    await sub.waitFor((m) => (m.data as Dash | undefined)?.runsUpdated.id === created.id);
    await pipeline(sqlRun, 'RUNNING', 2);
    await sub.waitFor((m) => (m.data as Dash | undefined)?.runsUpdated.status === 'RUNNING');
    await api.db.sql.query('DELETE FROM "Run" WHERE id = $1', [sqlRun]);
    const gone = await sub.waitFor((m) => m.errors?.[0]?.extensions?.deleted === true);
    expect(gone.data).toBeNull();
    expect(gone.errors![0]!.extensions).toEqual({ code: 'NOT_FOUND', deleted: true, runId: sqlRun });
    sub.unsubscribe();
    await watchersReach(api.server.subscriptions, before);
  });

  it('with a status filter, reports only runs now in one of those statuses, and never another user’s runs', async () => {
    const before = api.server.subscriptions.open;
    const sub = subscribeWs(client(alice.token), DashboardDocument, { status: ['FAILED'] });
    await watchersReach(api.server.subscriptions, before + 1);
    const mine = await createRun(api.db.prisma, alice.userId, { companyName: 'Mine' });
    const theirs = await createRun(api.db.prisma, bob.userId, { companyName: 'Theirs' });
    await pipeline(theirs.id, 'FAILED', 1, `, "errorMessage" = 'x'`);
    await pipeline(mine.id, 'RUNNING', 1);
    await pipeline(mine.id, 'FAILED', 1, `, "errorMessage" = 'x'`);
    await sub.waitFor((m) => (m.data as Dash | undefined)?.runsUpdated.id === mine.id);
    // Bob's run failed first: had it leaked, it would have arrived before Alice's.
    const seen = sub.messages.map((m) => (m.data as Dash).runsUpdated);
    expect(seen.every((r) => r.status === 'FAILED' && r.companyName === 'Mine')).toBe(true);
    sub.unsubscribe();
    await watchersReach(api.server.subscriptions, before);
  });
});

describe('only changes to what a subscriber selected are sent', () => {
  it('a stage output or an updatedAt-only write sends nothing to runUpdated or runsUpdated subscribers that do not read it', async () => {
    type Dash = { runsUpdated: { id: string; status: string; currentStage: number } };
    const before = api.server.subscriptions.open;
    const run = await createRun(api.db.prisma, alice.userId);
    const progress = subscribeWs(client(alice.token), RunProgressDocument, { id: run.id });
    const dashboard = subscribeWs(client(alice.token), DashboardDocument, {});
    // Selects the outputs: it shows when the server has processed the write the other two do not read.
    const witness = subscribeWs(client(alice.token), RunProgressWithOutputsDocument, { id: run.id });
    await watchersReach(api.server.subscriptions, before + 3);
    await pipeline(run.id, 'RUNNING', 1);
    await progress.waitFor((m) => m.data?.runUpdated.currentStage === 1);
    await dashboard.waitFor((m) => (m.data as Dash | undefined)?.runsUpdated.currentStage === 1);
    await api.db.sql.query(
      `INSERT INTO "StageOutput" (id, "runId", "stageNumber", "markdownOutput", "jsonOutput") VALUES (gen_random_uuid(), $1, 1, '# one', '{}')`,
      [run.id],
    );
    await witness.waitFor((m) => m.data?.runUpdated.stageOutputs.length === 1);
    await api.db.sql.query('UPDATE "Run" SET "updatedAt" = now() + interval \'1 second\' WHERE id = $1', [run.id]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await pipeline(run.id, 'RUNNING', 2);
    await progress.waitFor((m) => m.data?.runUpdated.currentStage === 2);
    await dashboard.waitFor((m) => (m.data as Dash | undefined)?.runsUpdated.currentStage === 2);
    expect(states(progress.messages)).toEqual(['PENDING:0', 'RUNNING:1', 'RUNNING:2']);
    const dashboardStates = dashboard.messages
      .map((m) => m.data as Dash)
      .map((d) => `${d.runsUpdated.status}:${d.runsUpdated.currentStage}`);
    expect(dashboardStates).toEqual(['RUNNING:1', 'RUNNING:2']);
    // The terminal message is always sent, and ends the stream.
    await pipeline(run.id, 'COMPLETED', 2, ', "completedAt" = now()');
    expect(await progress.ended).toEqual({});
    expect(states(progress.messages).at(-1)).toBe('COMPLETED:2');
  });
});

describe('no state is sent twice', () => {
  const subscribers = {
    'graphql-ws': (id: string) => subscribeWs(client(alice.token), RunProgressDocument, { id }),
    SSE: (id: string) => subscribeSse(api.server.url, alice.token, RunProgressDocument, { id }),
  };

  /** A stage output of each run, each in a transaction of its own: nothing the progress subscribers select. */
  const writeOutputs = (runIds: string[], stage: number) =>
    Promise.all(
      runIds.map((runId) =>
        api.db.sql.query(
          `INSERT INTO "StageOutput" (id, "runId", "stageNumber", "markdownOutput") VALUES (gen_random_uuid(), $1, $2, '# out')`,
          [runId, stage],
        ),
      ),
    );

  it.each(Object.keys(subscribers) as Array<keyof typeof subscribers>)(
    'over %s: two runs moving in one transaction, or close together, then writes nobody selected: each state arrives once',
    async (transport) => {
      const runs = [await createRun(api.db.prisma, alice.userId), await createRun(api.db.prisma, alice.userId)];
      const ids = runs.map((run) => run.id);
      const subs = ids.map((id) => subscribers[transport](id));
      // They select the outputs: they show when the server has refetched after an output was written.
      const witnesses = ids.map((id) => subscribeWs(client(alice.token), RunProgressWithOutputsDocument, { id }));
      await Promise.all(subs.map((sub) => sub.waitFor((m) => m.data?.runUpdated.status === 'PENDING')));
      await Promise.all(witnesses.map((witness) => witness.waitFor((m) => m.data?.runUpdated.status === 'PENDING')));
      for (let stage = 1; stage <= 4; stage++) {
        if (stage % 2) {
          // One transaction writes both runs' stage: both notifications arrive together, both reads are one batch.
          await api.db.sql.query(`UPDATE "Run" SET status = 'RUNNING', "currentStage" = $2 WHERE id = ANY($1::text[])`, [ids, stage]);
        } else {
          await Promise.all(ids.map((id) => pipeline(id, 'RUNNING', stage)));
        }
        await Promise.all(subs.map((sub) => sub.waitFor((m) => m.data?.runUpdated.currentStage === stage)));
        await writeOutputs(ids, stage);
        await Promise.all(witnesses.map((witness) => witness.waitFor((m) => m.data?.runUpdated.stageOutputs.length === stage)));
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      await api.db.sql.query(
        `UPDATE "Run" SET status = 'COMPLETED', "currentStage" = 5, "completedAt" = now() WHERE id = ANY($1::text[])`,
        [ids],
      );
      for (const sub of subs) {
        expect(await sub.ended).toEqual({});
        expect(states(sub.messages)).toEqual(['PENDING:0', 'RUNNING:1', 'RUNNING:2', 'RUNNING:3', 'RUNNING:4', 'COMPLETED:5']);
      }
      witnesses.forEach((witness) => witness.unsubscribe());
    },
  );
});

describe('what counts as selected', () => {
  type StatusOnly = { runUpdated: { status: string } };
  type StageOnly = { runUpdated: { currentStage: number } };
  const statusThroughFragment = new TypedDocumentString<StatusOnly, { id: string }>(
    'subscription S($id: ID!) { runUpdated(id: $id) { ...StatusOfRun } } fragment StatusOfRun on Run { status }',
  );
  const stageOnly = new TypedDocumentString<StageOnly, { id: string }>('subscription S($id: ID!) { runUpdated(id: $id) { currentStage } }');

  it('a field selected through a fragment is sent when it changes; a subscriber without it gets nothing for it', async () => {
    const run = await createRun(api.db.prisma, alice.userId);
    const status = subscribeWs(client(alice.token), statusThroughFragment, { id: run.id });
    const stage = subscribeWs(client(alice.token), stageOnly, { id: run.id });
    await status.waitFor((m) => m.data?.runUpdated.status === 'PENDING');
    await stage.waitFor((m) => m.data?.runUpdated.currentStage === 0);
    await pipeline(run.id, 'RUNNING', 0); // the status alone
    await status.waitFor((m) => m.data?.runUpdated.status === 'RUNNING');
    await pipeline(run.id, 'RUNNING', 1); // the stage alone
    await stage.waitFor((m) => m.data?.runUpdated.currentStage === 1);
    await pipeline(run.id, 'COMPLETED', 1, ', "completedAt" = now()');
    expect(await status.ended).toEqual({});
    expect(await stage.ended).toEqual({});
    expect(status.messages.map((m) => m.data?.runUpdated.status)).toEqual(['PENDING', 'RUNNING', 'COMPLETED']);
    // The terminal message is always sent, even when nothing it selects changed.
    expect(stage.messages.map((m) => m.data?.runUpdated.currentStage)).toEqual([0, 1, 1]);
  });
});

describe('across instances and connection loss', () => {
  it('a change written through instance 1 or by SQL reaches a subscriber on instance 2', async () => {
    const second = await startTestServer(api.db.url, { CLERK_JWT_KEY: api.signer.publicKeyPem });
    try {
      const dash = subscribeWs(client(alice.token, second.wsUrl), DashboardDocument, {});
      await watchersReach(second.subscriptions, 1);
      const created = await createRunThroughApi(api.server.url, 'Via instance 1');
      await dash.waitFor((m) => (m.data as { runsUpdated: { id: string } } | undefined)?.runsUpdated.id === created.id);
      const progress = subscribeWs(client(alice.token, second.wsUrl), RunProgressDocument, { id: created.id });
      await progress.waitFor((m) => m.data?.runUpdated.status === 'PENDING');
      await pipeline(created.id, 'COMPLETED', 5, ', "completedAt" = now()');
      await progress.ended;
      expect(states(progress.messages)).toEqual(['PENDING:0', 'COMPLETED:5']);
      dash.unsubscribe();
    } finally {
      await second.close();
    }
  });

  it('a change whose notification was lost reaches its subscriber at the next backstop check, counted in /metrics', async () => {
    const second = await startTestServer(api.db.url, { CLERK_JWT_KEY: api.signer.publicKeyPem, SUBSCRIPTION_BACKSTOP_SECONDS: '1' });
    const quiet = await api.db.sql.connect();
    try {
      const runs = [await createRun(api.db.prisma, alice.userId), await createRun(api.db.prisma, alice.userId)];
      const subs = runs.map((run) => subscribeWs(client(alice.token, second.wsUrl), RunProgressDocument, { id: run.id }));
      await Promise.all(subs.map((sub) => sub.waitFor((m) => m.data?.runUpdated.status === 'PENDING')));
      await pipeline(runs[1]!.id, 'RUNNING', 1); // announced
      // Written with triggers off: no notification, as if it had been lost (updatedAt set by hand).
      await quiet.query('SET session_replication_role = replica');
      await quiet.query(`UPDATE "Run" SET status = 'RUNNING', "currentStage" = 3, "updatedAt" = now() AT TIME ZONE 'UTC' WHERE id = $1`, [
        runs[0]!.id,
      ]);
      await subs[0]!.waitFor((m) => m.data?.runUpdated.currentStage === 3);
      await subs[1]!.waitFor((m) => m.data?.runUpdated.currentStage === 1);
      const metrics = await (await fetch(`${second.url}/metrics`)).text();
      expect(Number(/^opportunity_backstop_checks_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
      expect(/^opportunity_backstop_resent_runs_total (\d+)$/m.exec(metrics)?.[1]).toBe('1');
      expect(states(subs[0]!.messages)).toEqual(['PENDING:0', 'RUNNING:3']);
      expect(states(subs[1]!.messages)).toEqual(['PENDING:0', 'RUNNING:1']);
    } finally {
      await quiet.query('RESET session_replication_role');
      quiet.release();
      await second.close();
    }
  });

  it('when the listener connection is killed mid-run, the subscriber still receives the terminal state', async () => {
    const run = await createRun(api.db.prisma, alice.userId);
    const sub = subscribeWs(client(alice.token), RunProgressDocument, { id: run.id });
    await sub.waitFor((m) => m.data?.runUpdated.status === 'PENDING');
    await pipeline(run.id, 'RUNNING', 2);
    await sub.waitFor((m) => m.data?.runUpdated.currentStage === 2);
    const pid = api.server.events.pid!;
    await terminateListener(api.db.sql, pid);
    // Everything else happens while nobody listens; only the resync after reconnecting can tell.
    await pipeline(run.id, 'RUNNING', 4);
    await pipeline(run.id, 'COMPLETED', 5, ', "completedAt" = now()');
    expect(await sub.ended).toEqual({});
    expect(api.server.events.pid).not.toBe(pid);
    expect(states(sub.messages).at(-1)).toBe('COMPLETED:5');
    expect(states(sub.messages)[0]).toBe('PENDING:0');
  });
});

describe('WebSocket and SSE authentication', () => {
  it('an invalid token, or none, closes the connection with 4403', async () => {
    expect(await rawConnect(api.server.wsUrl, { authorization: 'Bearer not-a-token' })).toMatchObject({ code: 4403, acked: false });
    expect(await rawConnect(api.server.wsUrl, {})).toMatchObject({ code: 4403, acked: false });
    expect(
      await rawConnect(api.server.wsUrl, { token: await api.signer.sign({ expiresIn: -60, issuedAtIn: -400, notBeforeIn: -400 }) }),
    ).toMatchObject({
      code: 4403,
    });
  });

  it('the token may come as connectionParams.token or the __session cookie', async () => {
    const token = await api.signer.sign({ sub: 'user_alice', expiresIn: 3600 });
    expect(await rawConnect(api.server.wsUrl, { token }, {}, { closeAfterAck: true })).toMatchObject({ acked: true, code: 1000 });
    expect(
      await rawConnect(api.server.wsUrl, undefined, { cookie: `theme=dark; __session=${token}` }, { closeAfterAck: true }),
    ).toMatchObject({
      acked: true,
      code: 1000,
    });
  });

  it('closes a connection with 4401 once its token has expired for WS_TOKEN_GRACE_SECONDS', async () => {
    const token = await api.signer.sign({ sub: 'user_alice', expiresIn: 1 });
    const started = Date.now();
    const closed = await rawConnect(api.server.wsUrl, { authorization: `Bearer ${token}` });
    expect(closed.acked).toBe(true);
    expect(closed.code).toBe(4401);
    expect(closed.reason).toMatch(/expired/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900); // not before expiry + grace (1 s + 1 s, minus rounding)
  });

  it('after a 4401 close, subscribing again reconnects with a fresh token and starts from the current state', async () => {
    // What Apollo's RetryLink or urql's retryExchange do with a lazy graphql-ws client (README).
    let token = await api.signer.sign({ sub: 'user_alice', expiresIn: 1 });
    const refreshing = wsClient(api.server.wsUrl, token, { connectionParams: () => ({ authorization: `Bearer ${token}` }) });
    clients.push(refreshing);
    const run = await createRun(api.db.prisma, alice.userId);
    const before = subscribeWs(refreshing, RunProgressDocument, { id: run.id });
    await before.waitFor((m) => m.data?.runUpdated.status === 'PENDING');
    const { error } = await before.ended;
    expect((error as { code?: number }).code).toBe(4401);
    await pipeline(run.id, 'RUNNING', 3); // happens while disconnected

    token = await api.signer.sign({ sub: 'user_alice', expiresIn: 3600 });
    const after = subscribeWs(refreshing, RunProgressDocument, { id: run.id });
    await after.waitFor((m) => m.data?.runUpdated.currentStage === 3);
    await pipeline(run.id, 'COMPLETED', 5, ', "completedAt" = now()');
    expect(await after.ended).toEqual({});
    expect(states(after.messages)).toEqual(['RUNNING:3', 'COMPLETED:5']);
  });

  it('a malformed or invalid operation gets an error on that operation; the connection stays usable', async () => {
    const shared = client(alice.token);
    const broken = await new Promise<unknown>((resolve) =>
      shared.subscribe(
        { query: 'subscription { runUpdated(id: ' },
        { next: () => undefined, error: resolve, complete: () => resolve('completed') },
      ),
    );
    expect(JSON.stringify(broken)).toMatch(/Syntax Error/);
    const invalid = await new Promise<unknown>((resolve) =>
      shared.subscribe(
        { query: 'subscription { runUpdated(id: "x") { noSuchField } }' },
        { next: () => undefined, error: resolve, complete: () => resolve('completed') },
      ),
    );
    expect(JSON.stringify(invalid)).toMatch(/noSuchField/);
    const run = await createRun(api.db.prisma, alice.userId, { status: 'COMPLETED', currentStage: 5 });
    const ok = subscribeWs(shared, RunProgressDocument, { id: run.id });
    await ok.ended;
    expect(states(ok.messages)).toEqual(['COMPLETED:5']);
  });

  it('an SSE stream ends with UNAUTHENTICATED once its token has expired for the same grace, like a WebSocket’s 4401', async () => {
    const token = await api.signer.sign({ sub: 'user_alice', expiresIn: 1 });
    const run = await createRun(api.db.prisma, alice.userId);
    const single = subscribeSse(api.server.url, token, RunProgressDocument, { id: run.id });
    const dashboard = subscribeSse(api.server.url, token, DashboardDocument, {});
    await single.waitFor((m) => m.data?.runUpdated.status === 'PENDING');
    await Promise.all([single.ended, dashboard.ended]);
    for (const sub of [single, dashboard]) {
      const last = sub.messages.at(-1)!;
      expect(last.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(last.errors?.[0]?.message).toMatch(/token expired/);
      sub.unsubscribe();
    }
    await pipeline(run.id, 'RUNNING', 2); // after the end: never delivered
    expect(states(single.messages.filter((m) => m.data))).toEqual(['PENDING:0']);
  });

  it('SSE with a bad token is refused with 401', async () => {
    const res = await fetch(`${api.server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: 'Bearer nope' },
      body: JSON.stringify({ query: RunProgressDocument.toString(), variables: { id: 'x' } }),
    });
    expect(res.status).toBe(401);
  });
});
