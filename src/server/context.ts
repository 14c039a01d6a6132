/**
 * The one place a request becomes a GraphQL context. HTTP (queries, mutations, SSE subscriptions): find the
 * session token, verify it, map it to the user's row; a token that is present but invalid is refused outright
 * (HTTP 401), a request without one gets `user: null` and every root field refuses it (also 401).
 * WebSocket: the connection was authenticated once at connect (src/server/websocket.ts) and passes its user.
 */
import { AuthenticationError, tokenFromHeaders, type TokenVerifier } from '../auth/tokens';
import type { AuthUser, UserResolver } from '../auth/users';
import type { Database } from '../db/client';
import type { EventSource } from '../db/events';
import type { Context } from '../schema/context';
import { unauthenticated } from '../schema/errors';
import { createLoaders } from '../schema/loaders';

export interface ContextDependencies {
  db: Database;
  events: EventSource;
  verifyToken: TokenVerifier;
  resolveUser: UserResolver;
}

/** What yoga hands the factory: the HTTP request, or for a WebSocket operation the connection's user. */
export interface InitialContext {
  request?: Request;
  connectionUser?: AuthUser;
}

export function createContextFactory({ db, events, verifyToken, resolveUser }: ContextDependencies) {
  const build = (user: AuthUser | null): Context => ({ db, user, loaders: createLoaders(db), events });
  return async ({ request, connectionUser }: InitialContext): Promise<Context> => {
    if (connectionUser) return build(connectionUser);
    const token = request ? tokenFromHeaders(request.headers) : undefined;
    if (!token) return build(null);
    try {
      return build(await resolveUser(await verifyToken(token)));
    } catch (error) {
      if (error instanceof AuthenticationError) throw unauthenticated(error.message);
      throw error;
    }
  };
}
