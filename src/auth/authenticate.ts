/**
 * The one authentication path, for HTTP, SSE and WebSocket alike: credentials in (a token from the
 * Authorization header, the `__session` cookie Clerk's frontend SDKs set, or graphql-ws `connectionParams`),
 * a signed-in session out, or an AuthenticationError saying why not.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Database } from '../db/client';
import { AuthenticationError } from './errors';
import type { Revocations } from './revocations';
import type { TokenVerifier } from './tokens';
import { clerkUsers, createUserResolver, type AuthUser } from './users';

export { AuthenticationError } from './errors';
export type { AuthUser } from './users';

/** Where a token came from: a cookie is sent by browsers on their own, so it needs origin checks. */
export type TokenSource = 'authorization' | 'cookie' | 'connectionParams';

export interface Credentials {
  token: string;
  source: TokenSource;
}

export interface Session {
  user: AuthUser;
  /** Clerk's session id (`sid`). */
  sessionId: string;
  /** When the token expires, in seconds since the epoch. */
  expiresAt: number;
}

export const SIGN_IN_REQUIRED = 'Sign in required: send a Clerk session token as `Authorization: Bearer <token>`';

/** The token of an `Authorization: Bearer <jwt>` value (any other scheme: none). */
export function bearerToken(authorization: string): string | undefined {
  return /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
}

function sessionCookie(cookie: string | undefined): string | undefined {
  for (const part of cookie?.split(';') ?? []) {
    const [name, ...value] = part.trim().split('=');
    if (name === '__session' && value.length) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

/** Fetch-style headers (yoga's requests, whichever Headers class made them) or Node's IncomingMessage headers. */
type HeaderSource = Pick<Headers, 'get'> | IncomingHttpHeaders;
const header = (headers: HeaderSource, name: string): string | undefined =>
  typeof headers.get === 'function' ? (headers.get(name) ?? undefined) : [(headers as IncomingHttpHeaders)[name]].flat()[0];

/**
 * The credentials a request carries: graphql-ws `connectionParams` (`authorization: "Bearer …"` or `token`),
 * else `Authorization: Bearer`, else the `__session` cookie.
 */
export function credentialsFrom(headers: HeaderSource, connectionParams?: Readonly<Record<string, unknown>>): Credentials | undefined {
  const fromParams = connectionParams?.authorization ?? connectionParams?.Authorization;
  if (typeof fromParams === 'string') {
    const token = bearerToken(fromParams);
    return token ? { token, source: 'connectionParams' } : undefined;
  }
  if (typeof connectionParams?.token === 'string' && connectionParams.token)
    return { token: connectionParams.token, source: 'connectionParams' };
  const authorization = header(headers, 'authorization');
  if (authorization) {
    const token = bearerToken(authorization);
    return token ? { token, source: 'authorization' } : undefined;
  }
  const token = sessionCookie(header(headers, 'cookie'));
  return token ? { token, source: 'cookie' } : undefined;
}

export type Authenticator = (credentials: Credentials | undefined) => Promise<Session>;

export interface AuthenticatorOptions {
  verifyToken: TokenVerifier;
  db: Database;
  /** Clerk's Backend API (secret key and URL): user details when a token carries no email. */
  clerk: { secretKey: string | undefined; apiUrl: string };
  /** Sessions revoked and users deleted in Clerk (started). */
  revocations: Revocations;
}

export const SESSION_REVOKED = 'This session was ended or revoked: sign in again';

export function createAuthenticator({ verifyToken, db, clerk, revocations }: AuthenticatorOptions): Authenticator {
  const resolveUser = createUserResolver({ db, clerk: clerk.secretKey ? clerkUsers(clerk.secretKey, clerk.apiUrl) : undefined });
  // A deleted user's cached row must not outlive the deletion on any instance.
  revocations.onEnded((ended) => {
    if (ended.kind === 'user') resolveUser.forget(ended.clerkId);
  });
  return async (credentials) => {
    if (!credentials) throw new AuthenticationError(SIGN_IN_REQUIRED);
    const claims = await verifyToken(credentials.token);
    if (!revocations.isLoaded) await revocations.ensureLoaded();
    if (revocations.isRevoked(claims.sessionId)) throw new AuthenticationError(SESSION_REVOKED);
    return { user: await resolveUser(claims), sessionId: claims.sessionId, expiresAt: claims.expiresAt };
  };
}
