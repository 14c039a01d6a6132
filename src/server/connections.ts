/**
 * Caps on open connections, so that idle or trickling sockets cannot exhaust the process's file descriptors
 * while signed-in clients and the load balancer's /health probe still get in:
 * - per client address (`HTTP_MAX_CONNECTIONS_PER_IP`): a new connection beyond it is closed at once. Peers that
 *   are trusted proxies are exempt: every client behind them shares their address.
 * - per instance (`HTTP_MAX_CONNECTIONS`): at the cap, the connection that has been idle longest (no request in
 *   progress: a kept-alive socket between requests, or one that has not finished sending its headers) is closed
 *   to make room; only when every connection is busy (a request in progress, an SSE stream, a WebSocket) is the
 *   new one refused.
 * The instance cap is lowered below the process's open-file limit (`ulimit -n`), less a reserve for everything
 * else the process keeps open: past that limit the kernel refuses every new socket, so eviction would never get
 * its turn. Hand-written: Node's `server.maxConnections` refuses new connections instead of idle ones, which is
 * what lets idle sockets lock everyone out.
 */
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import type { Socket } from 'node:net';
import { logger } from '../logger';

/** Descriptors kept for what is not a client connection: stdio, the event loop, log and module files, DNS, LISTEN. */
const DESCRIPTORS_OF_OUR_OWN = 64;

/** The process's open-file limit (soft), from /proc/self/limits; undefined where it cannot be read or is unlimited. */
export function openFileLimit(limits: () => string = () => readFileSync('/proc/self/limits', 'utf8')): number | undefined {
  try {
    const soft = /^Max open files\s+(\d+)/m.exec(limits())?.[1];
    return soft === undefined ? undefined : Number(soft);
  } catch {
    return undefined;
  }
}

/**
 * The connections this process can really hold: `configured`, or fewer when the open-file limit leaves less room
 * once `poolSize` database connections and our own descriptors are set aside.
 */
export function connectionCap(configured: number, fileLimit: number | undefined, poolSize: number): number {
  if (fileLimit === undefined) return configured;
  return Math.max(1, Math.min(configured, fileLimit - poolSize - DESCRIPTORS_OF_OUR_OWN));
}

export interface ConnectionLimits {
  maxConnections: number;
  maxConnectionsPerAddress: number;
}

export class ConnectionGuard {
  /** Connections without a request in progress, oldest first (a Set keeps insertion order). */
  private readonly idle = new Set<Socket>();
  /** When each idle connection became idle (accepted, or its last response finished). */
  private readonly idleSince = new WeakMap<Socket, number>();
  private readonly inFlight = new WeakMap<Socket, number>();
  private readonly perAddress = new Map<string, number>();
  private readonly upgraded = new WeakSet<Socket>();
  private open = 0;
  private lastAccepted = 0;

  constructor(
    server: http.Server,
    private readonly limits: ConnectionLimits,
    private readonly isTrustedProxy: (address: string) => boolean,
    private readonly onCapped: (action: 'refused' | 'evicted') => void = () => undefined,
  ) {
    server.on('connection', (socket: Socket) => this.admit(socket));
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const socket = req.socket;
      this.idle.delete(socket);
      this.inFlight.set(socket, (this.inFlight.get(socket) ?? 0) + 1);
      res.once('close', () => {
        const left = (this.inFlight.get(socket) ?? 1) - 1;
        this.inFlight.set(socket, left);
        // Re-inserted last: idle from now on.
        if (left === 0 && !socket.destroyed && !this.upgraded.has(socket)) this.markIdle(socket);
      });
    });
    // A WebSocket is busy for as long as it lives.
    server.on('upgrade', (req: http.IncomingMessage) => {
      this.upgraded.add(req.socket);
      this.idle.delete(req.socket);
    });
  }

  get openConnections(): number {
    return this.open;
  }

  /** When the newest connection was accepted (ms since the epoch). */
  get lastAcceptedAt(): number {
    return this.lastAccepted;
  }

  /**
   * Closes the connections that have had no request in progress for at least `quietMs`; the number of
   * connections still open. A connection accepted or answered more recently may have a request on its way,
   * and closing it then would reset that request.
   */
  closeIdle(quietMs: number): number {
    const before = Date.now() - quietMs;
    for (const socket of this.idle) {
      // Oldest first: the rest became idle later.
      if ((this.idleSince.get(socket) ?? 0) > before) break;
      this.idle.delete(socket);
      socket.destroy();
    }
    return this.open;
  }

  private markIdle(socket: Socket): void {
    this.idle.add(socket);
    this.idleSince.set(socket, Date.now());
  }

  private admit(socket: Socket): void {
    const address = socket.remoteAddress ?? '';
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (fromAddress >= this.limits.maxConnectionsPerAddress && !this.isTrustedProxy(address)) {
      this.onCapped('refused');
      logger.debug('refused a connection: too many from its address', { address, open: fromAddress });
      return void socket.destroy();
    }
    if (this.open >= this.limits.maxConnections) {
      const oldestIdle = this.idle.values().next().value;
      if (!oldestIdle) {
        this.onCapped('refused');
        logger.warn('refused a connection: every connection is busy (HTTP_MAX_CONNECTIONS)', { open: this.open });
        return void socket.destroy();
      }
      this.onCapped('evicted');
      this.idle.delete(oldestIdle);
      oldestIdle.destroy();
    }
    this.open += 1;
    this.lastAccepted = Date.now();
    this.perAddress.set(address, fromAddress + 1);
    this.markIdle(socket);
    socket.once('close', () => {
      this.open -= 1;
      this.idle.delete(socket);
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
    });
  }
}
