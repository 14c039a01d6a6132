/**
 * The peer of the benchmark: PostGraphile 5 (amber preset, grafserv on node:http), the auto-generated GraphQL
 * server a team would deploy on the same tables instead, serving the benchmark's database with a pool of the
 * same size as the API's and no authentication. Run as its own process by scripts/bench.ts: `--url`, `--port`.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';

const { values } = parseArgs({ options: { url: { type: 'string' }, port: { type: 'string' } } });

const pgl = postgraphile({
  extends: [PostGraphileAmberPreset],
  pgServices: [makePgService({ connectionString: values.url, schemas: ['public'], poolConfig: { max: 10 } })],
  grafserv: { graphiql: false, watch: false },
  grafast: { explain: false },
});
const server = http.createServer();
// The schema is built (from the database's introspection) before the port opens: the first request is served.
pgl
  .createServ(grafserv)
  .addTo(server)
  .then(() => server.listen(Number(values.port), '127.0.0.1', () => process.stdout.write('postgraphile listening\n')))
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
