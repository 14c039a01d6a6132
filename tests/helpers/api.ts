/** One file's API fixture: a database, a server on it and a signer; users are created as the API creates them. */
import type { Client } from 'graphql-ws';
import { MeDocument, type TypedDocumentString } from '../graphql/generated/graphql';
import { createRun } from './fixtures';
import { subscribeWs, wsClient, type Subscription } from './subscriptions';
import { createTestDatabase, type TestDatabase } from './database';
import { dataOf, execute } from './graphql';
import { startTestServer, type TestServer } from './server';
import { createSigner, TEST_APP_ORIGIN, TEST_ISSUER, type TestSigner } from './tokens';

export interface ApiFixture {
  db: TestDatabase;
  server: TestServer;
  signer: TestSigner;
  /** Signs a new user in through the API; returns its token and database id. */
  signIn(clerkId?: string): Promise<{ token: string; userId: string }>;
  /**
   * A new user's new PENDING run, followed over graphql-ws with `document` (its first state received).
   * The caller disposes of `client`.
   */
  followNewRun<T>(document: TypedDocumentString<T, { id: string }>): Promise<{ client: Client; run: { id: string }; sub: Subscription<T> }>;
  close(): Promise<void>;
}

export async function startApi(env: NodeJS.ProcessEnv = {}): Promise<ApiFixture> {
  const db = await createTestDatabase();
  const signer = await createSigner();
  const server = await startTestServer(db.url, {
    CLERK_JWT_KEY: signer.publicKeyPem,
    CLERK_ISSUER: TEST_ISSUER,
    CLERK_AUTHORIZED_PARTIES: TEST_APP_ORIGIN,
    // Tests send their documents as text; tests/graphql/trusted-documents.test.ts turns this off.
    ALLOW_ARBITRARY_DOCUMENTS: 'true',
    ...env,
  });
  const signIn = async (clerkId?: string) => {
    const token = await signer.sign({ sub: clerkId, expiresIn: 3600 });
    const { me } = dataOf(await execute(server.url, MeDocument, {}, { token }));
    return { token, userId: me.id };
  };
  return {
    db,
    server,
    signer,
    signIn,
    async followNewRun<T>(document: TypedDocumentString<T, { id: string }>) {
      const { token, userId } = await signIn();
      const run = await createRun(db.prisma, userId);
      const client = wsClient(server.wsUrl, token);
      const sub = subscribeWs(client, document, { id: run.id });
      await sub.waitFor((m) => (m.data as { runUpdated?: { status: string } } | null | undefined)?.runUpdated?.status === 'PENDING');
      return { client, run, sub };
    },
    async close() {
      await server.close();
      await db.drop();
    },
  };
}

/**
 * A production server beside the fixture's, on its database and trusting its signer, that runs only the documents
 * of `manifest` (a frontend's or the examples' generated persisted-documents.json); `env` adds or overrides.
 * The caller closes it.
 */
export function startProductionServer(fixture: ApiFixture, manifest: string, env: NodeJS.ProcessEnv = {}): Promise<TestServer> {
  return startTestServer(fixture.db.url, {
    NODE_ENV: 'production',
    CLERK_JWT_KEY: fixture.signer.publicKeyPem,
    CLERK_ISSUER: TEST_ISSUER,
    CLERK_AUTHORIZED_PARTIES: TEST_APP_ORIGIN,
    TRUSTED_DOCUMENTS: manifest,
    ...env,
  });
}

/**
 * For a file that starts servers with several configurations: `start(env)` starts one, and every one started
 * is closed after the file's tests (registered with jest's afterAll here).
 */
export function apiPerConfiguration(): (env?: NodeJS.ProcessEnv) => Promise<ApiFixture> {
  const started: ApiFixture[] = [];
  afterAll(() => Promise.all(started.map((fixture) => fixture.close())));
  return async (env = {}) => {
    const fixture = await startApi(env);
    started.push(fixture);
    return fixture;
  };
}
