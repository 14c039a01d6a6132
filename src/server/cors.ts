/**
 * The one CORS policy, for both doors to /graphql: credentialed cross-origin requests only from the configured
 * origins (CORS_ORIGINS); any other origin gets no CORS headers at all, so a browser neither sends its
 * preflighted request nor lets the page read a response. yoga's handler applies it through its `cors` option;
 * the plain door (src/server/plain-http.ts) adds the same headers, computed by the same library function
 * (@whatwg-node/server's, which yoga's CORS plugin uses), to its answers.
 */
import { getCORSHeadersByRequestAndOptions } from '@whatwg-node/server';
import type { CORSOptions } from 'graphql-yoga';

/**
 * A request a browser sends cross-site without a preflight (a form post, a plain GET) must carry a header a
 * page cannot set without one: the Authorization header itself, or this one. Cookie-authenticated requests
 * from other sites thus never run, whatever their content type (yoga's CSRF prevention plugin checks it).
 */
export const CSRF_HEADER = 'x-graphql-yoga-csrf';

export interface CorsPolicy {
  /** yoga's `cors` option. */
  options(request: { headers: { get(name: string): string | null } }): CORSOptions;
  /** Whether a request with this Origin header is allowed (none: not a cross-origin request). */
  allows(origin: string | undefined): boolean;
  /** The CORS headers of an answer to a request with this Origin header; none for an origin not allowed. */
  headersFor(origin: string | undefined): Record<string, string> | undefined;
}

export function corsPolicy(allowedOrigins: readonly string[]): CorsPolicy {
  const allowed = new Set(allowedOrigins);
  const optionsFor = (origin: string | null): CORSOptions => {
    if (!origin || !allowed.has(origin)) return false;
    return {
      origin: [origin],
      credentials: true,
      methods: ['GET', 'POST', 'OPTIONS'],
      allowedHeaders: ['authorization', 'content-type', 'accept', CSRF_HEADER, 'idempotency-key'],
      maxAge: 600,
    };
  };
  return {
    options: (request) => optionsFor(request.headers.get('origin')),
    allows: (origin) => origin === undefined || allowed.has(origin),
    headersFor(origin) {
      if (origin === undefined) return undefined;
      const request = { headers: { get: (name: string) => (name === 'origin' ? origin : null) } } as unknown as Request;
      return getCORSHeadersByRequestAndOptions(request, optionsFor(origin)) ?? undefined;
    },
  };
}
