/**
 * Session tokens: where a request carries one, and whether to believe it. Verification is always
 * `@clerk/backend`'s `verifyToken` (signature, algorithm, exp/nbf/iat with Clerk's clock skew, azp), keyed by
 * CLERK_JWT_KEY (networkless), CLERK_SECRET_KEY (JWKS, cached by Clerk) or, in development only, the local
 * dev key from `npm run token`.
 */
import { verifyToken } from '@clerk/backend';
import { ConfigError, type AuthConfig } from '../config';
import { logger } from '../logger';
import { loadDevKey } from './dev-keys';

export interface SessionClaims {
  clerkId: string;
  email: string | undefined;
  name: string | undefined;
  /** Seconds since the epoch. */
  expiresAt: number;
}

/** A token that is present but not acceptable, or a user that cannot be signed in. */
export class AuthenticationError extends Error {
  override name = 'AuthenticationError';
}

type VerifiedClaims = { sub: string; exp: number; [claim: string]: unknown };

export type TokenVerifier = (token: string) => Promise<SessionClaims>;

/** The token of an `Authorization: Bearer <jwt>` value (any other scheme: none). */
export function bearerToken(authorization: string): string | undefined {
  return /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
}

/** `Authorization: Bearer <jwt>`, else the `__session` cookie Clerk's frontend SDKs set. */
export function tokenFromHeaders(headers: Headers): string | undefined {
  const authorization = headers.get('authorization');
  if (authorization) return bearerToken(authorization);
  const cookie = headers.get('cookie');
  if (!cookie) return undefined;
  for (const part of cookie.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === '__session' && value.length) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

/** Fails fast (before any database work at start) when nothing could verify a session token. */
export function assertTokensVerifiable(auth: AuthConfig): void {
  if (!auth.clerkJwtKey && !auth.clerkSecretKey && !auth.devTokens) {
    throw new ConfigError(
      'CLERK_JWT_KEY or CLERK_SECRET_KEY is required when NODE_ENV=production: the server will not serve requests it cannot authenticate (development tokens are never trusted in production)',
    );
  }
}

export async function createTokenVerifier(auth: AuthConfig, dataDir: string): Promise<TokenVerifier> {
  assertTokensVerifiable(auth);
  let keyOptions: { jwtKey: string } | { secretKey: string };
  if (auth.clerkJwtKey) keyOptions = { jwtKey: auth.clerkJwtKey };
  else if (auth.clerkSecretKey) keyOptions = { secretKey: auth.clerkSecretKey };
  else {
    keyOptions = { jwtKey: (await loadDevKey(dataDir)).publicKeyPem };
    logger.warn(
      '!!! DEVELOPMENT AUTH: no CLERK_JWT_KEY or CLERK_SECRET_KEY set, so tokens signed by the local key in ' +
        `${dataDir}/dev-jwt-key.json (npm run token) are trusted. Never run like this in production. !!!`,
    );
  }

  return async (token) => {
    let data: VerifiedClaims;
    try {
      // The package's exported verifyToken throws a TokenVerificationError (expired, bad signature, azp …).
      data = (await verifyToken(token, {
        ...keyOptions,
        ...(auth.authorizedParties.length ? { authorizedParties: auth.authorizedParties } : {}),
      })) as VerifiedClaims;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      logger.info('rejected session token', { reason });
      throw new AuthenticationError(`Invalid session token: ${reason}`);
    }
    return {
      clerkId: data.sub,
      email: optionalString(data.email),
      name: optionalString(data.name),
      expiresAt: data.exp,
    };
  };
}
