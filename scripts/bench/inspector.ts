/**
 * The server's retained heap, read through its inspector (the server runs with `--inspect=127.0.0.1:0`): a
 * full garbage collection first, so the figure is what live objects hold, not what the last phase left for
 * the collector. The heap-used metric alone counts that garbage too, and how much of it there is depends on
 * when the collector last ran.
 */
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import WebSocket from 'ws';

/** The inspector's WebSocket address, from the line Node prints at start. */
export function inspectorUrl(serverOutput: string): string {
  const url = /Debugger listening on (ws:\/\/\S+)/.exec(serverOutput)?.[1];
  if (!url) throw new Error('the server did not print an inspector address (was it started with --inspect?)');
  return url;
}

/** A session with the inspector at `url`: `call` sends one method and resolves with its result. */
async function openSession(url: string) {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  let nextId = 0;
  const call = (method: string, params: object = {}) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = ++nextId;
      const onMessage = (data: Buffer) => {
        const reply = JSON.parse(data.toString()) as { id?: number; result?: Record<string, unknown>; error?: { message: string } };
        if (reply.id !== id) return;
        socket.off('message', onMessage);
        if (reply.error) reject(new Error(`${method}: ${reply.error.message}`));
        else resolve(reply.result ?? {});
      };
      socket.on('message', onMessage);
      socket.send(JSON.stringify({ id, method, params }));
    });
  return { socket, call, close: () => socket.close() };
}

export async function retainedHeapBytes(url: string): Promise<number> {
  const { call, close } = await openSession(url);
  try {
    // gc() (the server runs with --expose-gc), not the inspector's HeapProfiler.collectGarbage: that starts
    // V8's heap profiler, which stays on and slowed every later collection (p99 15 ms -> 700 ms).
    const expression = 'gc(); gc(); process.memoryUsage().heapUsed'; // a second pass frees what the first one's finalizers released
    const { result } = (await call('Runtime.evaluate', { expression })) as { result: { value: number } };
    return result.value;
  } finally {
    close();
  }
}

/** The server's event loop so far: milliseconds its main thread was busy (active) and waiting (idle). */
export async function eventLoopTimes(url: string): Promise<{ active: number; idle: number }> {
  const { call, close } = await openSession(url);
  try {
    const expression = 'JSON.stringify(performance.eventLoopUtilization())';
    const { result } = (await call('Runtime.evaluate', { expression })) as { result: { value: string } };
    return JSON.parse(result.value) as { active: number; idle: number };
  } finally {
    close();
  }
}

/**
 * Starts sampling every allocation of the server (those collected since included); the returned function
 * stops and writes the profile to `file` (for Chrome DevTools' Memory tab: allocation sampling).
 */
export async function sampleAllocations(url: string): Promise<(file: string) => Promise<void>> {
  const { call, close } = await openSession(url);
  await call('HeapProfiler.enable');
  await call('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  return async (file) => {
    try {
      const { profile } = await call('HeapProfiler.stopSampling');
      await writeFile(file, JSON.stringify(profile));
    } finally {
      close();
    }
  };
}

/** Writes a heap snapshot of the server to `file` (for Chrome DevTools' Memory tab). */
export async function writeHeapSnapshot(url: string, file: string): Promise<void> {
  const { socket, call, close } = await openSession(url);
  const out = createWriteStream(file);
  const onChunk = (data: Buffer) => {
    const message = JSON.parse(data.toString()) as { method?: string; params?: { chunk: string } };
    if (message.method === 'HeapProfiler.addHeapSnapshotChunk') out.write(message.params!.chunk);
  };
  socket.on('message', onChunk);
  try {
    await call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  } finally {
    socket.off('message', onChunk);
    close();
    await new Promise((resolve) => out.end(resolve));
  }
}
