/**
 * The one CORS policy, for both doors to /graphql and for cookie-authenticated WebSockets: credentialed
 * cross-origin requests only from the configured origins (CORS_ORIGINS: exact origins, or `https://*.example.app`
 * for every subdomain, such as preview deployments), and outside production from any localhost origin. Any other
 * origin gets no CORS headers at all, so a browser neither sends its preflighted request nor lets the page read a
 * response; the first refusal of each origin is logged, naming the variable to set. A page may send the headers
 * tracing and error reporting add (W3C trace context, baggage, Sentry's, a request id) and read the request id
 * and Retry-After. yoga's handler applies the policy through its `cors` option; the plain door
 * (src/server/plain-http.ts) adds the same headers, computed by the same library function (@whatwg-node/server's,
 * which yoga's CORS plugin uses), to its answers.
 */
import { getCORSHeadersByRequestAndOptions } from '@whatwg-node/server';
import type { CORSOptions } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import type { CorsConfig } from '../config';
import { logger } from '../logger';

/**
 * A request a browser sends cross-site without a preflight (a form post, a plain GET) must carry a header a
 * page cannot set without one: the Authorization header itself, or this one. Cookie-authenticated requests
 * from other sites thus never run, whatever their content type (yoga's CSRF prevention plugin checks it).
 */
export const CSRF_HEADER = 'x-graphql-yoga-csrf';

/** What a browser page may send: the API's own headers, and those tracing, error reporting and request ids add. */
const ALLOWED_HEADERS = [
  'authorization',
  'content-type',
  'accept',
  CSRF_HEADER,
  'idempotency-key',
  // graphql-sse's single-connection mode names its event stream by this header (src/server/sse.ts).
  'x-graphql-event-stream-token',
  'traceparent',
  'tracestate',
  'baggage',
  'x-request-id',
  'sentry-trace',
];
/** What a page may read of an answer beyond the basic headers: the id to quote in a report, when to retry. */
const EXPOSED_HEADERS = ['x-request-id', 'retry-after'];

const LOCALHOST = new Set(['localhost', '127.0.0.1', '[::1]']);

export interface CorsPolicy {
  /** yoga's `cors` option. */
  options(request: { headers: { get(name: string): string | null } }): CORSOptions;
  /** Whether a request with this Origin header is allowed (none: not a cross-origin request). */
  allows(origin: string | undefined): boolean;
  /** The CORS headers of an answer to a request with this Origin header; none for an origin not allowed. */
  headersFor(origin: string | undefined): Record<string, string> | undefined;
}

/** An origin pattern as parts: the scheme, the host suffix every allowed host ends with, the port. */
interface Pattern {
  protocol: string;
  suffix: string;
  port: string;
}

function compile(origins: readonly string[]): { exact: Set<string>; patterns: Pattern[] } {
  const exact = new Set<string>();
  const patterns: Pattern[] = [];
  for (const origin of origins) {
    if (!origin.includes('://*.')) {
      exact.add(origin);
      continue;
    }
    const url = new URL(origin.replace('://*.', '://wildcard.'));
    patterns.push({ protocol: url.protocol, suffix: url.hostname.slice('wildcard'.length), port: url.port });
  }
  return { exact, patterns };
}

export function corsPolicy({ origins, extraHeaders, allowLocalhost }: CorsConfig): CorsPolicy {
  const { exact, patterns } = compile(origins);
  const allowedHeaders = [...new Set([...ALLOWED_HEADERS, ...extraHeaders])];
  // Each refused origin is logged once (per instance, among the last thousand): a page retrying cannot flood the log.
  const refusedLogged = new LRUCache<string, true>({ max: 1000 });

  const isAllowed = (origin: string): boolean => {
    if (exact.has(origin)) return true;
    if (!URL.canParse(origin)) return false;
    const url = new URL(origin);
    if (url.origin !== origin) return false;
    if (allowLocalhost && LOCALHOST.has(url.hostname)) return true;
    return patterns.some((p) => p.protocol === url.protocol && p.port === url.port && url.hostname.endsWith(p.suffix));
  };

  const refused = (origin: string) => {
    if (refusedLogged.has(origin)) return;
    refusedLogged.set(origin, true);
    logger.warn('refused a browser origin: add it to CORS_ORIGINS (exact, or https://*.domain for every subdomain)', { origin });
  };

  const optionsFor = (origin: string | null): CORSOptions => {
    if (!origin) return false;
    if (!isAllowed(origin)) {
      refused(origin);
      return false;
    }
    return {
      origin: [origin],
      credentials: true,
      methods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
      allowedHeaders,
      exposedHeaders: EXPOSED_HEADERS,
      maxAge: 600,
    };
  };

  return {
    options: (request) => optionsFor(request.headers.get('origin')),
    allows: (origin) => origin === undefined || isAllowed(origin),
    headersFor(origin) {
      if (origin === undefined) return undefined;
      const options = optionsFor(origin);
      if (!options) return undefined;
      const request = { headers: { get: (name: string) => (name === 'origin' ? origin : null) } } as unknown as Request;
      return getCORSHeadersByRequestAndOptions(request, options) ?? undefined;
    },
  };
}
