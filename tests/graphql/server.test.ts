/** The GraphQL endpoint itself: masked errors in production, GraphiQL outside it, schema.graphql in sync. */
import { MeDocument, RunsDocument } from './generated/graphql';
import { printSchemaSDL } from '../../src/schema';
import { runScript } from '../helpers/cli';
import { startApi, type ApiFixture } from '../helpers/api';
import type { TestDatabase } from '../helpers/database';
import { codesOf, execute, postQuery } from '../helpers/graphql';
import { startTestServer, type TestServer } from '../helpers/server';
import type { TestSigner } from '../helpers/tokens';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import zlib from 'node:zlib';
import path from 'node:path';

let db: TestDatabase;
let signer: TestSigner;
let production: TestServer;
let development: TestServer;
let devTokens: TestServer;

let api: ApiFixture;

beforeAll(async () => {
  api = await startApi({ NODE_ENV: 'production' });
  ({ db, signer, server: production } = api);
  development = await startTestServer(db.url, { NODE_ENV: 'development', CLERK_JWT_KEY: signer.publicKeyPem });
  devTokens = await startTestServer(db.url, { NODE_ENV: 'development' });
});
afterAll(async () => {
  await devTokens.close();
  await development.close();
  await api.close();
});

describe('an unexpected failure (the Run table is missing)', () => {
  let token: string;
  beforeAll(async () => {
    token = await signer.sign({ sub: 'user_masked' });
    await execute(production.url, MeDocument, {}, { token }); // creates the user first
    await db.sql.query('ALTER TABLE "Run" RENAME TO "Run_hidden"');
  });
  afterAll(async () => {
    await db.sql.query('ALTER TABLE "Run_hidden" RENAME TO "Run"');
  });

  it('in production: INTERNAL_SERVER_ERROR with no message, stack, SQL or Prisma detail', async () => {
    const response = await execute(production.url, RunsDocument, { first: 2 }, { token });
    expect(codesOf(response)).toEqual(['INTERNAL_SERVER_ERROR']);
    expect(response.errors![0]!.message).toBe('Internal server error');
    const body = JSON.stringify(response);
    for (const leak of ['stack', 'Run_hidden', '"public"', 'SELECT', 'prisma', 'Prisma', 'P2021', ' at ', 'does not exist']) {
      expect(body).not.toContain(leak);
    }
  });

  it('in development: the same code, with the real message to debug by', async () => {
    const response = await execute(development.url, RunsDocument, { first: 2 }, { token });
    expect(codesOf(response)).toEqual(['INTERNAL_SERVER_ERROR']);
    expect(response.errors![0]!.message).toMatch(/Run/);
  });
});

it('client errors keep their code and message in production', async () => {
  const response = await execute(production.url, MeDocument, {}, { token: 'garbage' });
  expect(response.status).toBe(401);
  expect(codesOf(response)).toEqual(['UNAUTHENTICATED']);
  expect(response.errors![0]!.message).toMatch(/^Invalid session token/);
});

