/** What PostgreSQL plans for the statements a Prisma client sends: a client that records them, and their scans. */
import pg from 'pg';
import { createPrismaClient, type Database } from '../../src/db/client';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

export interface Scan {
  type: string;
  relation?: string;
  index?: string;
}

export interface RecordingClient {
  client: Database;
  /** The statements sent since the last call, with their parameters. */
  take(): Array<{ sql: string; params: unknown[] }>;
}

/** A Prisma client on `url` that records the SQL it sends, with its parameters, to EXPLAIN exactly that. */
export function recordingClient(url: string): RecordingClient {
  const client = createPrismaClient(url, { logQueries: true, production: false });
  let statements: Array<{ sql: string; params: unknown[] }> = [];
  client.$on('query' as never, (event: { query: string; params: string }) => {
    statements.push({ sql: event.query, params: JSON.parse(event.params) as unknown[] });
  });
  return {
    client,
    take: () => {
      const taken = statements;
      statements = [];
      return taken;
    },
  };
}

/** Every scan in the plans of the SELECTs among `statements` (explained on `url`, not run). */
export async function scansOf(url: string, statements: Array<{ sql: string; params: unknown[] }>): Promise<Scan[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const found: Scan[] = [];
    const walk = (node: PlanNode) => {
      if (/Scan/.test(node['Node Type']))
        found.push({ type: node['Node Type'], relation: node['Relation Name'], index: node['Index Name'] });
      for (const child of node.Plans ?? []) walk(child);
    };
    for (const { sql, params } of statements) {
      if (!/^\s*SELECT/i.test(sql)) continue;
      const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
      walk(rows[0]!['QUERY PLAN'][0]!.Plan);
    }
    return found;
  } finally {
    await client.end();
  }
}
