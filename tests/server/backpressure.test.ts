/**
 * A client that stops reading: the server keeps at most one undelivered state per subscription (nothing
 * queues up however much changes), and cuts the connection once its outgoing data has not drained for
 * WS_STUCK_SECONDS, releasing its subscriptions. A client that keeps reading is never cut.
 */
import WebSocket from 'ws';
import { startApi, type ApiFixture } from '../helpers/api';
import { createRun } from '../helpers/fixtures';

let api: ApiFixture;
beforeAll(async () => {
  api = await startApi({ WS_STUCK_SECONDS: '1' });
});
afterAll(async () => {
  await api.close();
});

const BIG_OUTPUT = 'x'.repeat(400_000);
const QUERY = 'subscription ($id: ID!) { runUpdated(id: $id) { currentStage stageOutputs { markdownOutput } } }';

/** A graphql-ws client on a raw socket, subscribed to a run whose every message is about 2 MB. */
async function subscribeToBigRun(): Promise<{ socket: WebSocket; runId: string; received: () => number }> {
  const { token, userId } = await api.signIn();
  const run = await createRun(api.db.prisma, userId, { status: 'RUNNING', currentStage: 1 });
  await api.db.prisma.stageOutput.createMany({
    data: [1, 2, 3, 4, 5].map((stageNumber) => ({ runId: run.id, stageNumber, markdownOutput: BIG_OUTPUT, jsonOutput: {} })),
  });
  const socket = new WebSocket(api.server.wsUrl, 'graphql-transport-ws');
  let received = 0;
  await new Promise<void>((resolve, reject) => {
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    socket.on('message', (data) => {
      const message = JSON.parse(Buffer.from(data as Buffer).toString('utf8')) as { type: string };
      if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: QUERY, variables: { id: run.id } } }));
      } else if (message.type === 'next' && ++received === 1) resolve();
    });
    socket.on('error', reject);
  });
  return { socket, runId: run.id, received: () => received };
}

const until = async (condition: () => boolean, ms: number) => {
  for (const started = Date.now(); !condition() && Date.now() - started < ms;) await new Promise((resolve) => setTimeout(resolve, 50));
  return condition();
};

it('cuts a connection whose client stopped reading and releases its subscriptions; a reading client stays', async () => {
  const reader = await subscribeToBigRun();
  const stuck = await subscribeToBigRun();
  // The stuck client stops reading from its TCP socket; the server's writes back up.
  (stuck.socket as unknown as { _socket: { pause(): void } })._socket.pause();
  expect(api.server.subscriptions.open).toBe(2);
  for (let stage = 2; stage <= 5; stage++) {
    for (const { runId } of [reader, stuck]) await api.db.prisma.run.update({ where: { id: runId }, data: { currentStage: stage } });
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const memoryWhileStuck = process.memoryUsage().heapUsed;

  expect(await until(() => api.server.subscriptions.open === 1, 5000)).toBe(true);
  expect(api.server.app.server.listening).toBe(true);
  expect(reader.socket.readyState).toBe(WebSocket.OPEN);
  expect(reader.received()).toBeGreaterThanOrEqual(2);
  // Two megabyte messages were written for each change; a queue of them would show here.
  expect(process.memoryUsage().heapUsed - memoryWhileStuck).toBeLessThan(50 * 1024 * 1024);
  reader.socket.close();
  stuck.socket.terminate();
});
