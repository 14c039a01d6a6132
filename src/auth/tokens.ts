/**
 * Session tokens: whether to believe one. Verification is always `@clerk/backend`'s `verifyToken` (signature,
 * algorithm, exp/nbf/iat with Clerk's clock skew, azp, iss), with the key from CLERK_JWT_KEY (networkless),
 * from Clerk's JWKS (CLERK_SECRET_KEY; see `clerkSigningKeys`) or, in development only, the local dev key of
 * `npm run token`. Beyond Clerk's checks: a session id (`sid`) is required, so that ending the session in Clerk
 * can end its tokens here, and a lifetime no longer than revoked sessions are remembered.
 */
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { verifyToken } from '@clerk/backend';
import { createRemoteJWKSet, decodeProtectedHeader, errors as joseErrors, type JWK } from 'jose';
import { LRUCache } from 'lru-cache';
import { ConfigError, type AuthConfig } from '../config';
import { logger } from '../logger';
import { DEV_TOKEN_ISSUER, loadDevKey } from './dev-keys';
import { AuthenticationError } from './errors';

export interface SessionClaims {
  clerkId: string;
  email: string | undefined;
  name: string | undefined;
  /** Clerk's session id (`sid`): every accepted token has one. */
  sessionId: string;
  /** Seconds since the epoch. */
  expiresAt: number;
}

type VerifiedClaims = { sub: string; exp: number; iat?: number; [claim: string]: unknown };

