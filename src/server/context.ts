/**
 * The one GraphQL context factory, for HTTP, SSE and WebSocket alike. yoga calls it with the HTTP request and
 * the session its admission hook signed in; graphql-ws operations reach it through `getEnveloped` with the
 * connection's context spread in, whose `extra.session` was signed in once at connect. Both were admitted,
 * and spent a permit of the user's request budget, before their document was parsed (src/server/admission.ts).
 * No context is built without a signed-in user.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GraphQLParams } from 'graphql-yoga';
import type { Session } from '../auth/authenticate';
import type { Context, Services } from '../schema/context';
import { toGraphQLError, unauthenticated } from '../schema/errors';
import type { Admitted } from './admission';

/** What graphql-ws keeps per connection (`ctx.extra`), beside its socket and upgrade request. */
export interface ConnectionExtra {
  session?: Session;
  /** Prefix of the request ids of this connection's operations. */
  connectionId?: string;
}

/** What the factory receives: yoga's initial context (request, params, what admission left), plus graphql-ws's for a WebSocket. */
export interface InitialContext extends Admitted {
  /** yoga's Fetch request; only its method for plain HTTP (src/server/plain-http.ts), whose checks read nothing else. */
  request?: Pick<Request, 'method'>;
  /** The node request and response (yoga's server context on node:http). */
  req?: IncomingMessage;
  res?: ServerResponse;
  params?: GraphQLParams;
  extra?: ConnectionExtra;
}

/**
 * `services` are the instance's, built once (src/server/app.ts); an SSE stream outlives its session token by
 * `tokenGraceSeconds` (a WebSocket is closed with 4401 as much later).
 */
export function createContextFactory(services: Services, tokenGraceSeconds: number) {
  return (initial: InitialContext): Context => {
    // Admitted before anything was parsed: by the HTTP hook or at the WebSocket's connect (src/server/admission.ts).
    if (initial.admissionError) throw toGraphQLError(initial.admissionError);
    const session = initial.session ?? initial.extra?.session;
    if (!session) throw unauthenticated();
    const { user, sessionId } = session;
    // Over HTTP (SSE), the stream itself must end when the token does; a WebSocket's connection is closed instead.
    const liveUntil = initial.extra ? undefined : (session.expiresAt + tokenGraceSeconds) * 1000;
    return { services, user, sessionId, liveUntil, idempotencyKeyHeader: initial.req?.headers['idempotency-key'] as string | undefined };
  };
}
