/**
 * The run_events triggers, the listener and the watchers (src/live/watchers.ts): what is announced (and what is
 * not), payload size, routing by run and by user, the resync signal after the listening connection is lost,
 * and the backstop.
 */
import pg from 'pg';
import { NotificationListener, RUN_EVENTS_CHANNEL } from '../../src/db/events';
import { Watchers, type Signal } from '../../src/live/watchers';
import { createTestDatabase, terminateListener, type TestDatabase } from '../helpers/database';
import { createRun, createUser } from '../helpers/fixtures';
import { captureLogs } from '../helpers/logs';

const logs = captureLogs();
let db: TestDatabase;
let listener: pg.Client;
let received: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  db = await createTestDatabase();
  listener = new pg.Client({ connectionString: db.url });
  await listener.connect();
  listener.on('notification', (message) => {
    expect(Buffer.byteLength(message.payload ?? '')).toBeLessThan(1024); // NOTIFY's limit is 8000 bytes
    received.push(JSON.parse(message.payload!) as Record<string, unknown>);
  });
  await listener.query(`LISTEN ${RUN_EVENTS_CHANNEL}`);
});
afterAll(async () => {
  await listener.end();
  await db.drop();
});

/** Waits until the notifications of the statements just run have arrived, and returns them. */
async function drain(): Promise<Array<Record<string, unknown>>> {
  await db.sql.query(`SELECT pg_notify('${RUN_EVENTS_CHANNEL}', '{"runId":"marker","change":"marker"}')`);
  for (let i = 0; i < 500 && !received.some((e) => e.runId === 'marker'); i++) await new Promise((r) => setTimeout(r, 10));
  const events = received.filter((e) => e.runId !== 'marker');
  received = [];
  return events;
}

it('announces run inserts, tracked updates and deletes with ids and what changed, never the data', async () => {
  const user = await createUser(db.prisma);
  await drain();
  const run = await createRun(db.prisma, user.id);
  await db.sql.query(`UPDATE "Run" SET status = 'RUNNING', "currentStage" = 2 WHERE id = $1`, [run.id]);
  await db.sql.query(`UPDATE "Run" SET "documentName" = 'renamed.pdf' WHERE id = $1`, [run.id]); // not tracked
  await db.sql.query(`UPDATE "Run" SET "errorMessage" = 'boom', status = 'FAILED' WHERE id = $1`, [run.id]);
  await db.sql.query(`DELETE FROM "Run" WHERE id = $1`, [run.id]);
  const events = await drain();
  expect(events.map((e) => [e.change, e.status, e.stage])).toEqual([
    ['created', 'PENDING', 0],
    ['updated', 'RUNNING', 2],
    ['updated', 'FAILED', 2],
    ['deleted', 'FAILED', 2],
  ]);
  for (const event of events) {
    expect(event).toMatchObject({ runId: run.id, userId: user.id });
    expect(Object.keys(event).sort()).toEqual(['change', 'runId', 'stage', 'status', 'updatedAt', 'userId']);
  }
});

it('announces outputs; five cards written in one transaction arrive as one event', async () => {
  const user = await createUser(db.prisma);
  const run = await createRun(db.prisma, user.id);
  await drain();
  await db.sql.query(`INSERT INTO "StageOutput" (id, "runId", "stageNumber", "markdownOutput") VALUES (gen_random_uuid(), $1, 1, $2)`, [
    run.id,
    'x'.repeat(100_000), // a large output: the payload stays tiny
  ]);
  await db.sql.query(
    `INSERT INTO "InspirationReport" (id, "runId", "inspiration1Title", "inspiration1Content", "inspiration1Elements",
       "inspiration2Title", "inspiration2Content", "inspiration2Elements", "updatedAt")
     VALUES (gen_random_uuid(), $1, 'a', 'b', ARRAY['c'], 'd', 'e', ARRAY['f'], now())`,
    [run.id],
  );
  await db.sql.query(
    `INSERT INTO "OpportunityCard" (id, "runId", "userId", number, title, tagline, problem, solution, why_now, target_segment, quick_win, "updatedAt")
     SELECT gen_random_uuid(), $1, $2, n, 't', 't', 'p', 's', 'w', 'g', 'q', now() FROM generate_series(1, 5) n`,
    [run.id, user.id],
  );
  const events = await drain();
  expect(events.map((e) => e.change)).toEqual(['StageOutput', 'InspirationReport', 'OpportunityCard']);
  expect(events.every((e) => e.runId === run.id && e.userId === user.id)).toBe(true);
});

