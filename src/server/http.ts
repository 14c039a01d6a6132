/**
 * The HTTP server: `createApp()` returns something a test (or main.ts) can start on any port and stop.
 * It owns no database lifecycle: the caller passes the connected Prisma client, the started event listener
 * and the token verifier (built first, so a misconfigured server fails before touching the database).
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import helmet from 'helmet';
import { bearerToken, createAuthenticator } from '../auth/authenticate';
import { Revocations } from '../auth/revocations';
import type { TokenVerifier } from '../auth/tokens';
import type { AppConfig } from '../config';
import type { Database } from '../db/client';
import type { EventSource } from '../db/events';
import { RateLimiter, UserQuotas } from '../db/rate-limits';
import { parsePoolSettings } from '../db/url';
import { logger, withRequestLogger } from '../logger';
import { DocumentUrlChecker } from '../schema/document-url';
import { createLive, type Live } from '../live';
import { RunLifecycle } from '../runs/lifecycle';
import { Admission } from './admission';
import { connectionCap, ConnectionGuard, openFileLimit, type ConnectionLimits } from './connections';
import { corsPolicy } from './cors';
import { TrustedDocuments } from './trusted-documents';
import type { ContextDependencies } from './context';
import { createGraphQLServer, GRAPHQL_PATH, maskErrorFor, type GraphQLServer } from './graphql';
import { createPlainHttp, type PlainHttp } from './plain-http';
import { checkReadiness, type Readiness } from './health';
import { listShippedMigrations } from '../db/migration-state';
import { limitExceeded } from './limits';
import { createMetrics, type Metrics } from './metrics';
import { refuseUnread, sendJson } from './respond';
import { CLERK_WEBHOOK_PATH, clerkWebhookHandler } from './webhooks';
import { attachWebSocketServer } from './websocket';

export interface AppOptions {
  config: AppConfig;
  db: Database;
  /** The process's run event listener (already started). */
  events: EventSource;
  verifyToken: TokenVerifier;
}

export interface App {
  server: http.Server;
  /** This instance's live updates: its watchers and open subscriptions (metrics, tests). */
  live: Live;
  /** Starts listening; resolves with the bound port (0 picks a free one). */
  listen(port?: number, host?: string): Promise<number>;
  /**
   * Graceful stop, finished within `config.shutdownTimeoutMs` whatever the clients do: /ready turns 503 and
   * responses carry `Connection: close` at once; after `config.shutdownDrainMs`, once new connections have
   * stopped arriving, no new connections are taken, quiet idle ones are closed, WebSockets get 1001 (and are cut
   * if they do not answer), SSE streams end, in-flight requests finish; whatever is still open at the deadline
   * is closed.
   */
  close(): Promise<void>;
}

/**
 * Connections the kernel may hold before the server accepts them (Node's default is 511). Thousands of clients
 * reconnecting at once (after a deploy or a blip) would otherwise be reset and retry; the kernel caps it at
 * net.core.somaxconn.
 */
const LISTEN_BACKLOG = 4096;

/** A WebSocket that has not answered our close frame by then is cut. */
const WEBSOCKET_CLOSE_WAIT_MS = 3_000;
/** During shutdown, a connection with nothing in progress is closed once it has been quiet this long. */
const IDLE_QUIET_MS = 250;
const IDLE_CHECK_MS = 50;
/** The listening socket closes once no connection has arrived for this long after the drain. */
const LISTENER_QUIET_MS = 500;
/** Time left for answering the requests already received after the listening socket is closed at the latest. */
const LAST_REQUESTS_MS = 1_000;
/** Time kept back from the shutdown budget for the pool and the database after HTTP has stopped. */
const AFTER_HTTP_RESERVE_MS = 1_500;

/**
 * Refuses a GraphQL request body over the limit before it is parsed (413), and a body of unknown length (411):
 * every GraphQL client sends Content-Length, and counting a chunked body would mean reading it first. The rest
 * of the body is discarded, so the client reads the refusal (src/server/respond.ts).
 */
