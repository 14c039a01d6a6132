/**
 * The one GraphQL context factory, for HTTP, SSE and WebSocket alike. yoga calls it with the HTTP request;
 * graphql-ws operations reach it through `getEnveloped` with the connection's context spread in, whose
 * `extra.session` was authenticated once at connect (src/server/websocket.ts). No context is built without a
 * signed-in user (401), and every operation spends one permit of the user's request budget.
 */
import type { GraphQLParams } from 'graphql-yoga';
import { credentialsFrom, type Authenticator, type Session } from '../auth/authenticate';
import type { Revocations } from '../auth/revocations';
import type { Database } from '../db/client';
import type { EventSource } from '../db/events';
import type { UserQuotas } from '../db/rate-limits';
import type { Context } from '../schema/context';
import { toGraphQLError, unauthenticated } from '../schema/errors';
import type { DocumentUrlChecker } from '../schema/document-url';
import type { SharedReads } from '../schema/shared-reads';

export interface ContextDependencies {
  db: Database;
  events: EventSource;
  authenticate: Authenticator;
  revocations: Revocations;
  quotas: UserQuotas;
  sharedReads: SharedReads;
  documentUrls: DocumentUrlChecker;
  maxRetriesPerRun: number;
  maxSubscriptionsPerUser: number;
}

/** What graphql-ws keeps per connection (`ctx.extra`), beside its socket and upgrade request. */
export interface ConnectionExtra {
  session?: Session;
  /** Prefix of the request ids of this connection's operations. */
  connectionId?: string;
}

/** What the factory receives: yoga's initial context (request, params), plus graphql-ws's for a WebSocket. */
export interface InitialContext {
  request?: Request;
  params?: GraphQLParams;
  extra?: ConnectionExtra;
}

export function createContextFactory({
  db,
  events,
  authenticate,
  revocations,
  quotas,
  sharedReads,
  documentUrls,
  maxRetriesPerRun,
  maxSubscriptionsPerUser,
}: ContextDependencies) {
  const signIn = async ({ request, extra }: InitialContext): Promise<Session> => {
    if (extra?.session) return extra.session;
    if (!request) throw unauthenticated();
    return authenticate(credentialsFrom(request.headers));
  };
  return async (initial: InitialContext): Promise<Context> => {
    try {
      const { user, sessionId } = await signIn(initial);
      await quotas.request(user.id);
      return { db, user, sessionId, events, revocations, sharedReads, quotas, documentUrls, maxRetriesPerRun, maxSubscriptionsPerUser };
    } catch (error) {
      throw toGraphQLError(error);
    }
  };
}
