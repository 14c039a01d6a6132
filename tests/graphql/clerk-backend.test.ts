/**
 * Verification through Clerk's JWKS (CLERK_SECRET_KEY), against a local Clerk-compatible Backend API at
 * CLERK_API_URL: the signing keys are fetched with the secret key, once, and tokens naming keys Clerk does not
 * have cannot make the server call Clerk again and again (the cooldown after a fetch, one fetch at a time, a
 * pause after a failure). Profiles of users whose tokens carry no email come from the same API, and so does the
 * answer to whether the holder of an email a new user signs in with still exists.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPair } from 'jose';
import { MeDocument } from './generated/graphql';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { createRun } from '../helpers/fixtures';
import { codesOf, dataOf, execute } from '../helpers/graphql';
import { startTestServer, type TestServer } from '../helpers/server';
import { createSigner, signWith, TEST_ISSUER, type TestSigner } from '../helpers/tokens';

const SECRET = 'sk_test_local_clerk';

/** A Backend API with the two endpoints this server uses, recording every call. */
interface FakeClerk {
  url: string;
  calls: Array<{ path: string; authorization: string | undefined }>;
  failing: boolean;
  /** Users this Clerk no longer has (deleted): their lookups answer 404. */
  gone: Set<string>;
  close(): Promise<void>;
}

