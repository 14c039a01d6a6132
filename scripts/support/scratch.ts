/**
 * What the measuring scripts (soak, bench) stand on: a migrated scratch database on a given server or on a
 * temporary embedded PostgreSQL, a production server started as `npm start` would be (its own process), and
 * session tokens signed with a key made for the run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { exportSPKI, generateKeyPair } from 'jose';
import { signSessionToken } from '../../src/auth/dev-keys';
import { PROJECT_ROOT } from '../../src/config';
import { runStatement, withClient } from '../../src/db/admin';
import { startEmbeddedPostgres } from '../../src/tooling/embedded';
import { freePort } from '../../src/tooling/free-port';
import { withDatabase } from '../../src/db/url';

export interface ScratchDatabase {
  /** The migrated database. */
  url: string;
  name: string;
  /** The server's `postgres` database, for administration (terminating backends, dropping). */
  adminUrl: string;
  serverVersion: string;
  drop(): Promise<void>;
}

/** Creates and migrates a database on `serverUrl` (any database of a server), else on a temporary embedded one. */
export async function openScratchDatabase(serverUrl: string | undefined, prefix: string): Promise<ScratchDatabase> {
  let adminUrl = serverUrl;
  let stopServer = () => Promise.resolve();
  if (!adminUrl) {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), `opportunity-api-${prefix}-`));
    const embedded = await startEmbeddedPostgres({ dataDir, ephemeral: true });
    adminUrl = withDatabase(embedded.url, 'postgres');
    stopServer = async () => {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
  }
  const name = `opportunity_${prefix}_${Date.now().toString(36)}`;
  await runStatement(adminUrl, `CREATE DATABASE "${name}"`);
  const url = withDatabase(adminUrl, name);
  const migrated = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts', 'deploy'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, DATABASE_URL: url, DIRECT_URL: '', LOG_LEVEL: 'warn' },
    encoding: 'utf8',
  });
  if (migrated.status !== 0) throw new Error(`migrating ${name} failed:\n${migrated.stdout}\n${migrated.stderr}`);
  const serverVersion = await withClient(
    adminUrl,
    async (client) => (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v,
  );
  const admin = adminUrl;
  return {
    url,
    name,
    adminUrl: admin,
    serverVersion,
    async drop() {
      await runStatement(admin, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
      await stopServer();
    },
  };
}

/** The issuer the scratch key's tokens carry, and the production server is told to expect (CLERK_ISSUER). */
export const SCRATCH_ISSUER = 'https://clerk.scratch.invalid';
/** The frontend origin (azp) of the scratch key's tokens, which the production server is told to accept. */
export const SCRATCH_ORIGIN = 'https://app.scratch.invalid';

export interface SessionKey {
  /** PEM public key, for CLERK_JWT_KEY. */
  publicKeyPem: string;
  sign(sub: string, expiresIn?: number): Promise<string>;
}

export async function createSessionKey(): Promise<SessionKey> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  return {
    publicKeyPem: await exportSPKI(publicKey),
    sign: (sub, expiresIn = 3600) =>
      signSessionToken(privateKey, 'scratch', { sub, email: `${sub}@example.com`, expiresIn, issuer: SCRATCH_ISSUER, azp: SCRATCH_ORIGIN }),
  };
}

export interface ServerProcess {
  url: string;
  pid: number;
  /** Resident memory of the server process, in bytes (Linux /proc). */
  rss(): number | undefined;
  output(): string;
  stop(): Promise<number | null>;
}

/** Compiles the project (`npm run build`, into dist/) as production runs it; `root`: another checkout of it. */
export function build(root = PROJECT_ROOT): void {
  const result = spawnSync(
    process.execPath,
    [path.join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) throw new Error(`npm run build failed:\n${result.stdout}\n${result.stderr}`);
}

/**
 * The server in production mode, as deployed (the compiled dist/src/main.js: call `build()` first), in its own
 * process, on a free port; resolves once /ready answers 200.
 */
export async function startServerProcess(
  env: NodeJS.ProcessEnv,
  nodeArgs: string[] = [],
  root = PROJECT_ROOT,
  /** The port to listen on (an instance restarted behind a load balancer keeps its own); a free one by default. */
  fixedPort?: number,
): Promise<ServerProcess> {
  const port = fixedPort ?? (await freePort());
  const child = spawn(process.execPath, [...nodeArgs, 'dist/src/main.js'], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      CLERK_ISSUER: SCRATCH_ISSUER,
      CLERK_AUTHORIZED_PARTIES: SCRATCH_ORIGIN,
      // The benchmarks and the soak send their documents as text.
      ALLOW_ARBITRARY_DOCUMENTS: 'true',
      ...env,
    },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.on('close', done));
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode} before it was ready:\n${output}`);
    // On a port it shares (HTTP_REUSE_PORT) the process it replaces answers /ready too; this one listens only once
    // it is ready to serve.
    const ready =
      listensOn(child.pid!, port) !== false &&
      (await fetch(`${url}/ready`).then(
        (res) => res.ok,
        () => false,
      ));
    if (ready) break;
    if (attempt > 600) {
      child.kill('SIGKILL');
      throw new Error(`the server was not ready within a minute:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    pid: child.pid!,
    rss() {
      try {
        const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
        return kb ? Number(kb) * 1024 : undefined;
      } catch {
        return undefined;
      }
    },
    output: () => output,
    stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Whether process `pid` has a TCP socket listening on `port` (Linux's /proc); undefined where that cannot be read. */
export function listensOn(pid: number, port: number): boolean | undefined {
  const listening = new Set<string>();
  try {
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      // Columns: sl local_address rem_address st ... inode; st 0A is LISTEN, the port is hex after the colon.
      for (const line of readFileSync(table, 'utf8').trim().split('\n').slice(1)) {
        const [, local, , state, , , , , , inode] = line.trim().split(/\s+/);
        if (state === '0A' && parseInt(local!.split(':')[1]!, 16) === port) listening.add(inode!);
      }
    }
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSafe(`/proc/${pid}/fd/${fd}`))?.[1];
      return inode !== undefined && listening.has(inode);
    });
  } catch {
    return undefined;
  }
}

/** A descriptor may close between listing and reading it. */
function readlinkSafe(file: string): string {
  try {
    return readlinkSync(file);
  } catch {
    return '';
  }
}

/** Percentiles of a list of samples. */
export function percentiles(samples: number[]): { p50: number; p95: number; p99: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted.at(-1) ?? NaN };
}

/** A Markdown table. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
