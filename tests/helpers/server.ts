/** Starts the real HTTP app on an ephemeral port against a test database, as main.ts does. */
import os from 'node:os';
import path from 'node:path';
import { createTokenVerifier } from '../../src/auth/tokens';
import { loadConfig } from '../../src/config';
import { createPrismaClient, type Database } from '../../src/db/client';
import { NotificationListener, type ListenerOptions } from '../../src/db/events';
import type { SubscriptionQuota } from '../../src/live/quota';
import { createApp, type App } from '../../src/server/app';

export interface TestServer {
  url: string;
  /** ws:// URL of the GraphQL endpoint. */
  wsUrl: string;
  app: App;
  db: Database;
  events: NotificationListener;
  /** The subscriptions open on this server, by user. */
  subscriptions: SubscriptionQuota;
  /** SQL statements the server's Prisma client sent, in order (reset it freely). */
  statements: string[];
  close(): Promise<void>;
}

export async function startTestServer(
  databaseUrl: string,
  env: NodeJS.ProcessEnv = {},
  listener: ListenerOptions = { minBackoffMs: 50, maxBackoffMs: 500 },
): Promise<TestServer> {
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    DATA_DIR: path.join(os.tmpdir(), 'opportunity-api-test-data'),
    ...env,
  });
  // DATABASE_URL in `env` (say, through PgBouncer) wins over the test database's own URL, as in main.ts.
  const db = createPrismaClient(config.databaseUrl ?? databaseUrl, { logQueries: true, production: config.nodeEnv === 'production' });
  const statements: string[] = [];
  db.$on('query' as never, (event: { query: string }) => statements.push(event.query));
  // Each test server is one "instance": its own pool and its own LISTEN connection.
  const events = new NotificationListener(config.directUrl ?? databaseUrl, listener);
  await events.start();
  let app: App;
  try {
    app = await createApp({ config, db, events, verifyToken: await createTokenVerifier(config.auth, config.dataDir) });
  } catch (error) {
    // A server that refuses to start leaves nothing running behind it.
    await events.stop();
    await db.$disconnect();
    throw error;
  }
  const port = await app.listen(0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    app,
    db,
    events,
    subscriptions: app.live.subscriptionQuota,
    statements,
    async close() {
      await app.close();
      await events.stop();
      await db.$disconnect();
    },
  };
}
