/**
 * GraphQL over WebSocket (graphql-ws, `graphql-transport-ws` protocol) on the same path as HTTP. Only what is
 * WebSocket-specific lives here: admission once at connect (through the one authentication path), the
 * close codes, the token-expiry timer, the per-connection subscription limit. Every operation then runs
 * through yoga's envelope, as graphql-yoga's graphql-ws recipe does (`getEnveloped` with the connection's
 * context), so limits, the context factory and error masking are the ones HTTP uses.
 *
 * Close codes: 4403 at connect for a missing or invalid token, or for a session cookie sent from an origin
 * not allowed by CORS_ORIGINS (a page of another site must not borrow the user's cookie); 4401 once the
 * connection's token has been expired for WS_TOKEN_GRACE_SECONDS (clients reconnect with a fresh token, and
 * since every subscription starts with the current state, nothing is lost); 4403 again, at once, when Clerk
 * ends or revokes the connection's session or deletes its user (on whichever instance got the webhook);
 * 4429 at connect when the user already holds WS_MAX_CONNECTIONS_PER_USER connections, its request budget is
 * spent, or its address sent too many requests without valid credentials (src/server/admission.ts); 1001 when
 * the server stops.
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { isAsyncIterable } from '@graphql-tools/utils';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import type { GraphQLParams } from 'graphql-yoga';
import { CloseCode, type Context, type SubscribePayload } from 'graphql-ws';
import { credentialsFrom } from '../auth/authenticate';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import pLimit from 'p-limit';
import { WebSocketServer, type WebSocket } from 'ws';
import { describeEnded, endsAccessOf, type Revocations } from '../auth/revocations';
import type { AppConfig } from '../config';
import { logger, withRequestLogger } from '../logger';
import { clientError } from '../errors';
import type { Admission } from './admission';
import type { TrustedDocuments } from './trusted-documents';
import type { ConnectionExtra, InitialContext } from './context';
import { GRAPHQL_PATH, type GraphQLServer } from './graphql';
import { prepareOperation } from './operation';
import type { CorsPolicy } from './cors';

export const TOKEN_EXPIRED_CLOSE_CODE = 4401;

/**
 * Subscriptions being set up at once, their first read included; the others wait their turn. Tens of
 * thousands of clients resubscribing together (after a deploy or a network blip) would otherwise start that
 * many setups at once: the process stays busy for seconds, and reads queued for a pooled connection time out.
 */
const SUBSCRIBE_CONCURRENCY = 256;

export interface WebSocketOptions {
  server: http.Server;
  graphql: GraphQLServer;
  admission: Admission;
  trustedDocuments: TrustedDocuments;
  revocations: Revocations;
  /** Which origins may use the session cookie (the HTTP doors' policy). */
  cors: CorsPolicy;
  config: Pick<AppConfig, 'wsTokenGraceSeconds' | 'wsStuckSeconds' | 'limits'>;
}

type ConnectionContext = Extra &
  ConnectionExtra & {
    expiryTimer?: NodeJS.Timeout;
    stopWatchingAccess?: () => void;
    /** Counted among its user's WebSockets (released at close). */
    counted?: boolean;
  };

/** A browser page may use the cookie only from this server's own origin or an allowed one. */
function cookieAllowedFrom(request: http.IncomingMessage, cors: CorsPolicy): boolean {
  const origin = request.headers.origin;
  // No Origin: not a browser, nothing could have attached someone else's cookie.
  if (cors.allows(origin)) return true;
  return URL.canParse(origin!) && new URL(origin!).host === request.headers.host;
}

/** Carried to `execute` / `subscribe` as the root value, as in yoga's recipe; resolvers never read it. */
interface Enveloped {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
  requestId: string;
}
type EnvelopedArgs = ExecutionArgs & { rootValue: Enveloped };

/**
 * A subscription's stream whose every message is produced with its request id in the logger's scope. A
 * class, not an object of closures: every open subscription holds one.
 */