function refusedBody(req: http.IncomingMessage, res: http.ServerResponse, maxBytes: number): boolean {
  if (req.method !== 'POST') return false;
  const length = req.headers['content-length'];
  if (length === undefined) {
    if (req.headers['transfer-encoding'] === undefined) return false; // no body at all
    refuseUnread(req, res, 411, { errors: [{ message: 'Send the request body with a Content-Length header' }] });
    return true;
  }
  const bytes = Number(length);
  if (!Number.isFinite(bytes) || bytes <= maxBytes) return false;
  const error = limitExceeded('bodySize', `Request body is ${bytes} bytes; the limit is ${maxBytes}`, maxBytes, 413);
  refuseUnread(req, res, 413, { errors: [error.toJSON()] });
  return true;
}

/** The caller's `x-request-id` when it is a plausible id (a proxy's, a client's), else a new one. */
function requestIdOf(req: http.IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
}

/**
 * /ready's answer is reused this long: probes and anyone else may ask as often as they like, the database is
 * asked at most once per period (and once at a time).
 */
const READINESS_CACHE_MS = 1_000;

function cachedFor<T>(ms: number, compute: () => Promise<T>): () => Promise<T> {
  let cached: { value: Promise<T>; at: number } | undefined;
  return () => {
    if (!cached || Date.now() - cached.at >= ms) cached = { value: compute(), at: Date.now() };
    return cached.value;
  };
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

interface Router {
  graphql: GraphQLServer;
  plainHttp: PlainHttp;
  clerkWebhook: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;
  metrics: Metrics;
  metricsAccess: AppConfig['metricsAccess'];
  ready: () => Promise<Readiness>;
  maxBodyBytes: number;
}

/**
 * Headers every answer carries (helmet's, configured for an API): no MIME sniffing, no framing by any page
 * (`frame-ancestors 'none'`, and X-Frame-Options for older browsers), no referrer, HSTS, and a policy that lets
 * an answer load nothing (JSON never needs to). GraphiQL's page (development only) gets its own policy.
 */
const securityHeaders: Map<string, string> = (() => {
  // With this configuration helmet's headers are the same for every response (no nonce): they are collected
  // once from its middleware, whose chain of a dozen handlers per request cost more than setting them.
  const headers = new Map<string, string>();
  const collector = {
    setHeader: (name: string, value: string) => headers.set(name.toLowerCase(), value),
    removeHeader: (name: string) => headers.delete(name.toLowerCase()),
  };
  helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    xFrameOptions: { action: 'deny' },
  })({} as http.IncomingMessage, collector as unknown as http.ServerResponse, (error?: unknown) => {
    if (error) throw error as Error;
  });
  return headers;
})();

/** Whether a /metrics request may read the metrics: 404 when they are off, 401 without the bearer secret. */
function metricsRefusal(req: http.IncomingMessage, access: AppConfig['metricsAccess']): { status: number; error: string } | undefined {
  if (access === 'open') return undefined;
  if (access === 'off') return { status: 404, error: 'metrics are off in production unless METRICS_TOKEN is set' };
  const given = Buffer.from(bearerToken(req.headers.authorization ?? '') ?? '');
  const expected = Buffer.from(access.token);
  // Compared in constant time: how long a wrong guess takes says nothing about the secret.
  const matches = given.length === expected.length && timingSafeEqual(given, expected);
  return matches ? undefined : { status: 401, error: 'send Authorization: Bearer <METRICS_TOKEN>' };
}