describe('NotificationListener and Watchers', () => {
  it('routes each event only to watchers of that user, and resyncs them after a lost connection', async () => {
    const [alice, bob] = [await createUser(db.prisma), await createUser(db.prisma)];
    const events = new NotificationListener(db.url, { minBackoffMs: 20, maxBackoffMs: 100 });
    await events.start();
    const watchers = new Watchers(events);
    try {
      expect(events.state).toBe('listening');
      const seen: Record<string, Signal[]> = { alice: [], bob: [] };
      const stopAlice = watchers.watchUser(alice.id, (s) => seen.alice!.push(s));
      watchers.watchUser(bob.id, (s) => seen.bob!.push(s));
      const run = await createRun(db.prisma, alice.id);
      for (let i = 0; i < 500 && seen.alice!.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(seen.alice).toHaveLength(1);
      expect(seen.alice).toMatchObject([{ kind: 'event', event: { runId: run.id, change: 'created' } }]);
      expect(seen.bob).toEqual([]);

      const pid = events.pid;
      const listeningBefore = events.listeningSince!;
      await terminateListener(db.sql, pid);
      for (let i = 0; i < 500 && !seen.bob!.some((s) => s.kind === 'resync'); i++) await new Promise((r) => setTimeout(r, 10));
      expect(seen.bob).toEqual([{ kind: 'resync', since: events.listeningSince }]);
      expect(events.listeningSince!.getTime()).toBeGreaterThan(listeningBefore.getTime());
      expect(seen.alice!.at(-1)).toMatchObject({ kind: 'resync' });
      expect(events.pid).not.toBe(pid);
      expect(events.state).toBe('listening');

      stopAlice();
      await createRun(db.prisma, alice.id);
      await createRun(db.prisma, bob.id);
      for (let i = 0; i < 500 && seen.bob!.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      expect(seen.alice!.at(-1)).toMatchObject({ kind: 'resync' }); // unwatched: nothing more
    } finally {
      watchers.stop();
      await events.stop();
    }
    expect(events.state).toBe('stopped');
  });

  it("a run's watchers get only that run's events; the user's watchers get all", async () => {
    const alice = await createUser(db.prisma);
    const [runA, runB] = [await createRun(db.prisma, alice.id), await createRun(db.prisma, alice.id)];
    const events = new NotificationListener(db.url);
    await events.start();
    const watchers = new Watchers(events);
    try {
      const seen: Record<string, string[]> = { a: [], b: [], all: [] };
      const record = (name: string) => (signal: Signal) => seen[name]!.push(signal.kind === 'event' ? signal.event.runId : 'resync');
      const stopA = watchers.watchRun(runA.id, record('a'));
      watchers.watchRun(runB.id, record('b'));
      watchers.watchUser(alice.id, record('all'));
      await db.sql.query(`UPDATE "Run" SET "currentStage" = 1 WHERE id = $1`, [runA.id]);
      await db.sql.query(`UPDATE "Run" SET "currentStage" = 1 WHERE id = $1`, [runB.id]);
      for (let i = 0; i < 500 && seen.all!.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      expect(seen).toEqual({ a: [runA.id], b: [runB.id], all: [runA.id, runB.id] });
      stopA();
      stopA(); // twice: harmless
      await db.sql.query(`UPDATE "Run" SET "currentStage" = 2 WHERE id = $1`, [runA.id]);
      for (let i = 0; i < 500 && seen.all!.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
      expect(seen).toEqual({ a: [runA.id], b: [runB.id], all: [runA.id, runB.id, runA.id] });
    } finally {
      watchers.stop();
      await events.stop();
    }
  });

  /** Waits until the watchers have completed `checks` more backstop checks. */
  async function backstopChecks(watchers: Watchers, checks: number): Promise<void> {
    const target = watchers.backstopStats.checks + checks;
    for (let i = 0; i < 1000 && watchers.backstopStats.checks < target; i++) await new Promise((r) => setTimeout(r, 10));
    expect(watchers.backstopStats.checks).toBeGreaterThanOrEqual(target);
  }

  it('the backstop re-sends nothing whose notification arrived, however many updates come between two checks', async () => {
    const alice = await createUser(db.prisma);
    const before = await Promise.all(Array.from({ length: 20 }, () => createRun(db.prisma, alice.id)));
    const events = new NotificationListener(db.url);
    await events.start();
    const watchers = new Watchers(events, { backstopMs: 400 });
    const writer = new pg.Pool({ connectionString: db.url, max: 8 });
    const previousTimeZone = process.env.TZ;
    // The window the backstop reads is the database's time, whatever this process's time zone.
    process.env.TZ = 'America/New_York';
    try {
      // Runs created before anyone watched them (a run is created, then its page subscribes).
      const created = await Promise.all(Array.from({ length: 100 }, () => createRun(db.prisma, alice.id)));
      const signals: Signal[] = [];
      const routed = (signal: Signal) => signals.push(signal);
      for (const run of [...before, ...created]) watchers.watchRun(run.id, routed);
      watchers.watchUser(alice.id, routed);
      await backstopChecks(watchers, 1);
      let writes = 0;
      for (let round = 1; round <= 5; round++) {
        await Promise.all(
          created.map(async (run, i) => {
            writes++;
            if (i % 2) {
              await writer.query(`UPDATE "Run" SET status = 'RUNNING', "currentStage" = $2 WHERE id = $1`, [run.id, round]);
              return;
            }
            // A run's stage, then its output, in one transaction; updatedAt is the trigger's (the statement's
            // time), later than the output's createdAt (the transaction's), whose event arrives last.
            const client = await writer.connect();
            try {
              await client.query('BEGIN');
              await client.query('SELECT pg_sleep(0.005)');
              await client.query(`UPDATE "Run" SET status = 'RUNNING', "currentStage" = $2 WHERE id = $1`, [run.id, round]);
              await client.query(
                `INSERT INTO "StageOutput" (id, "runId", "stageNumber", "markdownOutput") VALUES (gen_random_uuid(), $1, $2, '# out')`,
                [run.id, round],
              );
              await client.query('COMMIT');
            } finally {
              client.release();
            }
          }),
        );
      }
      await backstopChecks(watchers, 2);
      expect(watchers.backstopStats.resent).toBe(0);
      expect(logs.filter((line) => String(line.msg).includes('without a notification'))).toEqual([]);
      // What was routed is what was announced: each write once to the run's watcher and once to the user's.
      expect(signals.filter((signal) => signal.kind === 'event' && signal.event.change === 'updated')).toHaveLength(2 * writes);
    } finally {
      process.env.TZ = previousTimeZone;
      await writer.end();
      watchers.stop();
      await events.stop();
    }
  });

  it('a change whose notification never came is found by the backstop and routed once; every other run is left alone', async () => {
    const alice = await createUser(db.prisma);
    const runs = await Promise.all(Array.from({ length: 50 }, () => createRun(db.prisma, alice.id)));
    const [lost] = runs as [(typeof runs)[number]];
    const events = new NotificationListener(db.url);
    await events.start();
    const watchers = new Watchers(events, { backstopMs: 300 });
    const quiet = new pg.Client({ connectionString: db.url });
    await quiet.connect();
    try {
      const seen = new Map<string, Signal[]>(runs.map((run) => [run.id, []]));
      for (const run of runs) watchers.watchRun(run.id, (signal) => seen.get(run.id)!.push(signal));
      for (const run of runs) await db.sql.query(`UPDATE "Run" SET "currentStage" = 1 WHERE id = $1`, [run.id]); // announced
      for (let i = 0; i < 100 && seen.get(lost.id)!.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
      // Written with triggers off: no notification, as if it had been lost (and updatedAt set by hand).
      await quiet.query(`SET session_replication_role = replica`);
      await quiet.query(`UPDATE "Run" SET "currentStage" = 2, "updatedAt" = now() AT TIME ZONE 'UTC' WHERE id = $1`, [lost.id]);
      await backstopChecks(watchers, 3);
      expect(seen.get(lost.id)).toMatchObject([
        { kind: 'event', event: { runId: lost.id, stage: 1 } },
        { kind: 'event', event: { runId: lost.id, stage: 2, change: 'updated' } },
      ]);
      for (const run of runs.slice(1)) expect(seen.get(run.id)).toMatchObject([{ kind: 'event', event: { runId: run.id, stage: 1 } }]);
      expect(watchers.backstopStats.resent).toBe(1);
      expect(logs.filter((line) => String(line.msg).includes('without a notification')).map((line) => line.runId)).toEqual([lost.id]);
    } finally {
      await quiet.end();
      watchers.stop();
      await events.stop();
    }
  });
});
