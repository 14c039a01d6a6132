/**
 * GraphQL over WebSocket (graphql-ws, `graphql-transport-ws` protocol) on the same path as HTTP, executing
 * through yoga's envelope so errors are masked and contexts built exactly as for HTTP.
 *
 * The session token comes from `connectionParams` (`authorization: "Bearer …"` or `token`) or the `__session`
 * cookie of the upgrade request, and is verified once at connect: an invalid or missing one closes the socket
 * with 4403. Clerk session tokens are short-lived, so a connection is closed with 4401 when its token has been
 * expired for WS_TOKEN_GRACE_SECONDS; clients reconnect with a fresh token, and since every subscription starts
 * with the current state, nothing is lost.
 */
import type http from 'node:http';
import { GraphQLError, type DocumentNode, type ExecutionArgs } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { AuthenticationError, bearerToken, tokenFromHeaders, type TokenVerifier } from '../auth/tokens';
import type { AuthUser, UserResolver } from '../auth/users';
import { logger } from '../logger';
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
  tokenGraceSeconds: number;
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

type Rooted = ExecutionArgs & { rootValue: { execute: (args: ExecutionArgs) => unknown; subscribe: (args: ExecutionArgs) => unknown } };

export function attachWebSocketServer({ server, graphql, verifyToken, resolveUser, tokenGraceSeconds }: WebSocketOptions) {
  const wss = new WebSocketServer({ server, path: GRAPHQL_PATH });
  const connections = new WeakMap<object, ConnectionState>();
  const stateOf = (extra: Extra) => {
    let state = connections.get(extra.socket);
    if (!state) connections.set(extra.socket, (state = {}));
    return state;
  };

  const cleanup = useServer(
    {
      execute: (args) => (args as Rooted).rootValue.execute(args) as never,
      subscribe: (args) => (args as Rooted).rootValue.subscribe(args) as never,
      onConnect: async (ctx) => {
        const token = tokenFromConnectionParams(ctx.connectionParams) ?? tokenFromHeaders(cookieHeaders(ctx.extra.request));
        if (!token) return false; // → 4403 Forbidden
        try {
          const claims = await verifyToken(token);
          const state = stateOf(ctx.extra);
          state.user = await resolveUser(claims);
          const closeInMs = Math.max(0, (claims.expiresAt + tokenGraceSeconds) * 1000 - Date.now());
          state.expiryTimer = setTimeout(() => {
            ctx.extra.socket.close(TOKEN_EXPIRED_CLOSE_CODE, 'Unauthorized: session token expired; reconnect with a fresh one');
          }, Math.min(closeInMs, 2 ** 31 - 1));
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
        const { schema, execute, subscribe, contextFactory, parse, validate } = graphql.getEnveloped({ connectionUser: user });
        let document: DocumentNode;
        try {
          document = parse(payload.query);
        } catch (error) {
          // A syntax error is the client's: answer it on this operation instead of dropping the connection.
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        const args: Rooted = {
          schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
        const errors = validate(args.schema, args.document);
        return errors.length ? errors : args;
      },
      onClose: (ctx) => clearTimeout(connections.get(ctx.extra.socket)?.expiryTimer),
    },
    wss,
  );
  wss.on('error', (err) => logger.error('WebSocket server error', { err }));

  return {
    wss,
    async close() {
      for (const client of wss.clients) client.close(1001, 'Server shutting down');
      await cleanup.dispose();
    },
  };
}