class InRequestScope<T> implements AsyncIterableIterator<T> {
  constructor(
    private readonly requestId: string,
    private readonly iterator: AsyncIterator<T>,
  ) {}

  next(): Promise<IteratorResult<T>> {
    return withRequestLogger({ requestId: this.requestId }, () => this.iterator.next());
  }

  return(value?: unknown): Promise<IteratorResult<T>> {
    return this.iterator.return?.(value) ?? Promise.resolve({ done: true, value: undefined });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    return this.iterator.throw?.(error) ?? Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

/** Every step of an operation logs with its request id, including each message of a subscription. */
function inRequestScope<T>(requestId: string, result: T): T {
  if (!isAsyncIterable(result)) return result;
  return new InRequestScope(requestId, (result as AsyncIterable<unknown>)[Symbol.asyncIterator]()) as T;
}

type Options = Omit<WebSocketOptions, 'server'>;

/**
 * At connect: one authentication (4403 when it fails), the timer that closes the socket at expiry (4401), and
 * the watch that closes it (4403) when Clerk ends its session or deletes its user.
 */
function connectHandler({ admission, revocations, config, cors }: Options) {
  return async (ctx: { extra: Extra; connectionParams?: Readonly<Record<string, unknown>> }): Promise<boolean> => {
    const extra = ctx.extra as ConnectionContext;
    const credentials = credentialsFrom(extra.request.headers, ctx.connectionParams);
    if (credentials?.source === 'cookie' && !cookieAllowedFrom(extra.request, cors)) return false;
    const admitted = await admission.connect(extra.request, ctx.connectionParams);
    if (!('user' in admitted)) {
      extra.socket.close(admitted.code, admitted.reason); // graphql-ws's own 4403 after `false` is then a no-op
      return false;
    }
    extra.session = admitted;
    // Closed while authenticating: onClose has run already, and nothing registered below would be released.
    if (extra.socket.readyState !== extra.socket.OPEN) {
      admission.releaseWebSocket(admitted);
      return false;
    }
    extra.counted = true;
    extra.connectionId = randomUUID();
    const closeInMs = Math.max(0, (extra.session.expiresAt + config.wsTokenGraceSeconds) * 1000 - Date.now());
    extra.expiryTimer = setTimeout(
      () => {
        extra.socket.close(TOKEN_EXPIRED_CLOSE_CODE, 'Unauthorized: session token expired; reconnect with a fresh one');
      },
      Math.min(closeInMs, 2 ** 31 - 1),
    );
    extra.expiryTimer.unref(); // never what keeps the process alive
    const operationSession = { clerkId: extra.session.user.clerkId, sessionId: extra.session.sessionId };
    extra.stopWatchingAccess = revocations.onEnded((ended) => {
      if (endsAccessOf(ended, operationSession)) extra.socket.close(CloseCode.Forbidden, `Forbidden: ${describeEnded(ended)}`);
    });
    return true;
  };
}

/**
 * Each operation through yoga's envelope. The client's mistakes (syntax, limits, variables, sign-in, rate)
 * answer the operation; anything else is the server's and closes the connection (4500), as graphql-ws does.
 */
function subscribeHandler({ graphql, admission, trustedDocuments, config }: Options) {
  const maxPerConnection = config.limits.wsMaxSubscriptionsPerConnection;
  return async (ctx: Context<Record<string, unknown> | undefined, Extra>, id: string, payload: SubscribePayload) => {
    const extra = ctx.extra as ConnectionContext;
    if (!extra.session) return ctx.extra.socket.close(CloseCode.Forbidden, 'Forbidden') as never;
    // This operation is already counted among the connection's subscriptions.
    if (Object.keys(ctx.subscriptions).length > maxPerConnection) {
      const message = `At most ${maxPerConnection} operations may run at once on one connection`;
      return [clientError('RATE_LIMITED', message, { limit: 'subscriptionsPerConnection', max: maxPerConnection })];
    }
    const requestId = `${extra.connectionId}:${id}`;
    const session = extra.session;
    return withRequestLogger({ requestId }, async (): Promise<readonly GraphQLError[] | EnvelopedArgs> => {
      // Before the document is parsed: a refused document spends the budget like any other.
      const limited = await admission.operation(session);
      if (limited) return [limited];
      const initial = { ...ctx, req: extra.request, socket: extra.socket } as InitialContext;
      const prepared = await prepareOperation(graphql, trustedDocuments, payload as GraphQLParams, initial);
      if (!('args' in prepared)) return prepared;
      const rootValue: Enveloped = { execute: prepared.execute, subscribe: prepared.subscribe, requestId };
      return { ...prepared.args, rootValue };
    });
  };
}

/**
 * Cuts connections whose client stopped reading. graphql-ws waits for each message to be written before it
 * sends a subscription's next, and a subscription keeps at most its newest undelivered state, so such a
 * client costs bounded memory; but it still holds its subscriptions (and the user's share of the limit).
 * Checked four times per period: a connection with data waiting at every check of a whole period is cut
 * (no close frame: it could not be delivered either).
 */
function cutStuckConnections(wss: WebSocketServer, stuckMs: number): () => void {
  const waitingSince = new WeakMap<WebSocket, number>();
  const timer = setInterval(
    () => {
      const now = Date.now();
      for (const client of wss.clients) {
        if (client.bufferedAmount === 0) {
          waitingSince.delete(client);
          continue;
        }
        const since = waitingSince.get(client) ?? now;
        waitingSince.set(client, since);
        if (now - since < stuckMs) continue;
        logger.warn('cut a WebSocket whose client stopped reading', { bufferedBytes: client.bufferedAmount, stuckMs: now - since });
        client.terminate();
      }
    },
    Math.max(100, stuckMs / 4),
  );
  timer.unref();
  return () => clearInterval(timer);
}

/** Asks every client to close (1001) and cuts those that have not within `waitMs`. */
async function closeAll(wss: WebSocketServer, waitMs: number): Promise<void> {
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
}

export function attachWebSocketServer({ server, ...options }: WebSocketOptions) {
  // Frames over the limit close the connection (1009) before they are buffered whole or parsed. No `server`
  // option: ws would re-emit the HTTP server's own errors (a port in use) as WebSocket server errors.
  const wss = new WebSocketServer({ noServer: true, path: GRAPHQL_PATH, maxPayload: options.config.limits.wsMaxPayloadBytes });
  server.on('upgrade', (request, socket, head) => wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request)));
  const settingUp = pLimit(SUBSCRIBE_CONCURRENCY);
  const cleanup = useServer(
    {
      execute: (args) => {
        const root = (args as EnvelopedArgs).rootValue;
        return withRequestLogger({ requestId: root.requestId }, () => root.execute(args)) as never;
      },
      subscribe: (args) => {
        const root = (args as EnvelopedArgs).rootValue;
        return settingUp(() =>
          withRequestLogger({ requestId: root.requestId }, async () => inRequestScope(root.requestId, await root.subscribe(args))),
        ) as never;
      },
      onConnect: connectHandler(options),
      onSubscribe: subscribeHandler(options),
      onClose: (ctx) => {
        const extra = ctx.extra as ConnectionContext;
        clearTimeout(extra.expiryTimer);
        extra.stopWatchingAccess?.();
        if (extra.counted && extra.session) options.admission.releaseWebSocket(extra.session);
      },
    },
    wss,
  );
  wss.on('error', (err) => logger.error('WebSocket server error', { err }));
  const stopCutting = cutStuckConnections(wss, options.config.wsStuckSeconds * 1000);
  return {
    wss,
    async close(waitMs: number) {
      stopCutting();
      await closeAll(wss, waitMs);
      await cleanup.dispose();
    },
  };
}
