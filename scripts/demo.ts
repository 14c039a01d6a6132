/**
 * `npm run demo`: the server (embedded PostgreSQL unless DATABASE_URL is set) and the pipeline simulator
 * together, so a newcomer can open GraphiQL, createRun, and watch runUpdated move through the stages.
 * Ctrl-C stops both.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '..');
const children: ChildProcess[] = [];

function start(name: string, script: string, args: string[] = []): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: root,
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = (chunk: Buffer) =>
    chunk
      .toString()
      .split('\n')
      .filter((line) => line.trim() && !/INFO: query |"msg":"query"/.test(line))
      .map((line) => (line.startsWith(`[${name}]`) ? `${line}\n` : `[${name}] ${line}\n`))
      .join('');
  child.stdout.on('data', (chunk: Buffer) => process.stdout.write(prefix(chunk)));
  child.stderr.on('data', (chunk: Buffer) => process.stderr.write(prefix(chunk)));
  child.on('exit', (code) => {
    if (!stopping) {
      console.error(`[demo] ${name} exited (${code}); stopping`);
      stop(code ?? 1);
    }
  });
  children.push(child);
  return child;
}

let stopping = false;
function stop(code = 0): void {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 3_000).unref();
  Promise.all(
    children.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.on('exit', resolve)))),
  ).then(
    () => process.exit(code),
    () => process.exit(code),
  );
}
process.once('SIGINT', () => stop());
process.once('SIGTERM', () => stop());

const server = start('server', 'src/main.ts');
let simulatorStarted = false;
server.stdout!.on('data', (chunk: Buffer) => {
  const match = /server listening url=(\S+)/.exec(chunk.toString());
  if (!match || simulatorStarted) return;
  simulatorStarted = true;
  start(
    'simulate',
    'scripts/simulate.ts',
    process.argv.slice(2).length ? process.argv.slice(2) : ['--delay', '2000', '--fail-rate', '0.2'],
  );
  console.log(`
[demo] Open ${match[1]}/graphql, run \`npm run token\` in another terminal and paste the header it prints.
[demo] Then createRun (see README: "Watch a run live") and subscribe to runUpdated with its id.
`);
});
