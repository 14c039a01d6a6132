/** /health says the process is alive; /ready says the database answers and every migration is applied. */
import { createEmptyDatabase, createTestDatabase, terminateListener, type TestDatabase } from '../helpers/database';
import { startTestServer, type TestServer } from '../helpers/server';

let db: TestDatabase;
let server: TestServer;
beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
});
afterAll(async () => {
  await server.close();
  await db.drop();
});

it('GET /health answers 200 without touching the database', async () => {
  const res = await fetch(`${server.url}/health`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ status: 'ok' });
});

it('GET /ready answers 200 on a migrated database', async () => {
  const res = await fetch(`${server.url}/ready`);
  expect(res.status).toBe(200);
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(await res.json()).toEqual({ status: 'ready', ready: true, checks: { database: 'ok', migrations: 'ok', events: 'listening' } });
});

it('GET /ready answers 503 naming the pending migration when the database is not migrated', async () => {
  const empty = await createEmptyDatabase();
  const unmigrated = await startTestServer(empty.url);
  try {
    const res = await fetch(`${unmigrated.url}/ready`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      status: 'unavailable',
      ready: false,
      checks: { database: 'ok', migrations: 'pending', events: 'listening' },
      reason: '6 migration(s) not applied; run npm run db:migrate',
      pendingMigrations: [
        '20250121000000_init',
        '20261125080554_run_events',
        '20261125173556_rate_limits',
        '20261125190943_run_list_indexes',
        '20261129151324_clerk_webhooks',
        '20261202132641_run_retries',
      ],
    });
  } finally {
    await unmigrated.close();
    await empty.drop();
  }
});

it('GET /ready answers 503 when the database is unreachable, while /health stays 200', async () => {
  const down = await startTestServer('postgresql://nobody:secret@127.0.0.1:1/nowhere?connect_timeout=2');
  try {
    const res = await fetch(`${down.url}/ready`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { reason: string };
    expect(body).toMatchObject({
      status: 'unavailable',
      ready: false,
      checks: { database: 'unreachable', migrations: 'unknown', events: 'reconnecting' },
    });
    expect(body.reason).toMatch(/^database unreachable/);
    expect(JSON.stringify(body)).not.toContain('secret');
    expect((await fetch(`${down.url}/health`)).status).toBe(200);
  } finally {
    await down.close();
  }
});

it('GET /ready answers 503 while the run event listener is reconnecting, and 200 once it is back', async () => {
  // A slow first retry keeps the reconnecting window wide enough to observe.
  const slow = await startTestServer(db.url, {}, { minBackoffMs: 800, maxBackoffMs: 800 });
  try {
    const pid = slow.events.pid!;
    await terminateListener(db.sql, pid);
    const statuses: number[] = [];
    let body: { checks: { events: string }; reason?: string } | undefined;
    // Poll until the endpoint has gone unavailable and come back (or give up after ~10 s).
    for (let i = 0; i < 500 && !(statuses.includes(503) && statuses.at(-1) === 200); i++) {
      const res = await fetch(`${slow.url}/ready`);
      const current = (await res.json()) as typeof body;
      if (res.status === 503) body = current;
      if (statuses.at(-1) !== res.status) statuses.push(res.status);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(statuses).toEqual(statuses[0] === 200 ? [200, 503, 200] : [503, 200]);
    expect(body).toMatchObject({
      checks: { events: 'reconnecting' },
      reason: 'run event listener is reconnecting: subscriptions would miss changes',
    });
    expect(slow.events.pid).not.toBe(pid);
  } finally {
    await slow.close();
  }
});

it('unknown paths get a JSON 404', async () => {
  const res = await fetch(`${server.url}/nope`);
  expect(res.status).toBe(404);
  expect(await res.json()).toEqual({ error: 'no route for GET /nope' });
});
