/**
 * The reference deployment on one machine: nginx (deploy/nginx.conf) balancing over N production instances
 * (compiled, NODE_ENV=production), each with its pool through PgBouncer in transaction mode (deploy/pgbouncer.ini)
 * and its LISTEN connection on DIRECT_URL, over one PostgreSQL: the machine's, or a temporary embedded one.
 * `npm run cluster` starts it for a person; tests and the soak start it the same way.
 */
import { freePort } from '../../src/tooling/free-port';
import { findNginx, startNginx, type Nginx } from './nginx';
import { findPgBouncer, startPgBouncer, type PgBouncer } from './pgbouncer';
import {
  build,
  createSessionKey,
  openScratchDatabase,
  startServerProcess,
  type ScratchDatabase,
  type ServerProcess,
  type SessionKey,
} from './scratch';

export interface ClusterOptions {
  instances: number;
  /** Any database URL of a PostgreSQL server to create the cluster's database on; unset: an embedded one. */
  serverUrl?: string;
  /** Compile first (npm run build); off when the caller just did. */
  build?: boolean;
  /** More settings for every instance (say, rate limits for a load test). */
  env?: NodeJS.ProcessEnv;
}

export interface Instance {
  port: number;
  process: ServerProcess;
}

export interface RestartTiming {
  /** From the restart's start until the replacement was serving. */
  replacementReadyMs: number;
  /** From the signal until the old process had exited. */
  stoppedMs: number;
}

export interface Cluster {
  /** nginx's address: what clients use. */
  url: string;
  database: ScratchDatabase;
  instances: Instance[];
  key: SessionKey;
  /** nginx's error log so far: what it could not pass to an instance, and why. */
  balancerErrors(): Promise<string>;
  /**
   * Replaces instance `index` on its port. SIGTERM, a deploy: the replacement starts first, then the old process
   * drains and exits. SIGKILL, a crash: the old process dies at once, then the replacement starts.
   */
  restart(index: number, signal: 'SIGTERM' | 'SIGKILL'): Promise<RestartTiming>;
  stop(): Promise<void>;
}

/** What the cluster needs from Debian's packages; the reason it cannot start without them. */
export function missingPackages(): string | undefined {
  const missing = [findPgBouncer() ? undefined : 'pgbouncer', findNginx() ? undefined : 'nginx'].filter(Boolean);
  return missing.length ? `not installed: ${missing.join(', ')} (apt-get install ${missing.join(' ')})` : undefined;
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const unavailable = missingPackages();
  if (unavailable) throw new Error(`the cluster needs PgBouncer and nginx: ${unavailable}`);
  if (options.build !== false) build();
  const database = await openScratchDatabase(options.serverUrl, 'cluster');
  const started: { bouncer?: PgBouncer; nginx?: Nginx; instances: Instance[] } = { instances: [] };
  const key = await createSessionKey();
  const stopAll = async () => {
    await started.nginx?.stop();
    await Promise.all(started.instances.map((instance) => instance.process.stop()));
    await started.bouncer?.stop();
    await database.drop();
  };
  try {
    const bouncer = (started.bouncer = await startPgBouncer(findPgBouncer()!, database.adminUrl));
    const env = {
      // Transaction pooling: no prepared statements (PgBouncer before 1.21 cannot route them).
      DATABASE_URL: `${bouncer.urlFor(database.name)}?pgbouncer=true`,
      DIRECT_URL: database.url,
      CLERK_JWT_KEY: key.publicKeyPem,
      // nginx is the hop that names the client (X-Forwarded-For).
      TRUSTED_PROXIES: 'loopback',
      // A restart starts the replacement on the instance's port while the old process drains.
      HTTP_REUSE_PORT: 'true',
      ...options.env,
    };
    const start = async (port: number): Promise<Instance> => ({ port, process: await startServerProcess(env, [], undefined, port) });
    const ports = await Promise.all(Array.from({ length: options.instances }, () => freePort()));
    started.instances.push(...(await Promise.all(ports.map(start))));
    started.nginx = await startNginx(findNginx()!, ports);
    const nginx = started.nginx;
    return {
      url: nginx.url,
      database,
      instances: started.instances,
      key,
      balancerErrors: () => nginx.errors(),
      async restart(index, signal) {
        const old = started.instances[index]!;
        const replaced = await replaceInstance(old, signal, () => start(old.port));
        started.instances[index] = replaced.instance;
        return replaced.timing;
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function replaceInstance(
  old: Instance,
  signal: 'SIGTERM' | 'SIGKILL',
  startReplacement: () => Promise<Instance>,
): Promise<{ instance: Instance; timing: RestartTiming }> {
  const began = performance.now();
  if (signal === 'SIGKILL') {
    process.kill(old.process.pid, 'SIGKILL');
    await old.process.stop();
    const stoppedMs = performance.now() - began;
    const instance = await startReplacement();
    return { instance, timing: { stoppedMs, replacementReadyMs: performance.now() - began } };
  }
  // A deploy in place: the replacement listens on the same port (HTTP_REUSE_PORT) before the old process is asked
  // to stop, so nginx's upstream list never changes; the kernel spreads new connections over both, then hands the
  // old listener's queue to the new one when it closes (net.ipv4.tcp_migrate_req).
  const instance = await startReplacement();
  const replacementReadyMs = performance.now() - began;
  const signalled = performance.now();
  await old.process.stop();
  return { instance, timing: { replacementReadyMs, stoppedMs: performance.now() - signalled } };
}
