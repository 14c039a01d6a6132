/**
 * What one document may ask for, against a production server: every limit refuses before anything executes
 * (400, QUERY_LIMIT_EXCEEDED naming the limit, not one SQL statement), validation time stays bounded however
 * fragments fan out, and nothing runs without a token, introspection included.
 */
import net from 'node:net';
import { getIntrospectionQuery } from 'graphql';
import WebSocket from 'ws';
import { startApi, type ApiFixture } from '../helpers/api';
import { createCompletedRun } from '../helpers/fixtures';
import { codesOf, dataOf, postQuery } from '../helpers/graphql';
import { startTestServer, type TestServer } from '../helpers/server';
import { TEST_APP_ORIGIN, TEST_ISSUER } from '../helpers/tokens';

let api: ApiFixture;
let production: TestServer;
let token: string;

beforeAll(async () => {
  api = await startApi({ NODE_ENV: 'production' });
  production = api.server;
  token = await api.signer.sign({ sub: 'user_limits' });
  const { me } = dataOf(await postQuery(production.url, '{ me { id } }', { token })) as { me: { id: string } };
  await createCompletedRun(api.db.prisma, me.id);
});
afterAll(() => api.close());

/** `query { __typename ...F0 }` where each fragment spreads the next one `fanOut` times, `levels` deep. */
function fragmentFanOut(levels: number, fanOut = 10): string {
  const fragments = Array.from({ length: levels }, (_, level) =>
    level === levels - 1
      ? `fragment F${level} on Query { __typename }`
      : `fragment F${level} on Query { ${Array.from({ length: fanOut }, () => `...F${level + 1}`).join(' ')} }`,
  );
  return `query { __typename ...F0 }\n${fragments.join('\n')}`;
}

/** Sends a request that must be refused by a limit, and proves no SQL ran for it. */
async function expectLimit(query: string, limit: string, options: Parameters<typeof postQuery>[2] = { token }) {
  production.statements.length = 0;
  const response = await postQuery(production.url, query, options);
  expect(response.status).toBe(400);
  expect(response.data ?? undefined).toBeUndefined();
  expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_LIMIT_EXCEEDED', limit });
  expect(production.statements).toEqual([]);
  return response;
}

describe('bounded validation', () => {
  it.each([8, 12])('refuses a %i-level fragment fan-out at once, while /health keeps answering', async (levels) => {
    const query = fragmentFanOut(levels);
    expect(query.length).toBeLessThan(3_000);
    const started = Date.now();
    const [refused, health] = await Promise.all([
      expectLimit(query, 'cost'),
      // Sent right behind the document: it must not wait for its validation.
      new Promise((resolve) => setTimeout(resolve, 5)).then(() => fetch(`${production.url}/health`)),
    ]);
    // Before the fix, 8 levels took 10-15 s and blocked every other request meanwhile; 12 would take days.
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(health.status).toBe(200);
    expect(refused.errors?.[0]?.message).toMatch(/^Query complexity of \d+ exceeds max complexity of 5000/);
  });
});

