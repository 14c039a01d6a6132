/**
 * The local development signing key for `npm run token`: an RS256 key pair kept in `<dataDir>/dev-jwt-key.json`
 * (mode 0600), created on first use. The server trusts it only outside production and only when no Clerk
 * key is configured (AuthConfig.devTokens).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { exportPKCS8, exportSPKI, generateKeyPair, importPKCS8, SignJWT, type CryptoKey } from 'jose';

export const DEV_TOKEN_ISSUER = 'opportunity-api-dev';

/** The development user: the seed creates it (src/tooling/seed.ts), GraphiQL signs in as it. */
export const SEED_USER = { clerkId: 'test_user_123', email: 'test@example.com', name: 'Test User' } as const;
const DEV_KEY_ID = 'opportunity-api-dev-key';

interface StoredKey {
  kid: string;
  publicKeyPem: string;
  privateKeyPem: string;
}

export async function loadDevKey(dataDir: string): Promise<StoredKey> {
  const file = path.join(dataDir, 'dev-jwt-key.json');
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as StoredKey;
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const stored: StoredKey = {
    kid: DEV_KEY_ID,
    publicKeyPem: await exportSPKI(publicKey),
    privateKeyPem: await exportPKCS8(privateKey),
  };
  await mkdir(dataDir, { recursive: true });
  // `wx`: when two processes create it at once, the second reads the first one's key.
  try {
    await writeFile(file, JSON.stringify(stored, null, 2), { mode: 0o600, flag: 'wx' });
  } catch {
    return JSON.parse(await readFile(file, 'utf8')) as StoredKey;
  }
  return stored;
}

export interface DevTokenClaims {
  clerkId: string;
  email?: string;
  name?: string;
  /** Lifetime in seconds (default one hour). */
  ttlSeconds?: number;
  /** Session id (`sid`); default a new one. */
  sessionId?: string;
}

export interface SessionTokenClaims {
  /** The Clerk user id. */
  sub: string;
  email?: string;
  name?: string;
  /** Authorized party (the frontend origin). */
  azp?: string;
  /** Clerk's session id; default a new one; null: none (a token Clerk would never issue, for tests). */
  sid?: string | null;
  issuer?: string;
  /** Seconds from now (default one hour). */
  expiresIn?: number;
  notBeforeIn?: number;
  issuedAtIn?: number;
}

/**
 * A session token shaped like Clerk's (sub, sid, iat, nbf, exp, optional email/name/azp), RS256-signed with
 * `privateKey`: what the development key, the tests and the benchmarks all sign with.
 */
export function signSessionToken(privateKey: CryptoKey, kid: string, claims: SessionTokenClaims): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    ...(claims.email ? { email: claims.email } : {}),
    ...(claims.name ? { name: claims.name } : {}),
    ...(claims.azp ? { azp: claims.azp } : {}),
    ...(claims.sid === null ? {} : { sid: claims.sid ?? `sess_${randomUUID().slice(0, 12)}` }),
  })
    .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuer(claims.issuer ?? DEV_TOKEN_ISSUER)
    .setIssuedAt(now + (claims.issuedAtIn ?? 0))
    .setNotBefore(now + (claims.notBeforeIn ?? -5))
    .setExpirationTime(now + (claims.expiresIn ?? 3600))
    .sign(privateKey);
}

/** A development session token signed by the local key. */
export async function signDevToken(dataDir: string, claims: DevTokenClaims): Promise<string> {
  const key = await loadDevKey(dataDir);
  return signSessionToken(await importPKCS8(key.privateKeyPem, 'RS256'), key.kid, {
    sub: claims.clerkId,
    email: claims.email,
    name: claims.name,
    expiresIn: claims.ttlSeconds ?? 3600,
    sid: claims.sessionId,
  });
}
