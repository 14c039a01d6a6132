/**
 * `npm run demo [-- --delay 3000 --fail-rate 0.1]`: the API server (embedded PostgreSQL unless DATABASE_URL
 * is set) and the pipeline simulator together, to watch a run move through its five stages in GraphiQL. The
 * simulator takes only runs created after it started (never a seeded backlog), `--delay` ms per stage;
 * `--fail-rate` is the share of runs that fail at a random stage. When a server already answers on PORT
 * (`npm start` in another terminal), only the simulator is started.
 *
 * Both run in process groups of their own, so Ctrl-C reaches only this script, which stops them in order:
 * the simulator first (it lets go of a run in hand while the database is still up, for the next worker to
 * resume), then the server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { commandLine } from '../src/args';
import { ConfigError, loadConfig, loadDotEnv, PROJECT_ROOT } from '../src/config';

const { values } = commandLine({
  usage: 'npm run demo [-- --delay 3000 --fail-rate 0.1]',
  help: `The API server (embedded PostgreSQL unless DATABASE_URL is set) and the pipeline simulator together, to watch
a run move through its five stages in GraphiQL (http://localhost:PORT/graphql).
  --delay MS      time each stage takes (default 3000)
  --fail-rate R   share of runs that fail at a random stage, 0 to 1 (default 0.1)`,
  options: {
    delay: { type: 'string', default: '3000' },
    'fail-rate': { type: 'string', default: '0.1' },
  },
});

interface Child {
  name: string;
  process: ChildProcess;
  exited: Promise<number | null>;
}

const children: Child[] = [];
let stopping = false;

/** Starts a script in its own process group, its output prefixed with its name (query logs left out). */
function start(name: string, script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const prefix = (chunk: Buffer) =>
    chunk
      .toString()
      .split('\n')
      .filter((line) => line.trim())
      .map((line) => (line.startsWith(`[${name}]`) ? `${line}\n` : `[${name}] ${line}\n`))
      .join('');
  child.stdout.on('data', (chunk: Buffer) => process.stdout.write(prefix(chunk)));
  child.stderr.on('data', (chunk: Buffer) => process.stderr.write(prefix(chunk)));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  void exited.then((code) => {
    if (stopping) return;
    console.error(`[demo] ${name} exited (${code}); stopping`);
    void stop(code || 1);
  });
  const started = { name, process: child, exited };
  children.push(started);
  return started;
}

/** The simulator first, then the server; each gets SIGTERM and up to 15 s before SIGKILL. */
async function stop(code = 0): Promise<never> {
  stopping = true;
  for (const child of [...children].reverse()) {
    if (child.process.exitCode !== null) continue;
    child.process.kill('SIGTERM');
    const finished = await Promise.race([child.exited.then(() => true), delay(15_000).then(() => false)]);
    if (!finished) child.process.kill('SIGKILL');
  }
  process.exit(code);
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) })).ok;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  const url = `http://localhost:${config.port}`;
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());

  if (await answers(url)) {
    console.log(`[demo] a server already answers on ${url} (npm start?): starting only the pipeline simulator`);
  } else {
    // The SQL of every request would bury the simulator's lines.
    const server = start('server', 'src/main.ts', [], { LOG_QUERIES: '0' });
    while (!(await answers(url))) {
      if (server.process.exitCode !== null) return;
      await delay(200);
    }
  }
  const simulator = start('simulate', 'scripts/simulate.ts', ['--only-new', '--delay', values.delay, '--fail-rate', values['fail-rate']]);
  const seconds = Number(values.delay) / 1000;
  const signIn = config.auth.devTokens
    ? 'GraphiQL is signed in as test_user_123.'
    : 'Sign in: paste { "Authorization": "Bearer <your Clerk session token>" } into its Headers.';
  console.log(`
[demo] Open ${url}/graphql in a browser. ${signIn}
[demo]   1. In the "WatchMyRuns" tab press ▶ (Ctrl-Enter): it waits for your runs to change.
[demo]   2. Open the same address in a second browser window (switching tabs would stop the subscription),
[demo]      and press ▶ in its "StartRun" tab. The first window shows the run go RUNNING at stages 1 to 5
[demo]      (${seconds} s each), then COMPLETED, or FAILED for about ${Math.round(Number(values['fail-rate']) * 100)}% of runs.
[demo]   3. To stop a run, paste its id into the "CancelRun" tab and press ▶: the first window shows it
[demo]      CANCELLED, and the pipeline leaves it at its next sign of life.
[demo] Ctrl-C stops the demo.
`);
  await simulator.exited;
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `[demo] ${error.message}` : error);
  void stop(1);
});
