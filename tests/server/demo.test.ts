/**
 * `npm run demo`: the server and the pipeline simulator together. A run created after it started goes
 * through its stages; Ctrl-C stops the simulator, then the server, with no error logged. With a server
 * already answering on PORT (npm start in another terminal), only the simulator starts.
 */
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/tooling/free-port';
import { logEntries, startScript } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { createRun } from '../helpers/fixtures';
import { startTestServer } from '../helpers/server';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

const DATA_DIR = path.join(os.tmpdir(), 'opportunity-api-test-data');

async function newRun(): Promise<string> {
  const user = await db.prisma.user.create({ data: { clerkId: `user_demo_${Date.now()}`, email: `demo${Date.now()}@x.test` } });
  return (await createRun(db.prisma, user.id)).id;
}

it('starts both; a new run completes; Ctrl-C stops the simulator, then the server, with no error logged', async () => {
  const port = await freePort();
  const demo = startScript('scripts/demo.ts', ['--delay', '20', '--fail-rate', '0'], {
    DATABASE_URL: db.url,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR,
  });
  try {
    await demo.waitFor(/waiting for PENDING runs created from now on \(stage delay 20 ms, fail rate 0\)/, 60_000);
    expect(demo.output()).toContain(`Open http://localhost:${port}/graphql in a browser. GraphiQL is signed in as test_user_123.`);
    const runId = await newRun();
    await demo.waitFor(new RegExp(`run ${runId} COMPLETED`));
    expect(demo.output()).toContain('paste its id into the "CancelRun" tab');
  } finally {
    expect(await demo.stop('SIGINT')).toBe(0);
  }
  const output = demo.output();
  const server = logEntries(
    output
      .split('\n')
      .filter((line) => line.startsWith('[server] '))
      .map((line) => line.slice('[server] '.length))
      .join('\n'),
  );
  expect(server.filter((entry) => Number(entry.level) >= 50)).toEqual([]);
  expect(server.at(-1)).toMatchObject({ msg: 'stopped' });
  // The simulator stopped first, while the server still served.
  expect(output.indexOf('[simulate] processed 1 run(s)')).toBeLessThan(output.indexOf('"msg":"shutting down"'));
  // Query logs would bury the simulator's lines.
  expect(server.filter((entry) => entry.msg === 'query')).toEqual([]);
});

it('with a server already answering on PORT: starts only the simulator', async () => {
  const server = await startTestServer(db.url);
  const port = new URL(server.url).port;
  const demo = startScript('scripts/demo.ts', ['--delay', '20', '--fail-rate', '0'], { DATABASE_URL: db.url, PORT: port, DATA_DIR });
  try {
    await demo.waitFor(/waiting for PENDING runs created from now on/, 60_000);
    expect(demo.output()).toContain(
      `a server already answers on http://localhost:${port} (npm start?): starting only the pipeline simulator`,
    );
    const runId = await newRun();
    await demo.waitFor(new RegExp(`run ${runId} COMPLETED`));
    expect(demo.output()).toContain('paste its id into the "CancelRun" tab');
    expect(demo.output()).not.toContain('[server]');
  } finally {
    expect(await demo.stop('SIGINT')).toBe(0);
    await server.close();
  }
});
