/**
 * Slow and idle clients cannot hold the server: a request trickled byte by byte (headers or body, on /graphql
 * and on the webhook) is cut by its deadline, a socket that sends nothing is closed, connections are capped per
 * client address and per instance, and at the cap idle connections make room, so /health and signed-in users
 * still get in.
 */
import net from 'node:net';
import { apiPerConfiguration, type ApiFixture } from '../helpers/api';
import { request } from '../helpers/http';

const api = apiPerConfiguration();

interface RawSocket {
  socket: net.Socket;
  /** Everything the server sent, and whether it closed the connection, once it does. */
  closed: Promise<{ received: string }>;
}

function connect(url: string, localAddress = '127.0.0.1'): Promise<RawSocket> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: Number(port), localAddress }, () => {
      let received = '';
      socket.on('data', (chunk) => (received += chunk.toString('utf8')));
      const closed = new Promise<{ received: string }>((done) => socket.once('close', () => done({ received })));
      resolve({ socket, closed });
    });
    socket.once('error', reject);
  });
}

/** Sends `text` one byte every `everyMs` until the socket closes or `text` ends. */
function trickle(socket: net.Socket, text: string, everyMs: number): void {
  let at = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || at >= text.length) return clearInterval(timer);
    socket.write(text[at++]!);
  }, everyMs);
  socket.once('close', () => clearInterval(timer));
}

/** Resolves with the close, or rejects after `ms`: the server's deadline is a few seconds, this is a bound. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describe('deadlines', () => {
  let fixture: ApiFixture;
  let token: string;
  beforeAll(async () => {
    fixture = await api({
      HTTP_HEADERS_TIMEOUT_SECONDS: '2',
      HTTP_REQUEST_TIMEOUT_SECONDS: '3',
      CLERK_WEBHOOK_SIGNING_SECRET: 'whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ=',
    });
    ({ token } = await fixture.signIn('user_trickle'));
  });

  it.each([
    ['/graphql', () => `Authorization: Bearer ${token}\r\n`],
    ['/webhooks/clerk', () => ''],
  ])('a body trickled to %s is cut with 408 at HTTP_REQUEST_TIMEOUT_SECONDS', async (path, extraHeaders) => {
    const { socket, closed } = await connect(fixture.server.url);
    socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${extraHeaders()}Content-Length: 90000\r\n\r\n`);
    trickle(socket, '{"query":"' + 'x'.repeat(89_990), 500);
    const { received } = await within(closed, 20_000);
    expect(received).toMatch(/^HTTP\/1\.1 408/);
  });

  it('headers trickled byte by byte are cut at HTTP_HEADERS_TIMEOUT_SECONDS', async () => {
    const { socket, closed } = await connect(fixture.server.url);
    trickle(socket, `POST /graphql HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(1000)}\r\n\r\n`, 300);
    const { received } = await within(closed, 20_000);
    expect(received).toMatch(/^(HTTP\/1\.1 408|$)/);
  });

  it('a socket that never sends anything is closed', async () => {
    const { closed } = await connect(fixture.server.url);
    await within(closed, 20_000);
  });
});

describe('connection caps', () => {
  it('HTTP_MAX_CONNECTIONS_PER_IP: one address cannot take more; others, /health included, still get in', async () => {
    const fixture = await api({ HTTP_MAX_CONNECTIONS_PER_IP: '5', HTTP_HEADERS_TIMEOUT_SECONDS: '60', HTTP_REQUEST_TIMEOUT_SECONDS: '60' });
    const held = await Promise.all(Array.from({ length: 5 }, () => connect(fixture.server.url, '127.0.0.8')));
    try {
      const extra = await connect(fixture.server.url, '127.0.0.8');
      await within(extra.closed, 5_000); // closed at once, without an answer
      expect(held.every(({ socket }) => !socket.destroyed)).toBe(true);
      expect((await request(`${fixture.server.url}/health`, { method: 'GET' })).status).toBe(200);
      expect((await request(`${fixture.server.url}/health`, { method: 'GET', localAddress: '127.0.0.9' })).status).toBe(200);
    } finally {
      for (const { socket } of held) socket.destroy();
    }
  });

  it('HTTP_MAX_CONNECTIONS: at the cap the longest-idle connection makes room for a signed-in user and /health', async () => {
    const fixture = await api({ HTTP_MAX_CONNECTIONS: '12', HTTP_HEADERS_TIMEOUT_SECONDS: '60', HTTP_REQUEST_TIMEOUT_SECONDS: '60' });
    const { token } = await fixture.signIn('user_at_the_cap');
    const idle: RawSocket[] = [];
    for (let i = 0; i < 12; i++) idle.push(await connect(fixture.server.url, `127.0.1.${i + 1}`));
    try {
      const health = await request(`${fixture.server.url}/health`, { method: 'GET' });
      expect(health.status).toBe(200);
      const me = await request(`${fixture.server.url}/graphql`, {
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ me { id } }' }),
      });
      expect(me.status).toBe(200);
      // The oldest idle sockets were the ones closed (the sign-in's kept-alive connection among them).
      await within(idle[0]!.closed, 5_000);
      expect(idle.at(-1)!.socket.destroyed).toBe(false);
    } finally {
      for (const { socket } of idle) socket.destroy();
    }
  });
});
