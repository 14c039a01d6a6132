/**
 * The graceful stop behind `App.close()`, finished within SHUTDOWN_TIMEOUT_MS whatever the clients do: the drain
 * (answering with /ready 503 and `Connection: close` while load balancers notice), then the listening socket
 * closed, idle connections closed once quiet, SSE streams ended, WebSockets asked to close (and cut), in-flight
 * requests finished, and whatever is left closed at the deadline.
 */
import http from 'node:http';
import net from 'node:net';
import type { AppConfig } from '../config';
import { logger } from '../logger';
import type { ConnectionGuard } from './connections';

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

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** The graceful stop behind `App.close()`. */
export async function shutDown(
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
