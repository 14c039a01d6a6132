/** One file's API fixture: a database, a server on it and a signer; users are created as the API creates them. */
import { MeDocument } from '../graphql/generated/graphql';
import { createTestDatabase, type TestDatabase } from './database';
import { dataOf, execute } from './graphql';
import { startTestServer, type TestServer } from './server';
import { createSigner, type TestSigner } from './tokens';

export interface ApiFixture {
  db: TestDatabase;
  server: TestServer;
  signer: TestSigner;
  /** Signs a new user in through the API; returns its token and database id. */
  signIn(clerkId?: string): Promise<{ token: string; userId: string }>;
  close(): Promise<void>;
}

export async function startApi(env: NodeJS.ProcessEnv = {}): Promise<ApiFixture> {
  const db = await createTestDatabase();
  const signer = await createSigner();
  const server = await startTestServer(db.url, { CLERK_JWT_KEY: signer.publicKeyPem, ...env });
  return {
    db,
    server,
    signer,
    async signIn(clerkId) {
      const token = await signer.sign({ sub: clerkId, expiresIn: 3600 });
      const { me } = dataOf(await execute(server.url, MeDocument, {}, { token }));
      return { token, userId: me.id };
    },
    async close() {
      await server.close();
      await db.drop();
    },
  };
}