/** /graphql (yoga), /health, /ready, /metrics; each request inside its own request-id log scope. */
function createRequestListener(
  { graphql, plainHttp, clerkWebhook, metrics, metricsAccess, ready, maxBodyBytes }: Router,
  isDraining: () => boolean,
  open: Set<http.ServerResponse>,
) {
  const route = async (req: http.IncomingMessage, res: http.ServerResponse, path: string) => {
    switch (`${req.method} ${path}`) {
      case 'GET /health':
      case 'HEAD /health':
        return sendJson(res, 200, { status: 'ok' });
      case 'GET /ready':
      case 'HEAD /ready': {
        if (isDraining()) return sendJson(res, 503, { status: 'unavailable', ready: false, reason: 'shutting down' });
        const readiness = await ready();
        return sendJson(res, readiness.ready ? 200 : 503, { status: readiness.ready ? 'ready' : 'unavailable', ...readiness });
      }
      case `POST ${CLERK_WEBHOOK_PATH}`:
        return clerkWebhook(req, res);
      case 'GET /metrics': {
        const refused = metricsRefusal(req, metricsAccess);
        if (refused)
          return sendJson(res, refused.status, { error: refused.error }, refused.status === 401 ? { 'www-authenticate': 'Bearer' } : {});
        res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
        return void res.end(await metrics.render());
      }
      default:
        return sendJson(res, 404, { error: `no route for ${req.method} ${path}` });
    }
  };
  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    open.add(res);
    res.once('close', () => open.delete(res));
    if (isDraining()) res.setHeader('connection', 'close');
    const observe = metrics.startRequest(path, req.method ?? 'GET');
    res.once('finish', () => observe(res.statusCode));
    if (path === GRAPHQL_PATH) {
      if (refusedBody(req, res, maxBodyBytes)) return;
      const plain = plainHttp.takes(req);
      if (plain) void plainHttp.handle(req, res, plain);
      else void graphql(req, res);
      return;
    }
    route(req, res, path).catch((error: unknown) => {
      logger.error('request failed', { path, err: error });
      if (!res.headersSent) sendJson(res, 500, { error: 'Internal server error' });
      else res.destroy();
    });
  };
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    // Every line logged while serving this request carries its id; the client gets it back.
    const requestId = requestIdOf(req);
    res.setHeader('x-request-id', requestId);
    res.setHeaders(securityHeaders);
    withRequestLogger({ requestId }, () => handle(req, res));
  };
}

export async function createApp({ config, db, events, verifyToken }: AppOptions): Promise<App> {
  const shippedMigrations = await listShippedMigrations();
  const revocations = new Revocations(db, config.auth.maxTokenLifetimeSeconds * 1000);
  await revocations.start(events);
  const quotas = new UserQuotas(new RateLimiter(db), config.limits);
  const admission = admissionFor(config, { db, verifyToken, revocations, quotas });
  const live = createLive(events, { maxSubscriptionsPerUser: config.limits.maxSubscriptionsPerUser, backstopMs: config.backstopMs });
  const metrics = createMetrics({
    events,
    openSubscriptions: () => live.subscriptionQuota.open,
    db,
    webSocketConnections: () => websocket.wss.clients.size,
    httpConnections: () => connections.openConnections,
    sharedExecutions: () => live.sharedExecutions.executions,
    backstop: () => live.watchers.backstopStats,
  });
  const trustedDocuments = await TrustedDocuments.load(config.trustedDocuments);
  const cors = corsPolicy(config.corsOrigins);
  const graphql = createGraphQLServer(
    config,
    contextDependencies(config, db, live, revocations, quotas),
    { admission: admission.httpPlugin(), trustedDocuments, cors },
    [live.sharedExecutions.plugin, metrics.plugin],
  );
  let draining = false;
  const openResponses = new Set<http.ServerResponse>();
  const router: Router = {
    graphql,
    plainHttp: createPlainHttp({ graphql, admission, trustedDocuments, maskError: maskErrorFor(config.nodeEnv === 'production'), cors }),
    clerkWebhook: clerkWebhookHandler({ db, config, metrics }),
    metrics,
    ready: cachedFor(READINESS_CACHE_MS, () => checkReadiness(db, shippedMigrations, events)),
    metricsAccess: config.metricsAccess,
    maxBodyBytes: config.limits.maxBodyBytes,
  };
  const server = httpServer(
    config,
    createRequestListener(router, () => draining, openResponses),
  );
  const connections = new ConnectionGuard(server, connectionLimits(config), admission.isTrustedProxy, (action) =>
    metrics.connectionCapped(action),
  );
  const websocket = attachWebSocketServer({ server, graphql, admission, trustedDocuments, revocations, config });

  return {
    server,
    live,
    listen: (port = config.port, host = config.host) => listenOn(server, { port, host, reusePort: config.reusePort }),
    async close() {
      draining = true;
      await shutDown(server, connections, openResponses, (waitMs) => websocket.close(waitMs), config);
      revocations.stop();
      live.stop();
    },
  };
}

