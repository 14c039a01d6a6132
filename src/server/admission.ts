/**
 * Who may make the server work, decided before any GraphQL work: for HTTP (and SSE) in the first request hook
 * yoga runs after CORS, GraphiQL's page and CSRF, before the body is read or parsed; for WebSocket at connect
 * (the connection) and at each subscribe (the operation).
 * - No credentials at all: 401 at once (the cheapest possible answer).
 * - Credentials that fail verification, or none: they count against the client's address (ANONYMOUS_REQUESTS_PER
 *   _MINUTE, per instance); beyond it, 429 without even verifying a token, unless it is one already verified.
 * - A signed-in request spends one permit of its user's request budget before its document is parsed, so a
 *   document refused by the limits costs the budget like any other.
 * - WebSockets: at most WS_MAX_CONNECTIONS_PER_USER per user on this instance, and each connection spends a permit.
 */
import type http from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import ipaddr from 'ipaddr.js';
import proxyAddr from 'proxy-addr';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AuthenticationError, credentialsFrom, type Authenticator, type Credentials, type Session } from '../auth/authenticate';
import type { TokenVerifier } from '../auth/tokens';
import { RateLimitExceeded, type UserQuotas } from '../db/rate-limits';
import { clientError } from '../errors';
import { rateLimited, toGraphQLError, unauthenticated } from '../schema/errors';
import { inSpan } from '../spans';

export interface AdmissionOptions {
  authenticate: Authenticator;
  verifyToken: TokenVerifier;
  quotas: UserQuotas;
  /** Requests without valid credentials per client address per minute; 0: no limit. */
  anonymousPerMinute: number;
  /** Proxies whose X-Forwarded-For is believed (proxy-addr's list: addresses, CIDRs, `loopback`, …). */
  trustedProxies: readonly string[];
  wsMaxConnectionsPerUser: number;
}

/** What the HTTP hook leaves for the context factory (yoga's server context is the initial context). */
export interface Admitted {
  session?: Session;
  /** An unexpected failure while signing in (the database, say): raised by the context factory, through the error masking. */
  admissionError?: unknown;
}

/** Why a WebSocket connection is closed at connect: graphql-ws treats 4429 as final, so clients do not hammer. */
export interface ConnectRefusal {
  code: 4403 | 4429;
  reason: string;
}

/**
 * `X-Forwarded-For` counts only when the peer is a trusted proxy; IPv6 clients are limited by their /64. A
 * connection from any other peer has one address for all its requests: it is worked out once per connection.
 */
export function clientAddressResolver(trustedProxies: readonly string[]) {
  const trust = proxyAddr.compile([...trustedProxies]);
  const ofConnection = new WeakMap<Socket, string>();
  const resolve = (req: IncomingMessage) => {
    const found = proxyAddr(req, trust);
    if (!ipaddr.isValid(found)) return found;
    const parsed = ipaddr.process(found);
    return parsed.kind() === 'ipv6' ? `${(parsed as ipaddr.IPv6).parts.slice(0, 4).join(':')}::/64` : parsed.toString();
  };
  const address = (req: IncomingMessage) => {
    const known = ofConnection.get(req.socket);
    if (known !== undefined) return known;
    const resolved = resolve(req);
    if (!trust(req.socket.remoteAddress ?? '', 0)) ofConnection.set(req.socket, resolved);
    return resolved;
  };
  return { address, isTrustedProxy: (peer: string) => trust(peer, 0) };
}

/** A refusal answered before any GraphQL work, in GraphQL's error shape: its status, headers and body. */
export function refusalOf(error: GraphQLError): { status: number; headers: Record<string, string>; body: string } {
  const { http: httpExtension, ...extensions } = error.extensions as { http?: { status?: number; headers?: Record<string, string> } };
  return {
    status: httpExtension?.status ?? 401,
    headers: { 'content-type': 'application/json; charset=utf-8', ...httpExtension?.headers },
    body: JSON.stringify({ errors: [{ message: error.message, extensions }] }),
  };
}

const anonymousLimited = (retryAfterSeconds: number) => {
  const error = clientError(
    'RATE_LIMITED',
    `Too many requests without a valid session token from your address: try again in ${retryAfterSeconds} s`,
    { limit: 'anonymousPerMinute', retryAfter: retryAfterSeconds },
    { headers: { 'retry-after': String(retryAfterSeconds) } },
  );
  return error;
};

export class Admission {
  private readonly anonymous: RateLimiterMemory | undefined;
  private readonly addresses: ReturnType<typeof clientAddressResolver>;
  private readonly webSocketsByUser = new Map<string, number>();

  constructor(private readonly options: AdmissionOptions) {
    this.anonymous =
      options.anonymousPerMinute > 0 ? new RateLimiterMemory({ points: options.anonymousPerMinute, duration: 60 }) : undefined;
    this.addresses = clientAddressResolver(options.trustedProxies);
  }

