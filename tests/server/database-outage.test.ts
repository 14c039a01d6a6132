/**
 * While PostgreSQL cannot be reached, a request that needs it is answered 503 with Retry-After and
 * `extensions.code: SERVICE_UNAVAILABLE`, which clients and load balancers retry, instead of a 200 with
 * INTERNAL_SERVER_ERROR, which reads as a bug; once the database is back, the same request succeeds. What is
 * logged about the lost connections carries no connection parameters (the password among them).
 */
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { postQuery } from '../helpers/graphql';
import { startTestServer, type TestServer } from '../helpers/server';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { captureLogs } from '../helpers/logs';
import { createSigner, TEST_APP_ORIGIN, TEST_ISSUER, type TestSigner } from '../helpers/tokens';

let db: TestDatabase;
let proxy: TcpProxy;
let signer: TestSigner;
let server: TestServer;
const lines = captureLogs();
/** The database password (one of the test's own where the server trusts local connections): never logged. */
let password = 'outage-secret-password';

beforeAll(async () => {
  db = await createTestDatabase();
  proxy = await startTcpProxy(db.url);
  const withPassword = new URL(proxy.url);
  if (withPassword.password) password = decodeURIComponent(withPassword.password);
  else withPassword.password = password;
  signer = await createSigner();
  server = await startTestServer(db.url, {
    // Queries go through the proxy the test cuts; the LISTEN connection does not.
    DATABASE_URL: withPassword.toString(),
    DIRECT_URL: db.url,
    CLERK_JWT_KEY: signer.publicKeyPem,
    CLERK_ISSUER: TEST_ISSUER,
    CLERK_AUTHORIZED_PARTIES: TEST_APP_ORIGIN,
    ALLOW_ARBITRARY_DOCUMENTS: 'true',
  });
});
afterAll(async () => {
  await server.close();
  await proxy.close();
  await db.drop();
});

const RUNS = '{ me { id } runs(first: 1) { totalCount } }';

function expectUnavailable(response: Awaited<ReturnType<typeof postQuery>>) {
  expect(response.status).toBe(503);
  expect(response.headers.get('retry-after')).toBe('1');
  expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['SERVICE_UNAVAILABLE']);
  expect(response.errors?.[0]?.message).toBe('The database is unavailable for a moment: retry the request shortly');
}

it('answers 503 SERVICE_UNAVAILABLE with Retry-After while the database is unreachable, and serves again once it is back', async () => {
  const token = await signer.sign({ sub: 'user_outage', expiresIn: 3600 });
  const before = await postQuery(server.url, RUNS, { token });
  expect(before.status).toBe(200);
  expect(before.errors).toBeUndefined();

  proxy.cut();
  try {
    // A query, a mutation, and a new user's first request (signing in writes the user).
    expectUnavailable(await postQuery(server.url, RUNS, { token }));
    expectUnavailable(
      await postQuery(server.url, 'mutation { setCardStarred(id: "00000000-0000-0000-0000-000000000000", starred: true) { id } }', {
        token,
      }),
    );
    const newcomer = await signer.sign({ sub: 'user_outage_new', expiresIn: 3600 });
    expectUnavailable(await postQuery(server.url, '{ me { id } }', { token: newcomer }));
  } finally {
    proxy.restore();
  }

  const after = await postQuery(server.url, RUNS, { token });
  expect(after.status).toBe(200);
  expect(after.data).toEqual(before.data);

  expect(lines.some((line) => line.msg === 'database unavailable')).toBe(true);
  expect(lines.some((line) => line.msg === 'idle database connection failed')).toBe(true);
  expect(JSON.stringify(lines)).not.toContain(password);
});
