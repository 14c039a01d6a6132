/**
 * The one place client errors are minted: every code a client may find in `extensions.code`, and the HTTP status
 * a code gives a whole response. Every layer raises errors through these (a rule of the runs domain, the limits,
 * the trusted documents, admission); src/schema/errors.ts maps everything else (database failures, library
 * errors) onto them.
 */
import { GraphQLError } from 'graphql';

export type ErrorCode =
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'BAD_USER_INPUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'RATE_LIMITED'
  | 'QUERY_LIMIT_EXCEEDED'
  | 'PERSISTED_QUERY_NOT_FOUND'
  | 'PERSISTED_DOCUMENT_NOT_FOUND'
  | 'PERSISTED_DOCUMENT_REQUIRED'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL_SERVER_ERROR';

/** Codes that decide the HTTP status of the whole response; other errors may sit beside partial data. */
const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
  QUERY_LIMIT_EXCEEDED: 400,
  PERSISTED_DOCUMENT_NOT_FOUND: 400,
  PERSISTED_DOCUMENT_REQUIRED: 400,
  // Apollo's persisted-query protocol: the client sends the text next, so this is not a failed request.
  PERSISTED_QUERY_NOT_FOUND: 200,
};
/** Seconds a client should wait before retrying after SERVICE_UNAVAILABLE: a restart or failover takes about that. */
const UNAVAILABLE_RETRY_AFTER_SECONDS = 1;

export interface ClientErrorOptions {
  /** The whole response's HTTP status, where the code alone does not decide it (a request refused before it runs). */
  status?: number;
  headers?: Record<string, string>;
  /** Kept for development error messages; never serialised to clients. */
  cause?: unknown;
}

export function clientError(
  code: ErrorCode,
  message: string,
  extensions: Record<string, unknown> = {},
  { status = HTTP_STATUS[code], headers, cause }: ClientErrorOptions = {},
): GraphQLError {
  const retryAfter = code === 'SERVICE_UNAVAILABLE' ? { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS) } : undefined;
  const allHeaders = headers || retryAfter ? { ...retryAfter, ...headers } : undefined;
  return new GraphQLError(message, {
    originalError: cause instanceof Error ? cause : undefined,
    extensions: {
      code,
      ...extensions,
      ...(status === undefined ? {} : { http: { status, ...(allHeaders ? { headers: allHeaders } : {}) } }),
    },
  });
}

export const notFound = (what: string) => clientError('NOT_FOUND', `${what} not found`);

/** A bad argument: names the field (as a path such as `input.companyId`) and what was wrong with it. */
export const badInput = (field: string, problem: string) => clientError('BAD_USER_INPUT', `${field} ${problem}`, { field });

export const conflict = (message: string, extensions: Record<string, unknown> = {}) => clientError('CONFLICT', message, extensions);