  get isTrustedProxy(): (peer: string) => boolean {
    return this.addresses.isTrustedProxy;
  }

  /** The client's address as the limits count it (X-Forwarded-For only from a trusted proxy). */
  addressOf(req: IncomingMessage): string {
    return this.addresses.address(req);
  }

  /**
   * A request from `address` with these credentials: the session, or the error that refuses it (401, 429).
   * Unexpected errors (the database) are thrown.
   */
  async signIn(address: string, credentials: Credentials | undefined): Promise<Session | GraphQLError> {
    if (!credentials) return (await this.countAnonymous(address)) ?? unauthenticated();
    if (!this.options.verifyToken.known(credentials.token)) {
      const blocked = await this.blockedFor(address);
      if (blocked) return anonymousLimited(blocked);
    }
    let session: Session;
    try {
      session = await this.options.authenticate(credentials);
    } catch (error) {
      if (!(error instanceof AuthenticationError)) throw error;
      return (await this.countAnonymous(address)) ?? unauthenticated(error.message);
    }
    try {
      await this.options.quotas.request(session.user.id);
    } catch (error) {
      if (error instanceof RateLimitExceeded) return rateLimited(error);
      throw error;
    }
    return session;
  }

  /** The yoga plugin admitting HTTP requests (queries, mutations, SSE subscriptions). */
  httpPlugin(): Plugin {
    return {
      onRequest: async (hook) => {
        const { request, serverContext, fetchAPI } = hook;
        if (request.method === 'OPTIONS') return;
        const context = serverContext as Admitted & { req?: http.IncomingMessage };
        // Handed over by src/server/plain-http.ts after it signed the request in.
        if (context.session) return;
        const address = context.req ? this.addresses.address(context.req) : '';
        try {
          const outcome = await inSpan('graphql.admission', {}, () => this.signIn(address, credentialsFrom(request.headers)));
          if (outcome instanceof GraphQLError) {
            const { body, ...init } = refusalOf(outcome);
            return hook.endResponse(new fetchAPI.Response(body, init));
          }
          context.session = outcome;
        } catch (error) {
          context.admissionError = toGraphQLError(error);
        }
      },
    };
  }

  /**
   * A WebSocket's connection_init: its session, or why it is closed. Call `releaseWebSocket` when a connection
   * that was admitted closes.
   */
  async connect(
    request: IncomingMessage,
    connectionParams: Readonly<Record<string, unknown>> | undefined,
  ): Promise<Session | ConnectRefusal> {
    const outcome = await this.signIn(this.addresses.address(request), credentialsFrom(request.headers, connectionParams));
    if (outcome instanceof GraphQLError) {
      return outcome.extensions.code === 'RATE_LIMITED'
        ? { code: 4429, reason: truncate(`Too many requests: ${outcome.message}`) }
        : { code: 4403, reason: 'Forbidden' };
    }
    const userId = outcome.user.id;
    const open = this.webSocketsByUser.get(userId) ?? 0;
    const max = this.options.wsMaxConnectionsPerUser;
    if (open >= max)
      return { code: 4429, reason: `Too many connections: at most ${max} WebSockets per user (WS_MAX_CONNECTIONS_PER_USER)` };
    this.webSocketsByUser.set(userId, open + 1);
    return outcome;
  }

  releaseWebSocket(session: Session): void {
    const open = (this.webSocketsByUser.get(session.user.id) ?? 1) - 1;
    if (open > 0) this.webSocketsByUser.set(session.user.id, open);
    else this.webSocketsByUser.delete(session.user.id);
  }

  /** One operation on an admitted WebSocket: a permit of the user's budget, or the RATE_LIMITED error. */
  async operation(session: Session): Promise<GraphQLError | undefined> {
    try {
      await this.options.quotas.request(session.user.id);
      return undefined;
    } catch (error) {
      if (error instanceof RateLimitExceeded) return rateLimited(error);
      throw error;
    }
  }

  /** Counts one request without valid credentials; the refusal once the address is over its limit. */
  private async countAnonymous(address: string): Promise<GraphQLError | undefined> {
    if (!this.anonymous) return undefined;
    try {
      await this.anonymous.consume(address);
      return undefined;
    } catch (result) {
      if (!(result instanceof RateLimiterRes)) throw result;
      return anonymousLimited(Math.max(1, Math.ceil(result.msBeforeNext / 1000)));
    }
  }

  /** Seconds until `address` may send unverified credentials again; 0 when it may now. */
  private async blockedFor(address: string): Promise<number> {
    const state = await this.anonymous?.get(address);
    if (!state || state.remainingPoints > 0) return 0;
    return Math.max(1, Math.ceil(state.msBeforeNext / 1000));
  }
}

/** A WebSocket close reason is at most 123 bytes. */
const truncate = (reason: string) => (Buffer.byteLength(reason) <= 123 ? reason : `${reason.slice(0, 119)}…`);
