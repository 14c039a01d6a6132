/**
 * GraphQL over SSE in graphql-sse's single-connection mode, at /graphql/stream: one event stream per page,
 * however many subscriptions it holds (a browser on HTTP/1.1 allows six connections per host, so a dashboard
 * with more subscriptions than that stalls in the distinct-connections mode yoga serves at /graphql). The
 * protocol is graphql-sse's own handler; every request (the reservation, the stream, each operation, each stop)
 * has passed yoga's CORS, CSRF and admission first, so it is signed in and has spent a permit; each operation
 * then runs through the same document resolution (trusted documents), limits and context as graphql-ws's
 * (src/server/operation.ts), and each subscription claims its place in the user's limit as anywhere else.
 * A stream is its user's: its token carries the user's id, and no other user's request may use it.
 *
 * Hand-written beside @graphql-yoga/plugin-graphql-sse, which parses `params.query` itself and so cannot run a
 * trusted document named by id.
 */
import { randomUUID } from 'node:crypto';
import type { Response as SseResponse } from 'graphql-sse';
import { createHandler } from 'graphql-sse/lib/use/fetch';
import type { ExecutionResult } from 'graphql';
import { isAsyncIterable } from '@graphql-tools/utils';
import { OperationTypeNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Admitted } from './admission';
import type { GraphQLServer } from './graphql';
import { prepareOperation } from './operation';
import type { TrustedDocuments } from './trusted-documents';

export const GRAPHQL_STREAM_PATH = '/graphql/stream';

/** A refusal in graphql-sse's server-agnostic form (body, status). */
const refuse = (status: number, statusText: string, body: string | null): SseResponse => [body, { status, statusText }];

const TOKEN_HEADER = 'x-graphql-event-stream-token';

export function singleConnectionSse(trustedDocuments: TrustedDocuments): Plugin {
  /** Each request's server context (its node request and response, and the session admission signed in). */
  const serverContexts = new WeakMap<Request, Admitted & Record<string, unknown>>();
  let handler: ((request: Request) => Promise<Response>) | undefined;
  return {
    onYogaInit({ yoga }) {
      const graphql = yoga as unknown as GraphQLServer;
      handler = createHandler(
        {
          authenticate(req) {
            const session = serverContexts.get(req.raw)?.session;
            if (!session) return refuse(401, 'Unauthorized', null);
            const owner = `${session.user.id}.`;
            // A reservation (PUT) gets a token of its user's; any other request must name one of its user's.
            if (req.method === 'PUT') return `${owner}${randomUUID()}`;
            const token = req.raw.headers.get(TOKEN_HEADER) ?? new URL(req.raw.url).searchParams.get('token');
            if (token === null) return `${owner}${randomUUID()}`; // the distinct-connections mode
            return token.startsWith(owner) ? token : refuse(403, 'Forbidden', 'This event stream belongs to another user');
          },
          async onSubscribe(req, params) {
            const initial = { ...serverContexts.get(req.raw), request: req.raw, params };
            const prepared = await prepareOperation(graphql, trustedDocuments, params, initial);
            // graphql-sse takes a result for one only when it has a `data` key (null when refused).
            if (!('args' in prepared)) return { data: null, errors: [...prepared] };
            const run = prepared.type === OperationTypeNode.SUBSCRIPTION ? prepared.subscribe : prepared.execute;
            const result = await run(prepared.args);
            return isAsyncIterable<ExecutionResult>(result) ? result : { data: null, ...(result as ExecutionResult) };
          },
        },
        graphql.fetchAPI,
      );
    },
    onRequest(payload) {
      const { request, serverContext, url } = payload;
      // The URL yoga's server adapter has already parsed: every request through yoga's handler passes here.
      if (!handler || url.pathname !== GRAPHQL_STREAM_PATH) return;
      serverContexts.set(request, serverContext);
      return handler(request).then((response) => payload.endResponse(response));
    },
  };
}