describe('GraphiQL', () => {
  const page = (url: string, headers: Record<string, string> = {}) =>
    fetch(`${url}/graphql`, { headers: { accept: 'text/html', ...headers } });
  /** The response as sent: fetch would decompress it. */
  const raw = (url: string, acceptEncoding: string) =>
    new Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      http
        .get(`${url}/graphql`, { headers: { accept: 'text/html', 'accept-encoding': acceptEncoding } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        })
        .on('error', reject);
    });
  const bearerIn = (html: string) => /"Authorization\\?": ?\\?"Bearer ([\w.-]+)/.exec(html)?.[1];

  it('with development tokens: opens signed in as the seed user, on the watch / start / dashboard tabs, bundled (no CDN)', async () => {
    const html = await (await page(devTokens.url)).text();
    expect(html).toContain('subscription WatchMyRuns');
    expect(html).toContain('mutation StartRun');
    expect(html).toContain('mutation CancelRun');
    expect(html).toContain('query Dashboard');
    expect(html).not.toMatch(/unpkg\.com|jsdelivr|cdn\./);
    const token = bearerIn(html);
    expect(token).toBeDefined();
    // The same token for the first tab's headers, every default tab and new tabs.
    expect(html.split(token!).length - 1).toBeGreaterThanOrEqual(5);
    const me = await postQuery(devTokens.url, '{ me { email } }', { token });
    expect(me.data).toEqual({ me: { email: 'test@example.com' } });
  });

  it('without development tokens (Clerk keys configured): no token on the page, a hint how to sign in', async () => {
    const html = await (await page(development.url)).text();
    expect(html).toContain('subscription WatchMyRuns');
    expect(html).toContain('Sign in first');
    expect(bearerIn(html)).toBeUndefined();
  });

  it('is sent compressed (Brotli, else gzip) to clients that accept it, and whole to those that do not', async () => {
    const plain = await raw(devTokens.url, 'identity');
    expect(plain.headers['content-encoding']).toBeUndefined();
    const brotli = await raw(devTokens.url, 'gzip, deflate, br');
    expect(brotli.headers['content-encoding']).toBe('br');
    expect(brotli.headers.vary).toMatch(/accept-encoding/i);
    expect(brotli.body.length).toBeLessThan(plain.body.length / 3);
    expect(zlib.brotliDecompressSync(brotli.body).equals(plain.body)).toBe(true);
    const gzip = await raw(devTokens.url, 'gzip');
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(gzip.body).equals(plain.body)).toBe(true);
  });

  it('is not served in production', async () => {
    const res = await page(production.url);
    expect(res.headers.get('content-type') ?? '').not.toContain('text/html');
  });
});

describe('schema.graphql', () => {
  it('is exactly the schema the server builds', async () => {
    expect(await readFile(path.resolve(__dirname, '../../schema.graphql'), 'utf8')).toBe(printSchemaSDL());
  });

  it('npm run schema:check passes', async () => {
    const result = await runScript('scripts/schema.ts', ['check'], {});
    expect(result.stdout).toContain('schema.graphql is up to date');
    expect(result.code).toBe(0);
  });
});

describe('query depth limit', () => {
  const post = async (query: string, token: string) => {
    const res = await fetch(`${development.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query }),
    });
    return {
      status: res.status,
      body: (await res.json()) as { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> },
    };
  };
  // runs → edges → node → opportunityCards → run → … : each hop adds levels.
  const nested = (hops: number) => {
    let inner = 'id';
    for (let i = 0; i < hops; i++) inner = `opportunityCards { run { ${inner} } }`;
    return `query Deep { runs(first: 2) { edges { node { ${inner} } } } }`;
  };

  it('refuses an operation nested deeper than 10 levels before running it, naming the limit', async () => {
    const token = await signer.sign({ sub: 'user_depth' });
    const { status, body } = await post(nested(4), token); // 3 + 4×2 + 1 = 12 levels
    expect(status).toBe(400);
    expect(body.data).toBeUndefined();
    expect(body.errors![0]!.message).toBe('Query depth limit of 10 exceeded, found 12.');
    expect(body.errors![0]!.extensions).toMatchObject({
      code: 'QUERY_LIMIT_EXCEEDED',
      limit: 'depth',
      max: 10,
      setting: 'GRAPHQL_MAX_DEPTH',
    });
  });

  it('counts levels inside fragments, and allows what a real client needs', async () => {
    const token = await signer.sign({ sub: 'user_depth' });
    expect((await post(nested(3), token)).body.errors).toBeUndefined(); // 10 levels
    const viaFragment = `query Frag { runs { edges { node { ...Cards } } } }
      fragment Cards on Run { opportunityCards { run { opportunityCards { run { opportunityCards { run { opportunityCards { id } } } } } } } }`;
    expect((await post(viaFragment, token)).body.errors?.[0]?.message).toBe('Query depth limit of 10 exceeded, found 11.');
  });

  it('leaves introspection alone outside production (GraphiQL and codegen rely on it)', async () => {
    const { getIntrospectionQuery } = await import('graphql');
    const token = await signer.sign({ sub: 'user_depth' });
    const { body } = await post(getIntrospectionQuery(), token);
    expect(body.errors).toBeUndefined();
  });
});