describe('each limit', () => {
  const page = 'runs(first: 100) { edges { node { opportunityCards { id } stageOutputs { markdownOutput } } } }';

  it('aliases', async () => {
    const query = `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: me { id }`).join(' ')} }`;
    const response = await expectLimit(query, 'aliases');
    expect(response.errors?.[0]?.message).toBe('Aliases limit of 30 exceeded, found 40.');
    expect(response.errors?.[0]?.extensions).toMatchObject({ max: 30, setting: 'GRAPHQL_MAX_ALIASES' });
  });

  it('200 aliases of a 100-run page (a 200 MB answer before): refused by the token limit', async () => {
    const response = await expectLimit(`{ ${Array.from({ length: 200 }, (_, i) => `a${i}: ${page}`).join(' ')} }`, 'tokens');
    expect(response.errors?.[0]?.message).toBe('Token limit of 2000 exceeded.');
  });

  it('cost: page sizes multiply, whether literal or variables', async () => {
    await expectLimit(`{ a: ${page} b: ${page} c: ${page} d: ${page} }`, 'cost');
    const pageOf = (size: string) => `runs(first: ${size}) { edges { node { opportunityCards { id } stageOutputs { markdownOutput } } } }`;
    const four = `query Four($n: Int) { a: ${pageOf('$n')} b: ${pageOf('$n')} c: ${pageOf('$n')} d: ${pageOf('$n')} }`;
    await expectLimit(four, 'cost', { token, variables: { n: 100 } });
    // The same document with small pages is fine.
    expect((await postQuery(production.url, four, { token, variables: { n: 5 } })).errors).toBeUndefined();
  });

  it('depth: counted in fields, fragments add no level', async () => {
    let inner = 'id';
    for (let i = 0; i < 4; i++) inner = `opportunityCards { run { ${inner} } }`;
    await expectLimit(`{ runs(first: 1) { edges { node { ${inner} } } } }`, 'depth');
  });

  it('tokens: the parser stops counting at the limit', async () => {
    const query = `{ ${Array.from({ length: 1_500 }, () => 'me { id }').join(' ')} }`; // ~6,000 tokens, 15 KB
    const response = await expectLimit(query, 'tokens');
    expect(response.errors?.[0]?.message).toBe('Token limit of 2000 exceeded.');
  });

  it('directives', async () => {
    const directives = Array.from({ length: 25 }, () => '@include(if: true)').join(' ');
    await expectLimit(`{ me { id ${directives} } }`, 'directives');
  });

  it('body size: a 1 MB document is refused (413) before it is parsed, and the client reads the 413', async () => {
    production.statements.length = 0;
    const query = `{ ${Array.from({ length: 60_000 }, (_, i) => `a${i}: __typename`).join(' ')} }`;
    expect(query.length).toBeGreaterThan(1_000_000);
    const res = await fetch(`${production.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    expect(res.status).toBe(413);
    expect(res.headers.get('connection')).toBe('close');
    const body = (await res.json()) as { errors: Array<{ extensions: Record<string, unknown> }> };
    expect(body.errors[0]!.extensions).toMatchObject({ code: 'QUERY_LIMIT_EXCEEDED', limit: 'bodySize', max: 102_400 });
    expect(production.statements).toEqual([]);
    expect((await fetch(`${production.url}/health`)).status).toBe(200);
  });

  /** Sends a POST whose body is `megabytes` MB, as fast as the server reads it; what came back and how it ended. */
  async function sendLargeBody(megabytes: number): Promise<{ response: string; errors: string[]; sentMegabytes: number }> {
    const { hostname, port } = new URL(production.url);
    const socket = net.connect(Number(port), hostname);
    let response = '';
    const errors: string[] = [];
    socket.on('data', (chunk: Buffer) => (response += chunk.toString()));
    socket.on('error', (error: NodeJS.ErrnoException) => errors.push(error.code ?? error.message));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await new Promise((resolve) => socket.once('connect', resolve));
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    socket.write(
      `POST /graphql HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${megabytes * chunk.length}\r\n\r\n`,
    );
    let sentMegabytes = 0;
    for (; sentMegabytes < megabytes && !errors.length && !socket.destroyed; sentMegabytes++) {
      if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve).once('close', resolve));
    }
    socket.end();
    await closed;
    return { response, errors, sentMegabytes };
  }

  it('body size: a client that sends its whole 50 MB body reads the 413 and a closed connection, never a reset', async () => {
    // Had the server closed the socket with the body unread, the client's further writes would be answered by a
    // reset (EPIPE, ECONNRESET) and a client that reads only after sending would lose the 413.
    const { response, errors } = await sendLargeBody(50);
    expect(errors).toEqual([]);
    expect(response).toMatch(/^HTTP\/1\.1 413 /);
    expect(response).toMatch(/\r\nconnection: close\r\n/i);
    expect(response).toContain('"limit":"bodySize"');
  });

  it('body size: the rest of a refused body is discarded only up to 64 MB, then the connection is cut', async () => {
    const { response, sentMegabytes } = await sendLargeBody(200);
    expect(response).toMatch(/^HTTP\/1\.1 413 /);
    expect(sentMegabytes).toBeLessThan(200);
  });

  it('a WebSocket frame over WS_MAX_PAYLOAD_BYTES closes the connection (1009) before it is parsed', async () => {
    const socket = new WebSocket(production.wsUrl, 'graphql-transport-ws');
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { padding: 'x'.repeat(200_000) } }));
    expect(await closed).toBe(1009);
  });

  it.each([
    [
      'one field 1,900 times in a fragment spread 10 times',
      `query Q1 { ${'...F '.repeat(10)}} fragment F on Query { ${'__typename '.repeat(1_900)}}`,
    ],
    ['one field 1,990 times', `{ ${'__typename '.repeat(1_990)}}`],
    ['one field in 330 inline fragments', `{ ${'... on Query { __typename } '.repeat(330)}}`],
    [
      'one field through 11 fragments',
      `{ ${Array.from({ length: 11 }, (_, i) => `...R${i}`).join(' ')} } ${Array.from({ length: 11 }, (_, i) => `fragment R${i} on Query { __typename }`).join(' ')}`,
    ],
  ])('repeated fields (%s): refused before graphql-js compares them pairwise', async (_label, query) => {
    const response = await expectLimit(query, 'repeatedFields');
    expect(response.errors?.[0]?.message).toMatch(/^Field "__typename" is selected \d+ times in one selection set; at most 10$/);
    expect(response.errors?.[0]?.extensions).toMatchObject({ max: 10, setting: 'GRAPHQL_MAX_REPEATED_FIELDS' });
  });

  it('a field repeated a few times through fragments, as clients do, is fine', async () => {
    const query = `{ me { id ...A ...B } } fragment A on User { id email } fragment B on User { id ... on User { id } }`;
    expect((await postQuery(production.url, query, { token })).errors).toBeUndefined();
  });

  it('what a real client asks for stays within every limit', async () => {
    const dashboard = `query Dashboard { me { email runCount starredCardCount runs(first: 20) { totalCount edges { node {
      id companyName status currentStage opportunityCardCount opportunityCards { number title starred } } } } } }`;
    const detail = `query ($id: ID!) { run(id: $id) { id status inspirationReport { inspirations { title content elements } }
      opportunityCards { number title tagline problem solution whyNow targetSegment quickWin starred }
      stageOutputs { stageNumber markdownOutput jsonOutput } } }`;
    expect((await postQuery(production.url, dashboard, { token })).errors).toBeUndefined();
    expect(
      (await postQuery(production.url, detail, { token, variables: { id: '00000000-0000-0000-0000-000000000000' } })).errors,
    ).toBeUndefined();
  });
});

