/**
 * The HTTP server: `createApp()` returns something a test (or main.ts) can start on any port and stop.
 * It owns no database lifecycle: the caller passes the connected Prisma client.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppConfig } from '../config';
import type { Database } from '../db/client';
import { logger } from '../logger';
import { createTokenVerifier } from '../auth/tokens';
import { clerkProfileSource, createUserResolver } from '../auth/users';
import { createGraphQLServer, GRAPHQL_PATH } from './graphql';
import type { EventSource } from '../db/events';
import { checkReadiness, listShippedMigrations } from './health';
import { createMetrics } from './metrics';
import { attachWebSocketServer } from './websocket';

export interface AppOptions {
  config: AppConfig;
  db: Database;
  /** The process's run event listener (already started). */
  events: EventSource;
}

export interface App {
  server: http.Server;
  /** Starts listening; resolves with the bound port (0 picks a free one). */
  listen(port?: number, host?: string): Promise<number>;
  /** Stops accepting requests, lets in-flight ones finish, then closes idle keep-alive sockets. */
  close(): Promise<void>;
}

/** How long in-flight requests may take to finish when the server stops. */
const SHUTDOWN_GRACE_MS = 3_000;

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
  });
  res.end(payload);
}

export async function createApp({ config, db, events }: AppOptions): Promise<App> {
  const shippedMigrations = await listShippedMigrations();
  const verifyToken = await createTokenVerifier(config.auth, config.dataDir);
  const resolveUser = createUserResolver({
    db,
    profiles: config.auth.clerkSecretKey ? clerkProfileSource(config.auth.clerkSecretKey) : undefined,
  });
  const metrics = createMetrics();
  const graphql = createGraphQLServer(config, { db, events, verifyToken, resolveUser }, [metrics.plugin]);

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    res.once('finish', () => metrics.recordRequest(url.pathname, req.method ?? 'GET', res.statusCode));
    if (url.pathname === GRAPHQL_PATH) return void graphql(req, res);
    const route = `${req.method} ${url.pathname}`;
    const handle = async () => {
      switch (route) {
        case 'GET /health':
        case 'HEAD /health':
          return sendJson(res, 200, { status: 'ok' });
        case 'GET /ready':
        case 'HEAD /ready': {
          const readiness = await checkReadiness(db, shippedMigrations, events);
          return sendJson(res, readiness.ready ? 200 : 503, { status: readiness.ready ? 'ready' : 'unavailable', ...readiness });
        }
        case 'GET /metrics': {
          const body = metrics.render({ events, webSocketConnections: websocket.wss.clients.size });
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' });
          return void res.end(body);
        }
        default:
          return sendJson(res, 404, { error: `no route for ${req.method} ${url.pathname}` });
      }
    };
    handle().catch((error: unknown) => {
      logger.error('request failed', { route, err: error });
      if (!res.headersSent) sendJson(res, 500, { error: 'Internal server error' });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  const websocket = attachWebSocketServer({ server, graphql, verifyToken, resolveUser, tokenGraceSeconds: config.wsTokenGraceSeconds });

  return {
    server,
    listen(port = config.port, host = config.host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    async close() {
      await websocket.close();
      if (!server.listening) return;
      await new Promise<void>((resolve, reject) => {
        // In-flight requests get a moment to finish; SSE subscriptions never end on their own, so after that
        // every remaining connection is closed (clients reconnect elsewhere and start from the current state).
        const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
        server.close((error) => {
          clearTimeout(force);
          if (error) reject(error);
          else resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}
