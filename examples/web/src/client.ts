/**
 * The page's urql client: queries and mutations over HTTP, subscriptions over graphql-sse's single-connection
 * mode (one event stream at /graphql/stream for all of them, past a browser's six connections per host) or
 * graphql-ws; every request with a fresh session token, every operation by its id in the trusted-documents
 * manifest.
 */
import { Client, cacheExchange, fetchExchange, subscriptionExchange, type ExecutionResult, type SubscriptionOperation } from '@urql/core';
import { persistedExchange } from '@urql/exchange-persisted';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';

export interface ClientOptions {
  apiUrl: string;
  transport: 'sse' | 'ws';
  getToken: () => Promise<string | null>;
  /** The fetch every HTTP request goes through (with the page's tracing headers). */
  fetch: typeof fetch;
}

interface Sink {
  next(value: ExecutionResult): void;
  error(error: unknown): void;
  complete(): void;
}
type Subscribe = (request: SubscriptionOperation, sink: Sink) => () => void;
type Data = Record<string, unknown>;

/**
 * A server without the page's manifest (development) answers an unknown id with one PersistedQueryNotFound
 * message, and graphql-sse then completes the operation. urql repeats a subscription's last result when it
 * completes, so its persistedExchange would send the document's text twice: two subscriptions, every state
 * shown twice. Handed to urql as the operation's error instead (as graphql-ws delivers it), it is sent once.
 */
function asksForText(sink: Sink): Sink {
  let refused = false;
  return {
    next(result) {
      if (!result.data && result.errors?.some((error) => error.message === 'PersistedQueryNotFound')) {
        refused = true;
        return sink.error(result.errors);
      }
      sink.next(result);
    },
    error: (error) => sink.error(error),
    complete: () => (refused ? undefined : sink.complete()),
  };
}

function subscriptionsOver({ apiUrl, transport, getToken, fetch }: ClientOptions): Subscribe {
  const authorization = async () => ({ authorization: `Bearer ${(await getToken()) ?? ''}` });
  if (transport === 'sse') {
    const sse = createSseClient({ url: `${apiUrl}/stream`, singleConnection: true, headers: authorization, fetchFn: fetch });
    return (request, sink) => sse.subscribe<Data, Data>({ ...request, query: request.query ?? '' }, asksForText(sink));
  }
  // A lazy client connects on the first subscription and asks for a fresh token on every connect.
  const ws = createWsClient({ url: apiUrl.replace(/^http/, 'ws'), lazy: true, connectionParams: authorization, retryAttempts: Infinity });
  return (request, sink) => ws.subscribe<Data, Data>({ ...request, query: request.query ?? '' }, sink);
}

export function createApiClient(options: ClientOptions): Client {
  const subscribe = subscriptionsOver(options);
  return new Client({
    url: options.apiUrl,
    // urql reads fetchOptions synchronously; an async token goes through the fetch instead.
    fetch: async (url, init) => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${(await options.getToken()) ?? ''}`);
      return options.fetch(url, { ...init, headers });
    },
    exchanges: [
      cacheExchange,
      // Trusted documents: each operation goes by the id codegen gave it (the document's __meta__.hash).
      persistedExchange({
        enableForMutation: true,
        enableForSubscriptions: true,
        generateHash: (_query, document) => Promise.resolve((document as { __meta__?: { hash?: string } }).__meta__?.hash ?? ''),
      }),
      fetchExchange,
      subscriptionExchange({ forwardSubscription: (request) => ({ subscribe: (sink) => ({ unsubscribe: subscribe(request, sink) }) }) }),
    ],
  });
}