/** HTTP_MAX_CONNECTIONS, lowered (once, said in the log) to what the process's open-file limit can hold. */
function connectionLimits(config: AppConfig): ConnectionLimits {
  const fileLimit = openFileLimit();
  const poolSize = config.databaseUrl ? parsePoolSettings(config.databaseUrl).max : 10;
  const maxConnections = connectionCap(config.limits.maxConnections, fileLimit, poolSize);
  if (maxConnections < config.limits.maxConnections) {
    logger.warn('HTTP_MAX_CONNECTIONS is above what the open-file limit allows: connections are capped lower', {
      configured: config.limits.maxConnections,
      openFileLimit: fileLimit,
      cap: maxConnections,
    });
  }
  return { maxConnections, maxConnectionsPerAddress: config.limits.maxConnectionsPerAddress };
}

/** Who gets in, before anything is parsed: the one authentication path, request budgets, connection limits. */
function admissionFor(
  config: AppConfig,
  { db, verifyToken, revocations, quotas }: { db: Database; verifyToken: TokenVerifier; revocations: Revocations; quotas: UserQuotas },
): Admission {
  return new Admission({
    authenticate: createAuthenticator({
      verifyToken,
      db,
      clerk: { secretKey: config.auth.clerkSecretKey, apiUrl: config.auth.clerkApiUrl },
      revocations,
    }),
    verifyToken,
    quotas,
    anonymousPerMinute: config.limits.anonymousRequestsPerMinute,
    trustedProxies: config.trustedProxies,
    wsMaxConnectionsPerUser: config.limits.wsMaxConnectionsPerUser,
  });
}

function httpServer(config: AppConfig, listener: http.RequestListener): http.Server {
  // Timeouts checked every second (Node's default is every 30 s), so a trickled request is cut on time.
  const server = http.createServer({ connectionsCheckingInterval: 1_000 }, listener);
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = config.limits.headersTimeoutMs;
  server.requestTimeout = Math.max(config.limits.requestTimeoutMs, config.limits.headersTimeoutMs);
  return server;
}

function contextDependencies(
  config: AppConfig,
  db: Database,
  live: Live,
  revocations: Revocations,
  quotas: UserQuotas,
): ContextDependencies {
  return {
    db,
    watchers: live.watchers,
    subscriptionQuota: live.subscriptionQuota,
    revocations,
    sharedReads: live.sharedReads,
    documentUrls: new DocumentUrlChecker({ httpsOnly: config.nodeEnv === 'production', allowedHosts: config.documentUrlHosts }),
    runs: new RunLifecycle(db, quotas, { maxRetriesPerRun: config.limits.maxRetriesPerRun, idempotencyKeyMs: config.idempotencyKeyMs }),
    tokenGraceSeconds: config.wsTokenGraceSeconds,
  };
}

function listenOn(server: http.Server, { port, host, reusePort }: { port: number; host: string; reusePort: boolean }): Promise<number> {
  if (reusePort && migratesQueuedConnections() === false) {
    logger.warn(
      'HTTP_REUSE_PORT is on but net.ipv4.tcp_migrate_req is 0: connections queued on this listener when it closes are reset instead of passed to the process sharing the port',
    );
  }
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog: LISTEN_BACKLOG, reusePort }, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Whether the kernel hands the connections queued on a closing SO_REUSEPORT listener to another listener of the
 * same port (Linux 5.14+); undefined where that cannot be read.
 */
