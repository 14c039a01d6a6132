/** Starts the real HTTP app on an ephemeral port against a test database, as main.ts does. */
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { createPrismaClient, type Database } from '../../src/db/client';
import { createApp, type App } from '../../src/server/http';

export interface TestServer {
  url: string;
  app: App;
  db: Database;
  /** SQL statements the server's Prisma client sent, in order (reset it freely). */
  statements: string[];
  close(): Promise<void>;
}

export async function startTestServer(databaseUrl: string, env: NodeJS.ProcessEnv = {}): Promise<TestServer> {
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: databaseUrl, DATA_DIR: path.join(os.tmpdir(), 'opportunity-api-test-data'), ...env });
  const db = createPrismaClient(databaseUrl, { logQueries: true, production: config.nodeEnv === 'production' });
  const statements: string[] = [];
  db.$on('query' as never, (event: { query: string }) => statements.push(event.query));
  const app = await createApp({ config, db });
  const port = await app.listen(0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    db,
    statements,
    async close() {
      await app.close();
      await db.$disconnect();
    },
  };
}
