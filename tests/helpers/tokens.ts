/**
 * Clerk-shaped session tokens signed with the test's own RSA key (jose). The server under test is given the
 * public half as CLERK_JWT_KEY, exactly as production is given Clerk's.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { signSessionToken } from '../../src/auth/dev-keys';

/** The issuer of the test signer's tokens: production test servers are given it as CLERK_ISSUER. */
export const TEST_ISSUER = 'https://clerk.example.test';
/** The frontend origin the test signer's tokens are issued to (azp): production test servers accept it. */
export const TEST_APP_ORIGIN = 'https://app.example.test';

export interface TestSigner {
  /** PEM for CLERK_JWT_KEY. */
  publicKeyPem: string;
  /** The same public key as a JWK with its kid, as a JWKS endpoint serves it. */
  publicJwk: JWK;
  sign(claims?: TokenClaims): Promise<string>;
}

export interface TokenClaims {
  sub?: string;
  email?: string | null;
  name?: string;
  /** Default TEST_APP_ORIGIN; null: none. */
  azp?: string | null;
  /** Clerk's session id; default a new one per token; null: none. */
  sid?: string | null;
  /** Default TEST_ISSUER. */
  iss?: string;
  /** Seconds relative to now. */
  expiresIn?: number;
  notBeforeIn?: number;
  issuedAtIn?: number;
}

export async function createSigner(): Promise<TestSigner> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = `test-${randomUUID()}`;
  return {
    publicKeyPem: await exportSPKI(publicKey),
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
    sign: (claims = {}) => signWith(privateKey, kid, claims),
  };
}

/** A Clerk-shaped token signed by `privateKey`, through the project's one signer (src/auth/dev-keys.ts). */
export function signWith(privateKey: CryptoKey, kid: string, claims: TokenClaims): Promise<string> {
  const sub = claims.sub ?? `user_${randomUUID().slice(0, 12)}`;
  const email = claims.email === undefined ? `${sub}@example.com` : (claims.email ?? undefined);
  return signSessionToken(privateKey, kid, {
    sub,
    email,
    name: claims.name,
    azp: claims.azp === null ? undefined : (claims.azp ?? TEST_APP_ORIGIN),
    sid: claims.sid,
    issuer: claims.iss ?? TEST_ISSUER,
    expiresIn: claims.expiresIn ?? 300,
    notBeforeIn: claims.notBeforeIn,
    issuedAtIn: claims.issuedAtIn,
  });
}

/** An unsigned token (`alg: none`), which must never be accepted. */
export function unsignedToken(sub: string): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub, email: `${sub}@example.com`, iat: now, nbf: now - 5, exp: now + 300 })}.`;
}