export function migratesQueuedConnections(): boolean | undefined {
  try {
    return readFileSync('/proc/sys/net/ipv4/tcp_migrate_req', 'utf8').trim() !== '0';
  } catch {
    return undefined;
  }
}

/** The graceful stop behind `App.close()`. */
async function shutDown(
  server: http.Server,
  connections: ConnectionGuard,
  openResponses: Set<http.ServerResponse>,
  closeWebSockets: (waitMs: number) => Promise<void>,
  { shutdownTimeoutMs, shutdownDrainMs, reusePort }: Pick<AppConfig, 'shutdownTimeoutMs' | 'shutdownDrainMs' | 'reusePort'>,
): Promise<void> {
  const deadline = Date.now() + Math.max(1_000, shutdownTimeoutMs - AFTER_HTTP_RESERVE_MS);
  for (const res of openResponses) if (!res.headersSent) res.setHeader('connection', 'close');
  // Sharing the port, the listener closes after the drain at once: new connections keep arriving (the kernel
  // spreads them over every listener of the port), and the process sharing it takes them from then on.
  if (shutdownDrainMs > 0) await drain(connections, shutdownDrainMs, deadline, !reusePort);
  // The listening socket closes right after the event loop's poll phase, which has just accepted what the
  // kernel had queued.
  await new Promise((resolve) => setImmediate(resolve));
  const stopped = new Promise<void>((resolve) => {
    if (!server.listening) return resolve();
    // net.Server's close stops accepting and resolves once every connection has closed; http.Server's would
    // also cut every idle connection at once, resetting any request a client had just written to one.
    net.Server.prototype.close.call(server, () => resolve());
  });
  const closingIdle = closeIdleWhenQuiet(connections, stopped, deadline);
  // Live streams never finish on their own: SSE ends now (clients reconnect elsewhere and start from the
  // current state), WebSockets are asked to close and cut if they do not answer.
  for (const res of openResponses) {
    if (String(res.getHeader('content-type') ?? '').startsWith('text/event-stream')) res.socket?.destroy();
  }
  await closeWebSockets(Math.min(WEBSOCKET_CLOSE_WAIT_MS, deadline - Date.now()));
  // In-flight requests finish, up to the deadline; so do requests just sent on idle connections.
  const finished = await Promise.race([stopped.then(() => true), delay(Math.max(0, deadline - Date.now())).then(() => false)]);
  if (!finished) {
    logger.warn('requests still open at the shutdown deadline; closing them', { open: openResponses.size });
    server.closeAllConnections();
    await stopped;
  }
  await closingIdle;
}

/**
 * The drain: answering for `drainMs` (with /ready 503 and `Connection: close`), then for as long as new
 * connections keep arriving (the load balancer has not yet seen /ready 503), up to the time needed to answer the
 * last requests. Closing the listening socket resets every connection the kernel has completed and the server
 * not yet accepted, whose clients have already sent their request.
 */
async function drain(connections: ConnectionGuard, drainMs: number, deadline: number, untilQuiet: boolean): Promise<void> {
  await delay(Math.min(drainMs, deadline - Date.now()));
  if (!untilQuiet) return;
  const listenUntil = Math.max(Date.now(), deadline - LAST_REQUESTS_MS);
  while (Date.now() - connections.lastAcceptedAt < LISTENER_QUIET_MS && Date.now() < listenUntil) await delay(IDLE_CHECK_MS);
}

/**
 * After the listening socket is closed: every response carries `Connection: close`, so each connection closes
 * after its next answer; connections with nothing in progress are closed once they have been quiet for
 * IDLE_QUIET_MS (one just accepted or just answered may have a request on its way).
 */
async function closeIdleWhenQuiet(connections: ConnectionGuard, stopped: Promise<void>, deadline: number): Promise<void> {
  let done = false;
  void stopped.then(() => (done = true));
  while (!done && Date.now() < deadline && connections.closeIdle(IDLE_QUIET_MS) > 0) await delay(IDLE_CHECK_MS);
}
