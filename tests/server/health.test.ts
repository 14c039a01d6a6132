/** /health says the process is alive; /ready says the database answers and every migration is applied. */
import { createEmptyDatabase, createTestDatabase, type TestDatabase } from '../helpers/database';
import { startTestServer, type TestServer } from '../helpers/server';
import { startTcpProxy } from '../helpers/tcp-proxy';
import { listShippedMigrations } from '../../src/db/migration-state';

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
  const shipped = await listShippedMigrations();
  try {
    const res = await fetch(`${unmigrated.url}/ready`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      status: 'unavailable',
      ready: false,
      checks: { database: 'ok', migrations: 'pending', events: 'listening' },
      reason: `${shipped.length} migration(s) not applied; run npm run db:migrate`,
      pendingMigrations: shipped,
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

it('GET /ready answers 503 while the run event listener cannot reconnect, and 200 once it is back', async () => {
  // The listener reaches the database through a proxy the test cuts: "reconnecting" lasts exactly as long as
  // the cut, whatever the machine's speed (the pool's queries go direct, so the database itself stays "ok").
  const proxy = await startTcpProxy(db.url);
  const instance = await startTestServer(db.url, { DIRECT_URL: proxy.url }, { minBackoffMs: 20, maxBackoffMs: 100 });
  const ready = async () => {
    const res = await fetch(`${instance.url}/ready`);
    return { status: res.status, body: (await res.json()) as { checks: { events: string }; reason?: string } };
  };
  const until = async (status: number) => {
    for (let answer = await ready(); ; answer = await ready()) {
      if (answer.status === status) return answer;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  try {
    expect((await ready()).status).toBe(200);
    const pid = instance.events.pid;
    proxy.cut();
    const unavailable = await until(503);
    expect(unavailable.body).toMatchObject({
      status: 'unavailable',
      ready: false,
      checks: { database: 'ok', migrations: 'ok', events: 'reconnecting' },
      reason: 'run event listener is reconnecting: subscriptions would miss changes',
    });
    // Retries keep failing while the path is cut: the instance stays out of rotation.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await ready()).status).toBe(503);

    proxy.restore();
    expect((await until(200)).body.checks.events).toBe('listening');
    expect(instance.events.pid).not.toBe(pid);
  } finally {
    await instance.close();
    await proxy.close();
  }
});

it('unknown paths get a JSON 404', async () => {
  const res = await fetch(`${server.url}/nope`);
  expect(res.status).toBe(404);
  expect(await res.json()).toEqual({ error: 'no route for GET /nope' });
});
