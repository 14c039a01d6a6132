/**
 * The connection cap under a small open-file limit (`ulimit -n 256`) and the default HTTP_MAX_CONNECTIONS
 * (10,000): the server caps connections below what its descriptors can hold, so hundreds of half-sent requests
 * (idle: their headers never end) are evicted oldest first to make room, and /health and a signed-in user still
 * get in, instead of every new connection being reset once the descriptors run out.
 */
import net from 'node:net';
import { logEntry, startMain } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { createSigner, TEST_APP_ORIGIN, TEST_ISSUER } from '../helpers/tokens';

const FILE_LIMIT = 256;
const HALF_SENT = 400;

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

/** A connection that sends the start of a request and never its end. */
function halfSent(port: number): Promise<net.Socket> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      resolve(socket);
    });
    // Evicted (or, without the cap, reset): either way it is the server's to close.
    socket.on('error', () => undefined);
  });
}

it(`with ulimit -n ${FILE_LIMIT}, ${HALF_SENT} half-sent requests make room for /health and a signed-in user`, async () => {
  const signer = await createSigner();
  const server = await startMain(
    {
      DATABASE_URL: db.url,
      CLERK_JWT_KEY: signer.publicKeyPem,
      CLERK_ISSUER: TEST_ISSUER,
      CLERK_AUTHORIZED_PARTIES: TEST_APP_ORIGIN,
      // One address, and requests that stay half-sent for the whole test: only the instance cap decides.
      HTTP_MAX_CONNECTIONS_PER_IP: '100000',
      HTTP_HEADERS_TIMEOUT_SECONDS: '120',
      HTTP_REQUEST_TIMEOUT_SECONDS: '120',
    },
    60_000,
    { openFileLimit: FILE_LIMIT },
  );
  const sockets: net.Socket[] = [];
  try {
    const capped = logEntry(server.output(), 'HTTP_MAX_CONNECTIONS is above what the open-file limit allows: connections are capped lower');
    expect(capped).toMatchObject({ configured: 10000, openFileLimit: FILE_LIMIT });
    expect(capped!.cap as number).toBeLessThan(FILE_LIMIT);
    const port = Number(new URL(server.url).port);
    for (let i = 0; i < HALF_SENT; i++) sockets.push(await halfSent(port));
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const token = await signer.sign({ sub: 'user_file_limit' });
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ me { email } }' }),
    });
    expect(await res.json()).toEqual({ data: { me: { email: 'user_file_limit@example.com' } } });
  } finally {
    for (const socket of sockets) socket.destroy();
    expect(await server.stop()).toBe(0);
  }
});
