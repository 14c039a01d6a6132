/**
 * The request listener: every request gets a request id (its own log scope) and the security headers; /graphql
 * goes to the plain door or yoga's handler (a body over the limit refused first), and /health, /ready, /metrics
 * and the Clerk webhook to their handlers.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import helmet from 'helmet';
import { bearerToken } from '../auth/authenticate';
import type { AppConfig } from '../config';
import { logger, withRequestLogger } from '../logger';
import { GRAPHQL_PATH } from './graphql';
import { GRAPHQL_STREAM_PATH } from './sse';
import type { Readiness } from './health';
import { limitExceeded } from './limits';
import type { Metrics } from './metrics';
import type { GraphQLOverHttp } from './plain-http';
import { refuseUnread, sendJson } from './respond';
import { CLERK_WEBHOOK_PATH } from './webhooks';

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
export const READINESS_CACHE_MS = 1_000;

export function cachedFor<T>(ms: number, compute: () => Promise<T>): () => Promise<T> {
  let cached: { value: Promise<T>; at: number } | undefined;
  return () => {
    if (!cached || Date.now() - cached.at >= ms) cached = { value: compute(), at: Date.now() };
    return cached.value;
  };
}

export interface Router {
  /** Every GraphQL request over HTTP: through the plain door, or yoga's own handler (src/server/plain-http.ts). */
  graphqlHttp: GraphQLOverHttp;
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

/** /graphql, /health, /ready, /metrics and the webhook; each request inside its own request-id log scope. */
export function createRequestListener(
  { graphqlHttp, clerkWebhook, metrics, metricsAccess, ready, maxBodyBytes }: Router,
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
    if (path === GRAPHQL_PATH || path === GRAPHQL_STREAM_PATH) {
      if (refusedBody(req, res, maxBodyBytes)) return;
      graphqlHttp(req, res, path);
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
