/** Load generation (autocannon) and process accounting (/proc) for the benchmark. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { PROJECT_ROOT } from '../../src/config';
import type { BenchUser, Pattern } from './patterns';

export interface Cell {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  /** Requests answered in all, the warm-up's included (what a profile of the cell's server saw). */
  served: number;
  failures: number;
  /** Server CPU per request, in ms (when the server's pid is known). */
  cpuPerRequest: number | undefined;
}

/** CPU time a process has used so far, in ms (Linux /proc; undefined elsewhere). */
export function cpuMs(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime (fields 14 and 15 of the line, 12 and 13 after the command name), in clock ticks of 10 ms.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

export interface Target {
  url: string;
  pid: number;
  headers: Record<string, string>;
  /** Send each document by its id (a trusted-documents server) instead of its text. */
  byId?: boolean;
}

/** The id a manifest gives a document: its SHA-256, as GraphQL Code Generator's client preset writes it. */
export const documentIdFor = (query: string) => createHash('sha256').update(query).digest('hex');

const requestBody = (target: Pick<Target, 'byId'>, pattern: Pattern) =>
  JSON.stringify(
    target.byId
      ? { documentId: documentIdFor(pattern.query), variables: pattern.variables }
      : { query: pattern.query, variables: pattern.variables },
  );

/** `connections` clients sending `pattern` for `seconds` after a warm-up; latency in ms, throughput in req/s. */
export async function load(target: Target, pattern: Pattern, connections: number, seconds: number, warmupSeconds: number): Promise<Cell> {
  const options = {
    url: `${target.url}/graphql`,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', ...target.headers },
    body: requestBody(target, pattern),
    connections,
  };
  const warmup = await autocannon({ ...options, duration: warmupSeconds });
  const before = cpuMs(target.pid);
  const result = await autocannon({ ...options, duration: seconds });
  const after = cpuMs(target.pid);
  const requests = result.requests.total;
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests,
    served: requests + warmup.requests.total,
    failures: result.non2xx + result.errors + result.timeouts,
    cpuPerRequest: before !== undefined && after !== undefined && requests ? (after - before) / requests : undefined,
  };
}

export interface BaselineProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** scripts/bench/baseline-server.ts in its own process. */
export function startBaseline(databaseUrl: string, port: number, user: BenchUser): Promise<BaselineProcess> {
  return startHelperServer(
    'scripts/bench/baseline-server.ts',
    ['--url', databaseUrl, '--port', String(port), '--user', JSON.stringify(user)],
    port,
    'baseline',
  );
}

/** A peer (scripts/bench/postgraphile-server.ts, `args` for its authentication) on the same database, in its own process. */
export function startPostGraphile(databaseUrl: string, port: number, args: string[] = []): Promise<BaselineProcess> {
  return startHelperServer(
    'scripts/bench/postgraphile-server.ts',
    ['--url', databaseUrl, '--port', String(port), ...args],
    port,
    'postgraphile',
    { GRAPHILE_ENV: 'production' },
  );
}

/** A measured server of the benchmark's own (`script`), ready once it prints "<name> listening". */
function startHelperServer(
  script: string,
  args: string[],
  port: number,
  name: string,
  env: NodeJS.ProcessEnv = {},
): Promise<BaselineProcess> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.once('exit', (code) => reject(new Error(`the ${name} server exited with ${code}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      if (!chunk.toString().includes(`${name} listening`)) return;
      resolve({
        url: `http://127.0.0.1:${port}`,
        pid: child.pid!,
        stop: () => {
          child.kill('SIGTERM');
          return exited;
        },
      });
    });
  });
}

/** One request, answered with its parsed body and response headers. */
export async function ask(
  target: Pick<Target, 'url' | 'headers' | 'byId'>,
  pattern: Pattern,
): Promise<{ body: { data?: unknown; errors?: unknown }; headers: Headers }> {
  const res = await fetch(`${target.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body: requestBody(target, pattern),
  });
  return { body: (await res.json()) as { data?: unknown; errors?: unknown }, headers: res.headers };
}
