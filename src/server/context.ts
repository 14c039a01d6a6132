/**
 * The one place a request becomes a GraphQL context. HTTP (queries, mutations, SSE subscriptions): find the
 * session token, verify it, map it to the user's row; a request without a valid token is refused outright
 * (HTTP 401) before anything executes. WebSocket: the connection was authenticated once at connect
 * (src/server/websocket.ts) and passes its user. Every operation then spends one permit of the user's
 * request budget.
 */
import { AuthenticationError, tokenFromHeaders, type TokenVerifier } from '../auth/tokens';
import type { AuthUser, UserResolver } from '../auth/users';
import type { Database } from '../db/client';
import type { EventSource } from '../db/events';
import type { UserQuotas } from '../db/rate-limits';
import type { Context } from '../schema/context';
import { toGraphQLError, unauthenticated } from '../schema/errors';
import { createLoaders } from '../schema/loaders';

export interface ContextDependencies {
  db: Database;
  events: EventSource;
  verifyToken: TokenVerifier;
  resolveUser: UserResolver;
  quotas: UserQuotas;
  maxSubscriptionsPerUser: number;
}

/** What yoga hands the factory: the HTTP request, or for a WebSocket operation the connection's user. */
export interface InitialContext {
  request?: Request;
  connectionUser?: AuthUser;
}

export function createContextFactory({ db, events, verifyToken, resolveUser, quotas, maxSubscriptionsPerUser }: ContextDependencies) {
  const authenticate = async ({ request, connectionUser }: InitialContext): Promise<AuthUser> => {
    if (connectionUser) return connectionUser;
    const token = request ? tokenFromHeaders(request.headers) : undefined;
    if (!token) throw unauthenticated();
    try {
      return await resolveUser(await verifyToken(token));
    } catch (error) {
      if (error instanceof AuthenticationError) throw unauthenticated(error.message);
      throw error;
    }
  };
  return async (initial: InitialContext): Promise<Context> => {
    const user = await authenticate(initial);
    try {
      await quotas.request(user.id);
    } catch (error) {
      throw toGraphQLError(error);
    }
    return { db, user, loaders: createLoaders(db), events, quotas, maxSubscriptionsPerUser };
  };
}
