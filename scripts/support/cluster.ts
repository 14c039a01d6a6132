/**
 * The reference deployment on one machine: nginx (deploy/nginx.conf) balancing over N production instances
 * (compiled, NODE_ENV=production), each with its pool through PgBouncer in transaction mode (deploy/pgbouncer.ini)
 * and its LISTEN connection on DIRECT_URL, over one PostgreSQL: the machine's, or a temporary embedded one.
 * `npm run cluster` starts it for a person; tests and the soak start it the same way.
 */
import { freePort } from '../../src/db/free-port';
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

export interface Cluster {
  /** nginx's address: what clients use. */
  url: string;
  database: ScratchDatabase;
  instances: Instance[];
  key: SessionKey;
  /** nginx's error log so far: what it could not pass to an instance, and why. */
  balancerErrors(): Promise<string>;
  /** Stops instance `index` (SIGTERM: gracefully; SIGKILL: a crash) and starts it again on its port, ready. */
  restart(index: number, signal: 'SIGTERM' | 'SIGKILL'): Promise<void>;
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
      DATABASE_URL: bouncer.urlFor(database.name),
      DIRECT_URL: database.url,
      CLERK_JWT_KEY: key.publicKeyPem,
      // nginx is the hop that names the client (X-Forwarded-For).
      TRUSTED_PROXIES: 'loopback',
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
        const instance = started.instances[index]!;
        const everyPort = started.instances.map((each) => each.port);
        if (signal === 'SIGKILL') {
          process.kill(instance.process.pid, 'SIGKILL');
          await instance.process.stop();
          started.instances[index] = await start(instance.port);
          return;
        }
        // What a deploy does in front of a static nginx: take the instance out of the balancer first, so no new
        // connection is on its way when its listening socket closes; then stop it, start the new one, put it back.
        await nginx.setUpstreams(everyPort.filter((port) => port !== instance.port));
        await instance.process.stop();
        started.instances[index] = await start(instance.port);
        await nginx.setUpstreams(everyPort);
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
