/** The GraphQL endpoint itself: masked errors in production, GraphiQL outside it, schema.graphql in sync. */
import { MeDocument, RunsDocument } from './generated/graphql';
import { printSchemaSDL } from '../../src/schema';
import { runScript } from '../helpers/cli';
import { startApi, type ApiFixture } from '../helpers/api';
import type { TestDatabase } from '../helpers/database';
import { codesOf, execute } from '../helpers/graphql';
import { startTestServer, type TestServer } from '../helpers/server';
import type { TestSigner } from '../helpers/tokens';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

let db: TestDatabase;
let signer: TestSigner;
let production: TestServer;
let development: TestServer;

let api: ApiFixture;

beforeAll(async () => {
  api = await startApi({ NODE_ENV: 'production' });
  ({ db, signer, server: production } = api);
  development = await startTestServer(db.url, { NODE_ENV: 'development', CLERK_JWT_KEY: signer.publicKeyPem });
});
afterAll(async () => {
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
  const page = (url: string) => fetch(`${url}/graphql`, { headers: { accept: 'text/html' } });

  it('is served outside production, bundled (no CDN), opening with an example query and how to get a token', async () => {
    const res = await page(development.url);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('npm run token');
    expect(html).toContain('query Dashboard');
    expect(html).not.toMatch(/unpkg\.com|jsdelivr|cdn\./);
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
