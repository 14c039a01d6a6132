/**
 * The app: `createApp()` wires the instance's parts, one concern per line, into something a test (or main.ts)
 * can start on any port and stop. It owns no database lifecycle: the caller passes the connected Prisma client,
 * the started event listener and the token verifier (built first, so a misconfigured server fails before
 * touching the database).
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createAuthenticator } from '../auth/authenticate';
import { Revocations } from '../auth/revocations';
import type { TokenVerifier } from '../auth/tokens';
import type { AppConfig } from '../config';
import type { Database } from '../db/client';
import type { EventSource } from '../db/events';
import { listShippedMigrations } from '../db/migration-state';
import { RateLimiter, UserQuotas } from '../db/rate-limits';
import { parsePoolSettings } from '../db/url';
import { createLive, type Live } from '../live';
import { logger } from '../logger';
import { DocumentUrlChecker } from '../runs/document-url';
import { Runs } from '../runs/runs';
import type { Services } from '../schema/context';
import { Admission } from './admission';
import { connectionCap, ConnectionGuard, openFileLimit, type ConnectionLimits } from './connections';
import { corsPolicy } from './cors';
import { singleConnectionSse } from './sse';
import { createGraphQLServer, maskErrorFor } from './graphql';
import { checkReadiness } from './health';
import { createMetrics } from './metrics';
import { createGraphQLOverHttp } from './plain-http';
import { cachedFor, createRequestListener, READINESS_CACHE_MS, type Router } from './routes';
import { shutDown } from './shutdown';
import { TrustedDocuments } from './trusted-documents';
import { clerkWebhookHandler } from './webhooks';
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

export async function createApp({ config, db, events, verifyToken }: AppOptions): Promise<App> {
  const shippedMigrations = await listShippedMigrations();
  const revocations = new Revocations(db, config.auth.maxTokenLifetimeSeconds * 1000);
  await revocations.start(events);
  const quotas = new UserQuotas(new RateLimiter(db), config.limits);
  const admission = admissionFor(config, { db, verifyToken, revocations, quotas });
  const live = createLive(events, { maxSubscriptionsPerUser: config.limits.maxSubscriptionsPerUser, backstopMs: config.backstopMs });
  const services = createServices(config, db, live, revocations, quotas);
  const metrics = createMetrics({
    events,
    openSubscriptions: () => live.subscriptionQuota.open,
    db,
    sharedExecutions: () => live.sharedExecutions.executions,
    backstop: () => live.watchers.backstopStats,
  });
  const trustedDocuments = await TrustedDocuments.load(config.trustedDocuments);
  const cors = corsPolicy(config.cors);
  const stream = singleConnectionSse(trustedDocuments);
  const graphql = createGraphQLServer(config, services, { admission: admission.httpPlugin(), trustedDocuments, cors, stream }, [
    live.sharedExecutions.plugin,
    metrics.plugin,
  ]);
  let draining = false;
  const openResponses = new Set<http.ServerResponse>();
  const router: Router = {
    graphqlHttp: createGraphQLOverHttp({
      graphql,
      admission,
      trustedDocuments,
      maskError: maskErrorFor(config.nodeEnv === 'production'),
      cors,
    }),
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
  const websocket = attachWebSocketServer({ server, graphql, admission, trustedDocuments, revocations, cors, config });
  metrics.countConnections({ tcp: () => connections.openConnections, webSockets: () => websocket.wss.clients.size });

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

/** The instance's services, built once and carried by every operation's context (src/schema/context.ts). */
function createServices(config: AppConfig, db: Database, live: Live, revocations: Revocations, quotas: UserQuotas): Services {
  const documentUrls = new DocumentUrlChecker({ httpsOnly: config.nodeEnv === 'production', allowedHosts: config.documentUrlHosts });
  return {
    db,
    revocations,
    watchers: live.watchers,
    subscriptionQuota: live.subscriptionQuota,
    sharedReads: live.sharedReads,
    runs: new Runs(db, quotas, documentUrls, {
      maxRetriesPerRun: config.limits.maxRetriesPerRun,
      idempotencyKeyMs: config.idempotencyKeyMs,
    }),
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
