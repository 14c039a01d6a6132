/**
 * Who may make the server work, before any GraphQL work: requests without valid credentials are limited per
 * client address (then refused without even verifying their token), X-Forwarded-For counts only from trusted
 * proxies, every signed-in request spends its user's budget before its document is parsed (refused documents
 * included), and WebSocket connections are capped per user and spend the budget too. Client addresses are
 * distinct loopback addresses (127.0.0.x).
 */
import { MeDocument } from '../graphql/generated/graphql';
import { apiPerConfiguration, type ApiFixture } from '../helpers/api';
import { dataOf, execute, postQuery } from '../helpers/graphql';
import { errorCode, graphqlFrom } from '../helpers/http';
import { openConnection, rawConnect } from '../helpers/subscriptions';

const api = apiPerConfiguration();

describe('requests without valid credentials, per client address', () => {
  let fixture: ApiFixture;
  let signedIn: string;
  beforeAll(async () => {
    fixture = await api({ ANONYMOUS_REQUESTS_PER_MINUTE: '5' });
    ({ token: signedIn } = await fixture.signIn('user_behind_flood'));
  });

  it('the address gets 401 up to the limit, then 429 with Retry-After; another address is not affected', async () => {
    const { url } = fixture.server;
    const statuses = [];
    for (let i = 0; i < 7; i++) statuses.push((await graphqlFrom(url, '127.0.0.2', '{ __typename }')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    const limited = await graphqlFrom(url, '127.0.0.2', '{ __typename }');
    expect(errorCode(limited)).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(limited.body)).toMatchObject({ errors: [{ extensions: { code: 'RATE_LIMITED', limit: 'anonymousPerMinute' } }] });
    expect((await graphqlFrom(url, '127.0.0.3', '{ __typename }')).status).toBe(401);
  });

  it('over the limit, tokens are not even verified, but a token verified before keeps working', async () => {
    const { url } = fixture.server;
    for (let i = 0; i < 6; i++) await graphqlFrom(url, '127.0.0.4', '{ __typename }', { authorization: 'Bearer forged.token.here' });
    const fresh = await fixture.signer.sign({ sub: 'user_fresh_token' });
    expect((await graphqlFrom(url, '127.0.0.4', '{ me { id } }', { authorization: `Bearer ${fresh}` })).status).toBe(429);
    const known = await graphqlFrom(url, '127.0.0.4', '{ me { id } }', { authorization: `Bearer ${signedIn}` });
    expect(known.status).toBe(200);
  });

  it('X-Forwarded-For is ignored unless the peer is a trusted proxy', async () => {
    const { url } = fixture.server;
    for (let i = 0; i < 6; i++) await graphqlFrom(url, '127.0.0.5', '{ __typename }', { 'x-forwarded-for': `198.51.100.${i}` });
    expect((await graphqlFrom(url, '127.0.0.5', '{ __typename }', { 'x-forwarded-for': '198.51.100.99' })).status).toBe(429);
  });

  it('with TRUSTED_PROXIES, each forwarded client has its own limit', async () => {
    const behindProxy = await api({ ANONYMOUS_REQUESTS_PER_MINUTE: '3', TRUSTED_PROXIES: 'loopback' });
    const { url } = behindProxy.server;
    const from = (client: string) => graphqlFrom(url, '127.0.0.6', '{ __typename }', { 'x-forwarded-for': client });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await from('198.51.100.7')).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    expect((await from('198.51.100.8')).status).toBe(401);
  });

  it('WebSocket connections without valid credentials count too (4403, then 4429)', async () => {
    const codes = [];
    for (let i = 0; i < 7; i++) codes.push((await rawConnect(fixture.server.wsUrl, {}, {}, { localAddress: '127.0.0.7' })).code);
    expect(codes).toEqual([4403, 4403, 4403, 4403, 4403, 4429, 4429]);
  });
});

describe('the request budget is spent before the document is parsed', () => {
  it('refused documents (syntax errors, limits) spend it like any other', async () => {
    const fixture = await api({ RATE_LIMIT_REQUESTS_PER_MINUTE: '20' });
    const token = await fixture.signer.sign({ sub: 'user_refused_documents' });
    const statuses = [];
    for (let i = 0; i < 24; i++)
      statuses.push((await postQuery(fixture.server.url, `query Q${i} { this is not GraphQL`, { token })).status);
    expect(statuses.filter((status) => status === 400)).toHaveLength(20);
    expect(statuses.slice(20)).toEqual([429, 429, 429, 429]);
    expect((await execute(fixture.server.url, MeDocument, {}, { token })).status).toBe(429);
  });
});

describe('WebSocket connections of one user', () => {
  it('at most WS_MAX_CONNECTIONS_PER_USER at once (4429 saying so); closing one makes room', async () => {
    const fixture = await api({ WS_MAX_CONNECTIONS_PER_USER: '3' });
    const { token } = await fixture.signIn('user_many_sockets');
    const open = await Promise.all([1, 2, 3].map(() => openConnection(fixture.server.wsUrl, token)));
    const sockets = open.map((connection) => ('socket' in connection ? connection.socket : undefined));
    expect(sockets.every(Boolean)).toBe(true);
    try {
      expect(await openConnection(fixture.server.wsUrl, token)).toEqual({
        code: 4429,
        reason: 'Too many connections: at most 3 WebSockets per user (WS_MAX_CONNECTIONS_PER_USER)',
      });
      // Another user is not affected.
      const other = await fixture.signIn('user_other_sockets');
      const theirs = await openConnection(fixture.server.wsUrl, other.token);
      expect('socket' in theirs).toBe(true);
      if ('socket' in theirs) theirs.socket.close();
      await new Promise<void>((resolve) => {
        sockets[0]!.once('close', () => resolve());
        sockets[0]!.close();
      });
      let again = await openConnection(fixture.server.wsUrl, token);
      for (let i = 0; i < 50 && !('socket' in again); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20)); // the server sees the close a moment later
        again = await openConnection(fixture.server.wsUrl, token);
      }
      expect('socket' in again).toBe(true);
      if ('socket' in again) again.socket.close();
    } finally {
      for (const socket of sockets) socket?.close();
    }
  });

  it('each connection spends a permit of the request budget', async () => {
    const fixture = await api({ RATE_LIMIT_REQUESTS_PER_MINUTE: '10' });
    const { token } = await fixture.signIn('user_socket_budget'); // one permit
    const codes = [];
    for (let i = 0; i < 12; i++) {
      const result = await rawConnect(fixture.server.wsUrl, { authorization: `Bearer ${token}` }, {}, { closeAfterAck: true });
      codes.push(result.acked ? 'acked' : result.code);
    }
    expect(codes).toEqual([...Array.from({ length: 9 }, () => 'acked'), 4429, 4429, 4429]);
    expect(
      dataOf(await execute(fixture.server.url, MeDocument, {}, { token: await fixture.signer.sign({ sub: 'user_not_limited' }) })).me,
    ).toBeDefined();
  });
});
