/**
 * graphql-yoga serving the Pothos schema at /graphql: queries and mutations over HTTP, subscriptions over SSE
 * (yoga's own, compatible with graphql-sse clients) and, through src/server/websocket.ts, graphql-ws.
 * GraphiQL (bundled, works offline; src/server/graphiql.ts) outside production.
 */
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { GraphQLError, subscribe } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { AppConfig } from '../config';
import type { Context, Services } from '../schema/context';
import { schema } from '../schema';
import { toGraphQLError } from '../schema/errors';
import { logger } from '../logger';
import { graphiqlOptions, useCompressedPages, useGraphiQLPagePolicy } from './graphiql';
import { CSRF_HEADER, type CorsPolicy } from './cors';
import { limitPlugins } from './limits';
import { createContextFactory, type InitialContext } from './context';
import { tracingPlugin } from './tracing';
import type { TrustedDocuments } from './trusted-documents';

export const GRAPHQL_PATH = '/graphql';

/**
 * Every answer depends on who asks (the token or the session cookie): never stored by a shared cache, nor by
 * the browser, and keyed by those headers for any cache that ignores no-store. After yoga's CORS (which may add
 * `Vary: Origin`), for answers refused by admission too.
 */
export const PRIVATE_ANSWER_HEADERS = { 'cache-control': 'private, no-store', vary: 'Origin, Authorization, Cookie' } as const;

const privateAnswers: Plugin = {
  onResponse: ({ response }) => {
    response.headers.set('cache-control', PRIVATE_ANSWER_HEADERS['cache-control']);
    response.headers.append('vary', PRIVATE_ANSWER_HEADERS.vary);
  },
};

/**
 * Every error gets a code from the one table; in production unexpected ones say only "Internal server error".
 * Development shows the underlying message of an internal error; production never does.
 */
export function maskErrorFor(production: boolean) {
  return (error: unknown): GraphQLError => {
    const located = error as GraphQLError;
    const client = toGraphQLError(located.originalError ?? error);
    const internal = client.extensions.code === 'INTERNAL_SERVER_ERROR';
    const message = internal && !production ? (client.originalError?.message ?? client.message) : client.message;
    return new GraphQLError(message, {
      nodes: located.nodes,
      positions: located.positions,
      path: located.path,
      extensions: client.extensions,
    });
  };
}

/**
 * Subscriptions run on graphql-js's own `subscribe` (queries and mutations stay on yoga's executor). Yoga's
 * executor maps each event through an async generator and wraps every stream in a flattening iterator for
 * incremental delivery (@defer/@stream), which this schema does not offer: that was memory held by every
 * open subscription and a generator per message sent. First among the plugins, so every later one (the
 * sharing of executions included) wraps this one.
 */
const subscribeWithGraphQLJs: Plugin = {
  onSubscribe: ({ setSubscribeFn }) => setSubscribeFn(subscribe),
};

export type GraphQLServer = YogaServerInstance<InitialContext, Context>;

/** What runs before any document is parsed, in this order after CORS and CSRF. */
export interface Gates {
  /** Signs requests in (src/server/admission.ts): the CSRF check's refusal costs less, so it comes first. */
  admission: Plugin;
  /** Which documents may run (src/server/trusted-documents.ts). */
  trustedDocuments: TrustedDocuments;
  /** Which origins may call with credentials (src/server/cors.ts). */
  cors: CorsPolicy;
  /** graphql-sse's single-connection mode (src/server/sse.ts): after admission, so its requests are signed in. */
  stream: Plugin;
}

export function createGraphQLServer(
  config: AppConfig,
  services: Services,
  { admission, trustedDocuments, cors, stream }: Gates,
  plugins: Plugin[] = [],
): GraphQLServer {
  const production = config.nodeEnv === 'production';
  return createYoga<InitialContext, Context>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    context: createContextFactory(services, config.wsTokenGraceSeconds),
    landingPage: false,
    plugins: [
      privateAnswers,
      subscribeWithGraphQLJs,
      // After the subscribe function is chosen, so its span wraps graphql-js's.
      ...(config.tracing.tracesEndpoint ? [tracingPlugin()] : []),
      useCSRFPrevention({ requestHeaders: ['authorization', CSRF_HEADER] }),
      admission,
      stream,
      ...trustedDocuments.plugins(),
      ...limitPlugins(config.graphql),
      ...(production ? [] : [useGraphiQLPagePolicy(), useCompressedPages()]),
      ...plugins,
    ],
    // The body size is checked before yoga sees the request (src/server/routes.ts refuses a body over the limit,
    // or of unknown length); yoga's own check would stream every body through a counter.
    maxRequestBodySize: false,
    // The persisted-documents way of naming a document (GraphQL over HTTP), beside Apollo's extension.
    extraParamNames: ['documentId'],
    cors: (request) => cors.options(request),
    graphiql: production ? false : graphiqlOptions(config),
    // Loaded only when GraphiQL is served: a 9 MB self-contained bundle, so no CDN is needed.
    renderGraphiQL: production ? undefined : async (options) => (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options),
    maskedErrors: { isDev: !production, maskError: maskErrorFor(production) },
    // Yoga reports every error response, client mistakes included; unexpected failures are already logged
    // once with their details by the error table, so its reports are debug-level.
    logging: {
      debug: (...args) => logger.debug(String(args[0])),
      info: (...args) => logger.debug(String(args[0])),
      warn: (...args) => logger.warn(String(args[0])),
      error: (...args) => logger.debug(String(args[0])),
    },
  });
}
