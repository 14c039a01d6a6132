/**
 * The one place a request becomes a GraphQL context: find the session token, verify it, map it to the user's
 * row. A token that is present but invalid is refused outright (HTTP 401); a request without one gets
 * `user: null`, and every root field then refuses it with UNAUTHENTICATED (also 401).
 */
import { AuthenticationError, tokenFromHeaders, type TokenVerifier } from '../auth/tokens';
import type { UserResolver } from '../auth/users';
import type { Database } from '../db/client';
import type { Context } from '../schema/context';
import { unauthenticated } from '../schema/errors';
import { createLoaders } from '../schema/loaders';

export interface ContextDependencies {
  db: Database;
  verifyToken: TokenVerifier;
  resolveUser: UserResolver;
}

export function createContextFactory({ db, verifyToken, resolveUser }: ContextDependencies) {
  return async ({ request }: { request: Request }): Promise<Context> => {
    const token = tokenFromHeaders(request.headers);
    if (!token) return { db, user: null, loaders: createLoaders(db) };
    try {
      return { db, user: await resolveUser(await verifyToken(token)), loaders: createLoaders(db) };
    } catch (error) {
      if (error instanceof AuthenticationError) throw unauthenticated(error.message);
      throw error;
    }
  };
}
