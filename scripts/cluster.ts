/**
 * `npm run cluster [-- --instances 3 --database URL]`: the reference deployment on this machine (nginx, N
 * production instances, PgBouncer, PostgreSQL; scripts/support/cluster.ts), until Ctrl-C. Prints nginx's address
 * and a session token to try it with.
 */
import { commandLine } from '../src/args';
import { ConfigError } from '../src/config';
import { runCli } from './cli';
import { startCluster } from './support/cluster';

async function main(): Promise<void> {
  const { values } = commandLine({
    usage: 'npm run cluster [-- --instances 3 --database URL]',
    help: `Starts the reference deployment: nginx (deploy/nginx.conf) in front of N compiled production instances, each
with its pool through PgBouncer in transaction mode (deploy/pgbouncer.ini) and its LISTEN connection direct to
PostgreSQL. Needs Debian's nginx and pgbouncer packages. Stops everything on Ctrl-C.
  --instances N    instances behind nginx (default 3)
  --database URL   a PostgreSQL server to create the cluster's database on (default: a temporary embedded one)`,
    options: {
      instances: { type: 'string', default: '3' },
      database: { type: 'string' },
    },
  });
  const instances = Number(values.instances);
  if (!Number.isInteger(instances) || instances < 1 || instances > 32)
    throw new ConfigError(`--instances must be a whole number from 1 to 32 (got "${values.instances}")`);
  const cluster = await startCluster({ instances, serverUrl: values.database });
  const token = await cluster.key.sign('user_cluster', 12 * 3600);
  console.log(`nginx: ${cluster.url}/graphql over ${instances} instances (ports ${cluster.instances.map((i) => i.port).join(', ')})`);
  console.log(
    `try: curl -s ${cluster.url}/graphql -H 'content-type: application/json' -H 'authorization: Bearer ${token}' -d '{"query":"{ me { id } }"}'`,
  );
  console.log('Ctrl-C stops the cluster.');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await cluster.stop();
}

runCli(main);