describe('production surface', () => {
  it('nothing is even parsed without a token: 401 before the document is read', async () => {
    production.statements.length = 0;
    for (const query of ['{ __typename }', getIntrospectionQuery(), '{ this is not GraphQL', `{ ${'me { id } '.repeat(1_500)} }`]) {
      const response = await postQuery(production.url, query);
      expect(response.status).toBe(401);
      expect(codesOf(response)).toEqual(['UNAUTHENTICATED']);
      expect(response.data ?? undefined).toBeUndefined();
    }
    // A token that is not valid: the same, without a word about the document.
    const forged = await postQuery(production.url, '{ this is not GraphQL', { token: 'not-a-jwt' });
    expect(forged.status).toBe(401);
    expect(production.statements).toEqual([]);
  });

  it('introspection is off for signed-in users too, and errors suggest no field names', async () => {
    const introspection = await postQuery(production.url, getIntrospectionQuery(), { token });
    expect(introspection.status).toBe(400);
    expect(introspection.errors?.[0]?.message).toMatch(/introspection/i);
    const typo = await postQuery(production.url, '{ me { emial } }', { token });
    expect(typo.status).toBe(400);
    expect(JSON.stringify(typo.errors)).not.toMatch(/Did you mean|"email"/);
  });

  it('GRAPHQL_INTROSPECTION=true turns introspection back on (with a token)', async () => {
    const open = await startTestServer(api.db.url, {
      NODE_ENV: 'production',
      CLERK_JWT_KEY: api.signer.publicKeyPem,
      CLERK_ISSUER: TEST_ISSUER,
      CLERK_AUTHORIZED_PARTIES: TEST_APP_ORIGIN,
      ALLOW_ARBITRARY_DOCUMENTS: 'true',
      GRAPHQL_INTROSPECTION: 'true',
    });
    try {
      const response = await postQuery(open.url, getIntrospectionQuery(), { token });
      expect(response.errors).toBeUndefined();
      expect(response.data).toHaveProperty('__schema');
      expect((await postQuery(open.url, getIntrospectionQuery())).status).toBe(401);
    } finally {
      await open.close();
    }
  });
});
