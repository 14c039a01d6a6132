/**
 * The local development signing key for `npm run token`: an RS256 key pair kept in `<dataDir>/dev-jwt-key.json`
 * (mode 0600), created on first use. The server trusts it only outside production and only when no Clerk
 * key is configured (AuthConfig.devTokens).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { exportPKCS8, exportSPKI, generateKeyPair, importPKCS8, SignJWT } from 'jose';

export const DEV_TOKEN_ISSUER = 'opportunity-api-dev';
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
}

/** A session token shaped like Clerk's (sub, sid, iat, nbf, exp, email/name custom claims), signed by the dev key. */
export async function signDevToken(dataDir: string, claims: DevTokenClaims): Promise<string> {
  const key = await loadDevKey(dataDir);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    ...(claims.email ? { email: claims.email } : {}),
    ...(claims.name ? { name: claims.name } : {}),
    sid: `sess_dev_${now}`,
  })
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
    .setSubject(claims.clerkId)
    .setIssuer(DEV_TOKEN_ISSUER)
    .setIssuedAt(now)
    .setNotBefore(now - 5)
    .setExpirationTime(now + (claims.ttlSeconds ?? 3600))
    .sign(await importPKCS8(key.privateKeyPem, 'RS256'));
}
