/**
 * Session tokens: whether to believe one. Verification is always
 * `@clerk/backend`'s `verifyToken` (signature, algorithm, exp/nbf/iat with Clerk's clock skew, azp), keyed by
 * CLERK_JWT_KEY (networkless), CLERK_SECRET_KEY (JWKS, cached by Clerk) or, in development only, the local
 * dev key from `npm run token`.
 */
import { verifyToken } from '@clerk/backend';
import { LRUCache } from 'lru-cache';
import { ConfigError, type AuthConfig } from '../config';
import { logger } from '../logger';
import { loadDevKey } from './dev-keys';
import { AuthenticationError } from './errors';

export interface SessionClaims {
  clerkId: string;
  email: string | undefined;
  name: string | undefined;
  /** Clerk's session id (`sid`), when the token carries one. */
  sessionId: string | undefined;
  /** Seconds since the epoch. */
  expiresAt: number;
}

type VerifiedClaims = { sub: string; exp: number; iat?: number; [claim: string]: unknown };

export type TokenVerifier = (token: string) => Promise<SessionClaims>;

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

/**
 * The verifier for this configuration. Created at start, before any database work, so that a server that
 * could not verify a token (production without a Clerk key) refuses to start at once.
 */
export async function createTokenVerifier(auth: AuthConfig, dataDir: string): Promise<TokenVerifier> {
  if (!auth.clerkJwtKey && !auth.clerkSecretKey && !auth.devTokens) {
    throw new ConfigError(
      'CLERK_JWT_KEY or CLERK_SECRET_KEY is required when NODE_ENV=production: the server will not serve requests it cannot authenticate (development tokens are never trusted in production)',
    );
  }
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

  const verified = new VerifiedTokens();
  return async (token) => {
    const known = verified.get(token);
    if (known) return known;
    let data: VerifiedClaims;
    try {
      // The package's exported verifyToken throws a TokenVerificationError (expired, bad signature, azp …).
      data = await verifyToken(token, {
        ...keyOptions,
        ...(auth.authorizedParties.length ? { authorizedParties: auth.authorizedParties } : {}),
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      logger.info('rejected session token', { reason });
      throw new AuthenticationError(`Invalid session token: ${reason}`);
    }
    // Revoked sessions are remembered for the longest lifetime: a token living longer could outlast that memory.
    const lifetime = data.exp - (data.iat ?? Math.floor(Date.now() / 1000));
    if (lifetime > auth.maxTokenLifetimeSeconds) {
      logger.info('rejected session token', { reason: 'lifetime too long', lifetime });
      throw new AuthenticationError(
        `Invalid session token: it is valid for ${lifetime} s, longer than SESSION_TOKEN_MAX_LIFETIME_SECONDS (${auth.maxTokenLifetimeSeconds})`,
      );
    }
    const claims = {
      clerkId: data.sub,
      email: optionalString(data.email),
      name: optionalString(data.name),
      sessionId: optionalString(data.sid),
      expiresAt: data.exp,
    };
    verified.remember(token, claims);
    return claims;
  };
}

/**
 * Tokens already verified, by their exact text: a client sends the same session token with every request
 * until it refreshes it, and an RSA verification costs far more than a lookup. An entry is used only until
 * the token's `exp`, never after (then Clerk's verification decides again), and at most `max` are kept.
 */
export class VerifiedTokens {
  private readonly cache: LRUCache<string, SessionClaims>;

  constructor(
    max = 10_000,
    private readonly now: () => number = Date.now,
  ) {
    this.cache = new LRUCache({ max });
  }

  get(token: string): SessionClaims | undefined {
    const claims = this.cache.get(token);
    if (!claims) return undefined;
    if (claims.expiresAt * 1000 > this.now()) return claims;
    this.cache.delete(token);
    return undefined;
  }

  remember(token: string, claims: SessionClaims): void {
    if (claims.expiresAt * 1000 > this.now()) this.cache.set(token, claims);
  }
}
