/**
 * `npm run dev` (scripts/dev.ts): its command line checked first (`--help` and mistakes exit at once), then tsx
 * watch serves src/ and restarts on a change; a restart (tsx watch's SIGTERM) leaves the
 * embedded PostgreSQL running for the next start, which reuses it, and Ctrl-C stops both. Driven through tsx's
 * own `watch` with an extra watched file (`--include`), so the test changes a file of its own, never a source.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { PROJECT_ROOT, runScript } from '../helpers/cli';

const answers = async (url: string) => {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
};

it('restarts on a change with the embedded PostgreSQL kept, and Ctrl-C stops it all', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'opportunity-api-dev-'));
  const trigger = path.join(dataDir, 'trigger.txt');
  await writeFile(trigger, '1');
  const tsx = path.join(PROJECT_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  // What `npm run dev` runs, plus one more watched file.
  const child = spawn(
    process.execPath,
    [tsx, 'watch', '--clear-screen=false', '--include', trigger, 'src/main.ts', '--keep-database-on-restart'],
    {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'development',
        LOG_LEVEL: 'info',
        HOST: '127.0.0.1',
        PORT: '0',
        DATABASE_URL: '',
        DIRECT_URL: '',
        DATA_DIR: dataDir,
      },
      detached: true,
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const listening = () => [...output.matchAll(/"url":"http:\/\/localhost:(\d+)"/g)].map((match) => `http://127.0.0.1:${match[1]}`);
  const until = async (condition: () => boolean, what: string) => {
    for (let i = 0; i < 600 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    if (!condition()) throw new Error(`${what} did not happen:\n${output}`);
  };
  try {
    await until(() => listening().length === 1, 'the first start');
    const state = JSON.parse(await readFile(path.join(dataDir, 'postgres.json'), 'utf8')) as { port: number; password: string };
    const database = `postgresql://postgres:${encodeURIComponent(state.password)}@127.0.0.1:${state.port}/opportunity`;

    await writeFile(trigger, '2');
    await until(() => listening().length === 2, 'the restart');
    expect(output).toContain('left the embedded PostgreSQL running for the next start');
    // Development logs are pino-pretty lines: `INFO: <message> {fields}`.
    const starts = [...output.matchAll(/using embedded PostgreSQL \(no DATABASE_URL set\) .*"created":(true|false)/g)];
    expect(starts.map((match) => match[1])).toEqual(['true', 'false']);
    expect((await fetch(`${listening()[1]}/health`)).status).toBe(200);
    expect(await answers(database)).toBe(true);

    process.kill(-child.pid!, 'SIGINT'); // Ctrl-C
    expect(await exited).toBe(0);
    expect(await answers(database)).toBe(false);
  } finally {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }
}, 120_000);

it('--help and a mistake exit at once, before anything is watched', async () => {
  const help = await runScript('scripts/dev.ts', ['--help'], {}, 30_000);
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/^usage: npm start \| npm run dev\n\nServes the API on PORT/);
  const mistake = await runScript('scripts/dev.ts', ['--bogus'], {}, 30_000);
  expect(mistake.code).toBe(2);
  expect(mistake.stderr).toBe("Unknown option '--bogus'; usage: npm start | npm run dev\n");
});