async function startClerk(signer: TestSigner): Promise<FakeClerk> {
  const clerk: FakeClerk = { url: '', calls: [], failing: false, gone: new Set(), close: () => Promise.resolve() };
  const server = http.createServer((req, res) => {
    clerk.calls.push({ path: req.url ?? '', authorization: req.headers.authorization });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${SECRET}`) return send(401, { errors: [{ code: 'authentication_invalid' }] });
    if (clerk.failing) return send(503, { errors: [{ code: 'unavailable' }] });
    if (req.url === '/v1/jwks') return send(200, { keys: [signer.publicJwk] });
    const user = /^\/v1\/users\/([\w-]+)$/.exec(req.url ?? '')?.[1];
    if (user && !clerk.gone.has(user)) {
      return send(200, {
        object: 'user',
        id: user,
        first_name: 'Grace',
        last_name: 'Hopper',
        primary_email_address_id: 'idn_1',
        email_addresses: [{ id: 'idn_1', email_address: `${user}@clerk.example`, linked_to: [] }],
      });
    }
    send(404, { errors: [{ code: 'resource_not_found' }] });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  clerk.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  clerk.close = () => new Promise((resolve) => server.close(() => resolve()));
  return clerk;
}

let db: TestDatabase;
let signer: TestSigner;
let clerk: FakeClerk;
const servers: TestServer[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  signer = await createSigner();
  clerk = await startClerk(signer);
});
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await clerk.close();
  await db.drop();
});

async function server(): Promise<TestServer> {
  const started = await startTestServer(db.url, { CLERK_SECRET_KEY: SECRET, CLERK_API_URL: clerk.url, CLERK_ISSUER: TEST_ISSUER });
  servers.push(started);
  return started;
}

const jwksCalls = () => clerk.calls.filter((call) => call.path === '/v1/jwks').length;

/** A well-formed token signed by a key Clerk does not have, under a kid of the sender's choosing. */
async function strangerToken(kid: string): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256');
  return signWith(privateKey, kid, {});
}

it('verifies a Clerk token with the key from CLERK_API_URL/v1/jwks, fetched once with the secret key', async () => {
  const api = await server();
  const before = jwksCalls();
  for (let i = 0; i < 3; i++) {
    const token = await signer.sign({ sub: `user_jwks_${i}` });
    expect(dataOf(await execute(api.url, MeDocument, {}, { token })).me.email).toBe(`user_jwks_${i}@example.com`);
  }
  expect(jwksCalls() - before).toBe(1);
  expect(clerk.calls.at(-1)).toEqual({ path: '/v1/jwks', authorization: `Bearer ${SECRET}` });
});

it('tokens with unknown kids, sent by anyone, cause no further call to Clerk', async () => {
  const api = await server();
  await execute(api.url, MeDocument, {}, { token: await signer.sign() }); // the keys are loaded
  const before = jwksCalls();
  const tokens = await Promise.all(Array.from({ length: 16 }, (_, i) => strangerToken(`kid-${i}-${Math.random()}`)));
  const concurrent = await Promise.all(tokens.slice(0, 8).map((token) => execute(api.url, MeDocument, {}, { token })));
  const sequential = [];
  for (const token of tokens.slice(8)) sequential.push(await execute(api.url, MeDocument, {}, { token }));
  for (const response of [...concurrent, ...sequential]) {
    expect(response.status).toBe(401);
    expect(codesOf(response)).toEqual(['UNAUTHENTICATED']);
    expect(response.errors![0]!.message).toMatch(/no signing key of this Clerk instance matches/);
  }
  expect(jwksCalls() - before).toBe(0);
});

it('before any key is loaded, concurrent tokens share one fetch', async () => {
  const api = await server();
  const before = jwksCalls();
  const tokens = await Promise.all(Array.from({ length: 8 }, (_, i) => strangerToken(`first-${i}`)));
  const responses = await Promise.all(tokens.map((token) => execute(api.url, MeDocument, {}, { token })));
  expect(responses.every((response) => response.status === 401)).toBe(true);
  expect(jwksCalls() - before).toBe(1);
});

it('while Clerk fails, the server pauses between attempts instead of calling it for every request', async () => {
  clerk.failing = true;
  try {
    const api = await server();
    const before = jwksCalls();
    for (let i = 0; i < 12; i++) {
      const response = await execute(api.url, MeDocument, {}, { token: await signer.sign() });
      expect(response.status).toBe(401);
      expect(response.errors![0]!.message).toMatch(/signing keys are unavailable/);
    }
    expect(jwksCalls() - before).toBe(1);
  } finally {
    clerk.failing = false;
  }
});

it('a token without an email claim: the profile comes from CLERK_API_URL/v1/users/<id>', async () => {
  const api = await server();
  const token = await signer.sign({ sub: 'user_profile_from_clerk', email: null });
  const { me } = dataOf(await execute(api.url, MeDocument, {}, { token }));
  expect(me).toMatchObject({ email: 'user_profile_from_clerk@clerk.example', name: 'Grace Hopper' });
  expect(clerk.calls).toContainEqual({ path: '/v1/users/user_profile_from_clerk', authorization: `Bearer ${SECRET}` });
});

describe('a user re-created in Clerk with the email of an old row', () => {
  /** The old account's row and one run, as a first request left them. */
  async function oldAccount(clerkId: string, email: string) {
    const user = await db.prisma.user.create({ data: { clerkId, email } });
    await createRun(db.prisma, user.id);
    return user;
  }

  it('gets in when Clerk answers 404 for the old user: that row and its data give way', async () => {
    const api = await server();
    const old = await oldAccount('user_recreated_old', 'recreated@clerk.example');
    clerk.gone.add('user_recreated_old');
    const token = await signer.sign({ sub: 'user_recreated_new', email: 'recreated@clerk.example' });
    const { me } = dataOf(await execute(api.url, MeDocument, {}, { token }));
    expect(me.email).toBe('recreated@clerk.example');
    expect(await db.prisma.user.findUnique({ where: { id: old.id } })).toBeNull();
    expect(await db.prisma.run.count({ where: { userId: old.id } })).toBe(0);
    expect(await db.prisma.clerkUserState.findUnique({ where: { clerkId: 'user_recreated_old' } })).toMatchObject({
      deletedAt: expect.any(Date) as Date,
    });
    expect(clerk.calls).toContainEqual({ path: '/v1/users/user_recreated_old', authorization: `Bearer ${SECRET}` });
  });

  it.each([
    ['Clerk still has the old user', false],
    ['Clerk cannot be asked', true],
  ])('stays out when %s: 401, and the old row keeps its data', async (_, failing) => {
    const api = await server();
    const clerkId = `user_holder_${String(failing)}`;
    const email = `holder-${String(failing)}@clerk.example`;
    const old = await oldAccount(clerkId, email);
    await execute(api.url, MeDocument, {}, { token: await signer.sign() }); // the signing keys are loaded
    clerk.failing = failing;
    try {
      const token = await signer.sign({ sub: `user_newcomer_${String(failing)}`, email });
      const response = await execute(api.url, MeDocument, {}, { token });
      expect(response.status).toBe(401);
      expect(response.errors![0]!.message).toBe(`The email ${email} already belongs to another account.`);
    } finally {
      clerk.failing = false;
    }
    expect(await db.prisma.run.count({ where: { userId: old.id } })).toBe(1);
  });
});
