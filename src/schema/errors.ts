/**
 * The GraphQL side of the one error table: every error a client sees carries `extensions.code`. Database
 * failures go through src/db/errors.ts; the rest are raised here by name.
 */
import { PothosValidationError } from '@pothos/core';
import { GraphQLError } from 'graphql';
import { toClientError, type ClientErrorCode } from '../db/errors';

export type ErrorCode = ClientErrorCode | 'UNAUTHENTICATED';

export function clientError(code: ErrorCode, message: string, extra: Record<string, unknown> = {}, cause?: unknown): GraphQLError {
  return new GraphQLError(message, {
    // Kept for development error messages; never serialised to clients.
    originalError: cause instanceof Error ? cause : undefined,
    extensions: {
      code,
      ...extra,
      // Only authentication changes the HTTP status: other errors may sit beside partial data.
      ...(code === 'UNAUTHENTICATED' ? { http: { status: 401 } } : {}),
    },
  });
}

export const notFound = (what: string) => clientError('NOT_FOUND', `${what} not found`);

/** A bad argument: names the field (as a path such as `input.companyId`) and what was wrong with it. */
export const badInput = (field: string, problem: string) =>
  clientError('BAD_USER_INPUT', `${field} ${problem}`, { field });

export const unauthenticated = (message = 'Sign in required: send a Clerk session token as `Authorization: Bearer <token>`') =>
  clientError('UNAUTHENTICATED', message);

/**
 * What the client sees of any error raised while executing an operation: errors that already carry a code
 * pass through; Pothos' argument validation (page sizes, cursors) is BAD_USER_INPUT; everything else goes
 * through the database error table, which logs unexpected failures and hides their details.
 */
export function toGraphQLError(error: unknown): GraphQLError {
  if (error instanceof GraphQLError && typeof error.extensions.code === 'string') return error;
  if (error instanceof PothosValidationError) return clientError('BAD_USER_INPUT', error.message);
  const mapped = toClientError(error);
  return clientError(mapped.code, mapped.message, mapped.fields ? { fields: mapped.fields } : {}, error);
}

/** Runs a database operation, turning its failures into client errors through the foundation's table. */
export async function withClientErrors<T>(operation: Promise<T>): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    throw toGraphQLError(error);
  }
}
