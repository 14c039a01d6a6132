/**
 * The GraphQL side of the one error table: every error a client sees carries `extensions.code`. Resolvers
 * raise client errors by name (notFound, badInput, …) or simply let database errors fly: the server's error
 * masking sends every error through `toGraphQLError`, the one mapping point, which uses the database table
 * (src/db/errors.ts) and logs each unexpected error once.
 */
import { PothosValidationError } from '@pothos/core';
import { GraphQLError } from 'graphql';
import { AuthenticationError, SIGN_IN_REQUIRED } from '../auth/authenticate';
import { toClientError, type ClientErrorCode } from '../db/errors';
import { RateLimitExceeded } from '../db/rate-limits';
import { SubscriptionLimitReached } from '../live/quota';
import { RunRefusal } from '../runs/refusal';

export type ErrorCode = ClientErrorCode | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'RATE_LIMITED';

/** Codes that decide the HTTP status of the whole response; other errors may sit beside partial data. */
const HTTP_STATUS: Partial<Record<ErrorCode, number>> = { UNAUTHENTICATED: 401, RATE_LIMITED: 429, SERVICE_UNAVAILABLE: 503 };
/** Seconds a client should wait before retrying after SERVICE_UNAVAILABLE: a restart or failover takes about that. */
const UNAVAILABLE_RETRY_AFTER_SECONDS = 1;

export function clientError(code: ErrorCode, message: string, extra: Record<string, unknown> = {}, cause?: unknown): GraphQLError {
  return new GraphQLError(message, {
    // Kept for development error messages; never serialised to clients.
    originalError: cause instanceof Error ? cause : undefined,
    extensions: {
      code,
      ...extra,
      ...(HTTP_STATUS[code] ? { http: { status: HTTP_STATUS[code], ...retryAfterHeader(code) } } : {}),
    },
  });
}

function retryAfterHeader(code: ErrorCode) {
  return code === 'SERVICE_UNAVAILABLE' ? { headers: { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS) } } : {};
}

export const notFound = (what: string) => clientError('NOT_FOUND', `${what} not found`);

/** A bad argument: names the field (as a path such as `input.companyId`) and what was wrong with it. */
export const badInput = (field: string, problem: string) => clientError('BAD_USER_INPUT', `${field} ${problem}`, { field });

export function rateLimited(error: RateLimitExceeded): GraphQLError {
  const retryAfter = error.retryAfterSeconds;
  const graphqlError = clientError('RATE_LIMITED', error.message, { limit: error.rule.name, retryAfter });
  // Retry-After for HTTP clients and proxies, beside the status.
  graphqlError.extensions.http = { status: 429, headers: { 'retry-after': String(retryAfter) } };
  return graphqlError;
}

export const unauthenticated = (message = SIGN_IN_REQUIRED) => clientError('UNAUTHENTICATED', message);

/**
 * What the client sees of any error raised while executing an operation: errors that already carry a code
 * pass through; Pothos' argument validation (page sizes, cursors) is BAD_USER_INPUT; everything else goes
 * through the database error table, which logs unexpected failures and hides their details.
 */
export function toGraphQLError(error: unknown): GraphQLError {
  if (error instanceof GraphQLError && typeof error.extensions.code === 'string') return error;
  // A GraphQL error of its own (not wrapping a thrown one) is about the request: variables that cannot be
  // coerced, a missing variable, an unknown operation; or a refusal by yoga (CSRF: HTTP 403), kept as such.
  if (error instanceof GraphQLError && !error.originalError) {
    const http = error.extensions.http;
    const refused = clientError(http?.status === 403 ? 'FORBIDDEN' : 'BAD_USER_INPUT', error.message);
    if (http) refused.extensions.http = http;
    return refused;
  }
  if (error instanceof GraphQLError && error.originalError) return toGraphQLError(error.originalError);
  if (error instanceof PothosValidationError) return clientError('BAD_USER_INPUT', error.message);
  if (error instanceof RateLimitExceeded) return rateLimited(error);
  if (error instanceof SubscriptionLimitReached) {
    return clientError('RATE_LIMITED', error.message, { limit: 'subscriptionsPerUser', max: error.max });
  }
  if (error instanceof AuthenticationError) return unauthenticated(error.message);
  if (error instanceof RunRefusal) return clientError(error.code, error.message, error.details);
  const mapped = toClientError(error);
  return clientError(mapped.code, mapped.message, mapped.fields ? { fields: mapped.fields } : {}, error);
}
