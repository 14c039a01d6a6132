/**
 * The benchmark's baseline: the same five answers from hand-written SQL behind a bare `node:http` handler, one
 * pool of the same size as the API's, no GraphQL and no authentication (the user is fixed at start). Run as
 * its own process by scripts/bench.ts: `--url`, `--port`, `--user` (JSON). Each response says how many SQL
 * statements it took (`x-sql-statements`).
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { benchPatterns, FIXED_COST, type BenchUser } from './patterns';

const { values } = parseArgs({ options: { url: { type: 'string' }, port: { type: 'string' }, user: { type: 'string' } } });
const user = JSON.parse(values.user!) as BenchUser;
const pool = new pg.Pool({ connectionString: values.url, max: 10 });
let statements = 0;
const counted = Object.assign(Object.create(pool) as pg.Pool, {
  query: (...args: Parameters<pg.Pool['query']>) => {
    statements += 1;
    return (pool.query as (...a: unknown[]) => unknown)(...args);
  },
});
const byQuery = new Map([...benchPatterns(user), FIXED_COST].map((pattern) => [pattern.query, pattern]));

http
  .createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const pattern = byQuery.get((JSON.parse(body) as { query: string }).query);
      if (!pattern) return void res.writeHead(404).end();
      const before = statements;
      pattern.baseline(counted, user).then(
        (data) => {
          const payload = JSON.stringify({ data });
          res.writeHead(200, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
            'x-sql-statements': statements - before,
          });
          res.end(payload);
        },
        (error: Error) => res.writeHead(500).end(error.message),
      );
    });
  })
  .listen(Number(values.port), '127.0.0.1', () => process.stdout.write('baseline listening\n'));
