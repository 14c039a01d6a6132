/** Starts the real HTTP app on an ephemeral port against a test database, as main.ts does. */
import { loadConfig } from '../../src/config';
import { createPrismaClient, type Database } from '../../src/db/client';
import { createApp, type App } from '../../src/server/http';

export interface TestServer {
  url: string;
  app: App;
  db: Database;
  close(): Promise<void>;
}

export async function startTestServer(databaseUrl: string, env: NodeJS.ProcessEnv = {}): Promise<TestServer> {
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: databaseUrl, ...env });
  const db = createPrismaClient(databaseUrl, { logQueries: false, production: config.nodeEnv === 'production' });
  const app = await createApp({ config, db });
  const port = await app.listen(0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    db,
    async close() {
      await app.close();
      await db.$disconnect();
    },
  };
}
