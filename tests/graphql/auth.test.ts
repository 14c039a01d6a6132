/**
 * Authentication over HTTP: Clerk session tokens verified with CLERK_JWT_KEY (the test's own RSA key), every
 * bad token refused with 401 UNAUTHENTICATED, users created on their first request (an email whose holder Clerk
 * deleted gives way; Clerk's Backend API answering 404 for the holder: tests/graphql/clerk-backend.test.ts).
 */
import os from 'node:os';
import { generateKeyPair } from 'jose';
import { signDevToken } from '../../src/auth/dev-keys';
import { MeDocument } from './generated/graphql';
import { startApi, type ApiFixture } from '../helpers/api';
import type { TestDatabase } from '../helpers/database';
import { codesOf, dataOf, execute } from '../helpers/graphql';
import { startTestServer, type TestServer } from '../helpers/server';
import { signWith, unsignedToken, type TestSigner } from '../helpers/tokens';

const APP_ORIGIN = 'https://app.example.com';
let db: TestDatabase;
let signer: TestSigner;
let server: TestServer;

let api: ApiFixture;

beforeAll(async () => {
  api = await startApi({ CLERK_AUTHORIZED_PARTIES: APP_ORIGIN });
  ({ db, signer, server } = api);
});
afterAll(() => api.close());

const me = (token?: string, headers?: Record<string, string>) => execute(server.url, MeDocument, {}, { token, headers });

async function expectRefused(token: string | undefined, message: RegExp) {
  const before = await db.prisma.user.count();
  const response = await me(token);
  expect(response.status).toBe(401);
  expect(codesOf(response)).toEqual(['UNAUTHENTICATED']);
  expect(response.errors?.[0]?.message).toMatch(message);
  expect(response.data ?? null).toBeNull();
  expect(await db.prisma.user.count()).toBe(before); // nothing was created
}

describe('a valid session token', () => {
  it('signs the user in; the first request creates the user from the token’s email and name claims', async () => {
    const token = await signer.sign({ sub: 'user_first', email: 'first@example.com', name: 'First User', azp: APP_ORIGIN });
    const { me: user } = dataOf(await me(token));
    expect(user).toMatchObject({ email: 'first@example.com', name: 'First User', runCount: 0, starredCardCount: 0 });
    const row = await db.prisma.user.findUniqueOrThrow({ where: { clerkId: 'user_first' } });
    expect(row.id).toBe(user.id);
    // Later requests find the same row.
    expect(dataOf(await me(token)).me.id).toBe(user.id);
  });

  it('is also read from the __session cookie', async () => {
    const token = await signer.sign({ sub: 'user_cookie', azp: APP_ORIGIN });
    const response = await me(undefined, { cookie: `theme=dark; __session=${token}` });
    expect(dataOf(response).me.email).toBe('user_cookie@example.com');
  });

  it('concurrent first requests of one new user create exactly one row', async () => {
    const token = await signer.sign({ sub: 'user_concurrent', azp: APP_ORIGIN });
    const responses = await Promise.all(Array.from({ length: 12 }, () => me(token)));
    const ids = new Set(responses.map((r) => dataOf(r).me.id));
    expect(ids.size).toBe(1);
    expect(await db.prisma.user.count({ where: { clerkId: 'user_concurrent' } })).toBe(1);
  });

  it('concurrent first requests on two server instances still create one row', async () => {
    const second = await startTestServer(db.url, { CLERK_JWT_KEY: signer.publicKeyPem, CLERK_AUTHORIZED_PARTIES: APP_ORIGIN });
    try {
      const token = await signer.sign({ sub: 'user_two_instances', azp: APP_ORIGIN });
      const responses = await Promise.all(
        Array.from({ length: 8 }, (_, i) => execute(i % 2 ? second.url : server.url, MeDocument, {}, { token })),
      );
      expect(new Set(responses.map((r) => dataOf(r).me.id)).size).toBe(1);
      expect(await db.prisma.user.count({ where: { clerkId: 'user_two_instances' } })).toBe(1);
    } finally {
      await second.close();
    }
  });
});

describe('an email that another row holds (no CLERK_SECRET_KEY: only recorded deletions are known)', () => {
  it('a new Clerk user gets in when that row’s user.deleted is recorded: the row gives way', async () => {
    const old = await db.prisma.user.create({ data: { clerkId: 'user_deleted_holder', email: 'reused@example.com' } });
    await db.prisma.clerkUserState.create({ data: { clerkId: 'user_deleted_holder', clerkUpdatedAt: new Date(), deletedAt: new Date() } });
    const token = await signer.sign({ sub: 'user_reuser', email: 'reused@example.com', azp: APP_ORIGIN });
    expect(dataOf(await me(token)).me.email).toBe('reused@example.com');
    expect(await db.prisma.user.findUnique({ where: { id: old.id } })).toBeNull();
  });

  it('otherwise the newcomer is refused and nothing changes', async () => {
    await db.prisma.user.create({ data: { clerkId: 'user_live_holder', email: 'held@example.com' } });
    const token = await signer.sign({ sub: 'user_claimant', email: 'held@example.com', azp: APP_ORIGIN });
    await expectRefused(token, /^The email held@example\.com already belongs to another account\.$/);
    expect(await db.prisma.user.count({ where: { clerkId: 'user_live_holder' } })).toBe(1);
  });
});

describe('refused with HTTP 401 and UNAUTHENTICATED', () => {
  it('no token at all', async () => {
    await expectRefused(undefined, /Sign in required/);
  });

  it('an expired token', async () => {
    await expectRefused(await signer.sign({ expiresIn: -60, issuedAtIn: -400, notBeforeIn: -400, azp: APP_ORIGIN }), /expired/i);
  });

  it('a token that is not valid yet', async () => {
    await expectRefused(await signer.sign({ notBeforeIn: 600, azp: APP_ORIGIN }), /not be used before|before/i);
  });

  it('a token signed by another key', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    await expectRefused(await signWith(privateKey, 'attacker', { azp: APP_ORIGIN }), /signature/i);
  });

  it('an unsigned token (alg: none)', async () => {
    await expectRefused(unsignedToken('user_none'), /Invalid session token/);
  });

  it('a token issued to another application (azp)', async () => {
    await expectRefused(await signer.sign({ azp: 'https://evil.example.com' }), /azp|authorized part/i);
  });

  it('a malformed token', async () => {
    await expectRefused('not-a-jwt', /Invalid session token/);
  });

  it('a token without a session id (sid): no revocation could ever end it', async () => {
    await expectRefused(await signer.sign({ sid: null, azp: APP_ORIGIN }), /no session id \(sid claim\)/);
  });

  it('a token of another Clerk instance (iss other than CLERK_ISSUER)', async () => {
    await expectRefused(await signer.sign({ iss: 'https://clerk.other-app.example', azp: APP_ORIGIN }), /iss|issuer/i);
  });

  it('a token without an email claim when the server cannot ask Clerk, saying what to configure', async () => {
    await expectRefused(await signer.sign({ email: null, azp: APP_ORIGIN }), /Customize session token.*CLERK_SECRET_KEY/s);
  });

  it('a tampered payload', async () => {
    const token = await signer.sign({ sub: 'user_honest', azp: APP_ORIGIN });
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'user_first' })).toString('base64url');
    await expectRefused(`${header}.${forged}.${signature}`, /signature/i);
  });
});

describe('development tokens', () => {
  it('are not trusted when a Clerk key is configured', async () => {
    const token = await signDevToken(os.tmpdir(), { clerkId: 'test_user_123', email: 'test@example.com' });
    await expectRefused(token, /Invalid session token/);
  });
});
