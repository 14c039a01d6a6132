/**
 * The GraphQL side of the one error table: every error a client sees carries `extensions.code`. Code raises
 * client errors through src/errors.ts (the one place codes are minted) or simply lets database errors fly: the
 * server's error masking sends every error through `toGraphQLError`, the one mapping point, which uses the
 * database table (src/db/errors.ts) and logs each unexpected error once.
 */
import { PothosValidationError } from '@pothos/core';
import { GraphQLError } from 'graphql';
import { AuthenticationError, SIGN_IN_REQUIRED } from '../auth/authenticate';
import { toClientError } from '../db/errors';
import { RateLimitExceeded } from '../db/rate-limits';
import { clientError } from '../errors';
import { SubscriptionLimitReached } from '../live/quota';

export function rateLimited(error: RateLimitExceeded): GraphQLError {
  const retryAfter = error.retryAfterSeconds;
  // Retry-After for HTTP clients and proxies, beside the status.
  return clientError(
    'RATE_LIMITED',
    error.message,
    { limit: error.rule.name, retryAfter },
    { headers: { 'retry-after': String(retryAfter) } },
  );
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
  const mapped = toClientError(error);
  return clientError(mapped.code, mapped.message, mapped.fields ? { fields: mapped.fields } : {}, { cause: error });
}