export interface TokenVerifier {
  (token: string): Promise<SessionClaims>;
  /** The claims of a token verified before and still valid, without verifying it again; else undefined. */
  known(token: string): SessionClaims | undefined;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

/** After a successful JWKS fetch, a token naming an unknown key causes no new fetch for this long. */
const JWKS_COOLDOWN_MS = 30_000;
/** Keys are refetched at most this old (Clerk rotates keys rarely, and announces it). */
const JWKS_MAX_AGE_MS = 10 * 60_000;
/** After a failed fetch (Clerk unreachable, a bad secret key), none for this long. */
const JWKS_FAILURE_BACKOFF_MS = 5_000;
const JWKS_TIMEOUT_MS = 5_000;

/**
 * The PEM key a token was signed with, from Clerk's JWKS (`<CLERK_API_URL>/v1/jwks`, authorised by the secret
 * key). Clerk's own remote loading fetches the JWKS again for every token whose `kid` it does not know, so
 * anyone could make this server call Clerk with its secret key on every request, and spend the instance's
 * Clerk rate limit. jose's remote key set fetches once at a time, and after a success not again for
 * JWKS_COOLDOWN_MS however many unknown kids arrive; a failed fetch is followed by none for
 * JWKS_FAILURE_BACKOFF_MS. A new key of Clerk's is picked up at the first token signed with it once the
 * cooldown has passed.
 */
function clerkSigningKeys(apiUrl: string, secretKey: string): (token: string) => Promise<string> {
  const remote = createRemoteJWKSet(new URL(`${apiUrl}/v1/jwks`), {
    headers: { authorization: `Bearer ${secretKey}` },
    cooldownDuration: JWKS_COOLDOWN_MS,
    cacheMaxAge: JWKS_MAX_AGE_MS,
    timeoutDuration: JWKS_TIMEOUT_MS,
  });
  let failedAt = Number.NEGATIVE_INFINITY;
  const pems = new Map<string, string>(); // by the JWK's own text: Clerk's few keys, never a token's
  return async (token) => {
    const header = decodeProtectedHeader(token);
    if (typeof header.kid !== 'string') throw new Error('the token names no signing key (kid)');
    // Not fresh: the next call fetches. Right after a failure, fail fast instead.
    if (!remote.fresh && Date.now() - failedAt < JWKS_FAILURE_BACKOFF_MS) throw new Error("Clerk's signing keys are unavailable");
    try {
      await remote(header);
    } catch (error) {
      if (error instanceof joseErrors.JWKSNoMatchingKey) {
        throw new Error("no signing key of this Clerk instance matches the token's kid", { cause: error });
      }
      failedAt = Date.now();
      logger.error("could not fetch Clerk's signing keys (JWKS)", { err: error });
      throw new Error("Clerk's signing keys are unavailable", { cause: error });
    }
    const jwk = (remote.jwks()?.keys ?? []).find((key: JWK) => key.kid === header.kid)!;
    const text = JSON.stringify(jwk);
    let pem = pems.get(text);
    if (!pem) {
      pem = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
        .export({ type: 'spki', format: 'pem' })
        .toString();
      pems.set(text, pem);
    }
    return pem;
  };
}

/** Where this configuration's verification key comes from, and the issuer its tokens must name. */
async function keySource(auth: AuthConfig, dataDir: string) {
  if (auth.clerkJwtKey) return { keyFor: () => Promise.resolve(auth.clerkJwtKey!), issuer: auth.issuer };
  if (auth.clerkSecretKey) return { keyFor: clerkSigningKeys(auth.clerkApiUrl, auth.clerkSecretKey), issuer: auth.issuer };
  const devKey = (await loadDevKey(dataDir)).publicKeyPem;
  logger.warn(
    '!!! DEVELOPMENT AUTH: no CLERK_JWT_KEY or CLERK_SECRET_KEY set, so tokens signed by the local key in ' +
      `${dataDir}/dev-jwt-key.json (npm run token) are trusted. Never run like this in production. !!!`,
  );
  return { keyFor: () => Promise.resolve(devKey), issuer: DEV_TOKEN_ISSUER };
}

/**
 * The verifier for this configuration. Created at start, before any database work, so that a server that
 * could not verify a token (production without a Clerk key or issuer) refuses to start at once.
 */
export async function createTokenVerifier(auth: AuthConfig, dataDir: string): Promise<TokenVerifier> {
  if (!auth.clerkJwtKey && !auth.clerkSecretKey && !auth.devTokens) {
    throw new ConfigError(
      'CLERK_JWT_KEY or CLERK_SECRET_KEY is required when NODE_ENV=production: the server will not serve requests it cannot authenticate (development tokens are never trusted in production)',
    );
  }
  if (auth.issuerRequired && !auth.issuer) {
    throw new ConfigError(
      'CLERK_ISSUER is required when NODE_ENV=production: set it to your Clerk Frontend API URL (the iss of your session tokens, e.g. https://clerk.your-domain.com), so that tokens of another Clerk instance are refused',
    );
  }
  if (auth.authorizedPartiesRequired && !auth.authorizedParties.length) {
    throw new ConfigError(
      "CLERK_AUTHORIZED_PARTIES is required when NODE_ENV=production: your frontends' origins (e.g. https://app.example.com), checked against each token's azp so a token issued to another site is refused; set CLERK_AUTHORIZED_PARTIES_OPT_OUT=true only if no browser ever sends this server a token",
    );
  }
  const { keyFor, issuer } = await keySource(auth, dataDir);
  const refuse = (reason: string, fields: Record<string, unknown> = {}): never => {
    logger.info('rejected session token', { reason, ...fields });
    throw new AuthenticationError(`Invalid session token: ${reason}`);
  };

  const verified = new VerifiedTokens();
  const verify = async (token: string): Promise<SessionClaims> => {
    const known = verified.get(token);
    if (known) return known;
    let data: VerifiedClaims;
    try {
      // The package's exported verifyToken throws a TokenVerificationError (expired, bad signature, azp, iss …).
      data = await verifyToken(token, {
        jwtKey: await keyFor(token),
        ...(issuer ? { issuer } : {}),
        ...(auth.authorizedParties.length ? { authorizedParties: auth.authorizedParties } : {}),
      });
    } catch (error) {
      return refuse(error instanceof Error ? error.message : String(error));
    }
    // Revoked sessions are remembered for the longest lifetime: a token living longer could outlast that memory.
    const lifetime = data.exp - (data.iat ?? Math.floor(Date.now() / 1000));
    if (lifetime > auth.maxTokenLifetimeSeconds) {
      refuse(`it is valid for ${lifetime} s, longer than SESSION_TOKEN_MAX_LIFETIME_SECONDS (${auth.maxTokenLifetimeSeconds})`);
    }
    const sessionId = optionalString(data.sid) ?? refuse('it has no session id (sid claim), so ending its session could not end it');
    const claims = {
      clerkId: data.sub,
      email: optionalString(data.email),
      name: optionalString(data.name),
      sessionId,
      expiresAt: data.exp,
    };
    verified.remember(token, claims);
    return claims;
  };
  return Object.assign(verify, { known: (token: string) => verified.get(token) });
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
