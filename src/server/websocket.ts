/**
 * GraphQL over WebSocket (graphql-ws, `graphql-transport-ws` protocol) on the same path as HTTP, executing
 * through yoga's envelope so limits apply, errors are masked and contexts built exactly as for HTTP.
 *
 * The session token comes from `connectionParams` (`authorization: "Bearer …"` or `token`) or the `__session`
 * cookie of the upgrade request, and is verified once at connect: an invalid or missing one closes the socket
 * with 4403, and so does a cookie sent from an origin not allowed by CORS_ORIGINS (a page of another site
 * must not borrow the user's cookie). Clerk session tokens are short-lived, so a connection is closed with
 * 4401 when its token has been expired for WS_TOKEN_GRACE_SECONDS; clients reconnect with a fresh token, and
 * since every subscription starts with the current state, nothing is lost.
 */
import type http from 'node:http';
import { GraphQLError, type DocumentNode, type ExecutionArgs } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { AuthenticationError, bearerToken, tokenFromHeaders, type TokenVerifier } from '../auth/tokens';
import type { AuthUser, UserResolver } from '../auth/users';
import type { AppConfig } from '../config';
import { logger } from '../logger';
import { clientError } from '../schema/errors';
import { GRAPHQL_PATH, type GraphQLServer } from './graphql';

export const TOKEN_EXPIRED_CLOSE_CODE = 4401;

interface ConnectionState {
  user?: AuthUser;
  expiryTimer?: NodeJS.Timeout;
}

export interface WebSocketOptions {
  server: http.Server;
  graphql: GraphQLServer;
  verifyToken: TokenVerifier;
  resolveUser: UserResolver;
  config: Pick<AppConfig, 'wsTokenGraceSeconds' | 'corsOrigins' | 'limits'>;
}

function tokenFromConnectionParams(params: Readonly<Record<string, unknown>> | undefined): string | undefined {
  if (!params) return undefined;
  const authorization = params.authorization ?? params.Authorization;
  if (typeof authorization === 'string') return bearerToken(authorization);
  return typeof params.token === 'string' && params.token ? params.token : undefined;
}

function cookieHeaders(request: http.IncomingMessage): Headers {
  const headers = new Headers();
  if (request.headers.cookie) headers.set('cookie', request.headers.cookie);
  return headers;
}

/** A browser page may use the cookie only from this server's own origin or an allowed one. */
function cookieAllowedFrom(request: http.IncomingMessage, allowedOrigins: readonly string[]): boolean {
  const origin = request.headers.origin;
  if (!origin) return true; // not a browser: nothing could have attached someone else's cookie
  if (allowedOrigins.includes(origin)) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

type Rooted = ExecutionArgs & { rootValue: { execute: (args: ExecutionArgs) => unknown; subscribe: (args: ExecutionArgs) => unknown } };

export function attachWebSocketServer({ server, graphql, verifyToken, resolveUser, config }: WebSocketOptions) {
  // Frames over the limit close the connection (1009) before they are buffered whole or parsed.
  const wss = new WebSocketServer({ server, path: GRAPHQL_PATH, maxPayload: config.limits.wsMaxPayloadBytes });
  const connections = new WeakMap<object, ConnectionState>();
  const stateOf = (extra: Extra) => {
    let state = connections.get(extra.socket);
    if (!state) connections.set(extra.socket, (state = {}));
    return state;
  };
  const maxPerConnection = config.limits.wsMaxSubscriptionsPerConnection;

  const cleanup = useServer(
    {
      execute: (args) => (args as Rooted).rootValue.execute(args) as never,
      subscribe: (args) => (args as Rooted).rootValue.subscribe(args) as never,
      onConnect: async (ctx) => {
        const fromParams = tokenFromConnectionParams(ctx.connectionParams);
        const token = fromParams ?? tokenFromHeaders(cookieHeaders(ctx.extra.request));
        if (!token) return false; // → 4403 Forbidden
        if (!fromParams && !cookieAllowedFrom(ctx.extra.request, config.corsOrigins)) return false;
        try {
          const claims = await verifyToken(token);
          const state = stateOf(ctx.extra);
          state.user = await resolveUser(claims);
          const closeInMs = Math.max(0, (claims.expiresAt + config.wsTokenGraceSeconds) * 1000 - Date.now());
          state.expiryTimer = setTimeout(
            () => {
              ctx.extra.socket.close(TOKEN_EXPIRED_CLOSE_CODE, 'Unauthorized: session token expired; reconnect with a fresh one');
            },
            Math.min(closeInMs, 2 ** 31 - 1),
          );
          state.expiryTimer.unref(); // never what keeps the process alive
          return true;
        } catch (error) {
          if (error instanceof AuthenticationError) return false;
          throw error;
        }
      },
      onSubscribe: async (ctx, _id, payload) => {
        const user = stateOf(ctx.extra).user;
        if (!user) return ctx.extra.socket.close(CloseCode.Forbidden, 'Forbidden') as never;
        // This operation is already counted among the connection's subscriptions.
        if (Object.keys(ctx.subscriptions).length > maxPerConnection) {
          return [
            clientError('RATE_LIMITED', `At most ${maxPerConnection} operations may run at once on one connection`, {
              limit: 'subscriptionsPerConnection',
              max: maxPerConnection,
            }),
          ];
        }
        const { schema, execute, subscribe, contextFactory, parse, validate } = graphql.getEnveloped({
          connectionUser: user,
          params: payload,
        });
        let document: DocumentNode;
        try {
          document = parse(payload.query);
        } catch (error) {
          // A syntax error (or a document over the token limit) is the client's: answer it on this operation
          // instead of dropping the connection.
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        let errors: readonly GraphQLError[];
        try {
          errors = validate(schema, document);
        } catch (error) {
          if (error instanceof GraphQLError) return [error]; // a limit that depends on the variables
          throw error;
        }
        if (errors.length) return [...errors];
        let contextValue: unknown;
        try {
          contextValue = await contextFactory();
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        return {
          schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue,
          rootValue: { execute, subscribe },
        } satisfies Rooted;
      },
      onClose: (ctx) => clearTimeout(connections.get(ctx.extra.socket)?.expiryTimer),
    },
    wss,
  );
  wss.on('error', (err) => logger.error('WebSocket server error', { err }));

  return {
    wss,
    /** Asks every client to close (1001) and cuts those that have not within `waitMs`. */
    async close(waitMs: number) {
      const closed = [...wss.clients].map(
        (client: WebSocket) =>
          new Promise<void>((resolve) => {
            if (client.readyState === client.CLOSED) return resolve();
            client.once('close', () => resolve());
            client.close(1001, 'Server shutting down');
          }),
      );
      const timer = setTimeout(
        () => {
          for (const client of wss.clients) client.terminate();
        },
        Math.max(0, waitMs),
      );
      await Promise.all(closed);
      clearTimeout(timer);
      await cleanup.dispose();
    },
  };
}
