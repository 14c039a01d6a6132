/**
 * The one table from database errors to client errors: not found (P2025), duplicate (P2002), invalid reference
 * (P2003), missing table (P2021), the database unreachable or going away (SERVICE_UNAVAILABLE: clients and load
 * balancers retry it), anything else internal. The GraphQL layer turns a `ClientError`
 * into a GraphQL error with `extensions.code`; nothing else decides what a client sees of a database failure.
 * Details of unexpected failures are logged here and never sent to the client.
 */
import { Prisma } from '../generated/prisma/client';
import type { ErrorCode } from '../errors';
import { logger } from '../logger';

/** The codes a database failure maps to (src/errors.ts has them all). */
export type ClientErrorCode = Extract<
  ErrorCode,
  'NOT_FOUND' | 'CONFLICT' | 'BAD_USER_INPUT' | 'SERVICE_UNAVAILABLE' | 'INTERNAL_SERVER_ERROR'
>;

export interface ClientError {
  code: ClientErrorCode;
  message: string;
  /** The fields at fault, when the database names them (unique constraints). */
  fields?: string[];
}

const INTERNAL: ClientError = {
  code: 'INTERNAL_SERVER_ERROR',
  message: 'Internal server error',
};

const UNAVAILABLE: ClientError = {
  code: 'SERVICE_UNAVAILABLE',
  message: 'The database is unavailable for a moment: retry the request shortly',
};

/**
 * Signs that the database could not be reached or went away (a restart, a failover, a cut network), however
 * deep they sit: Prisma's connection codes, the driver adapter's kinds, SQLSTATE classes 08 (connection
 * exception) and 57P (shutting down, starting up), too many connections, the socket's errno. node-postgres
 * reports a connection lost mid-query only in words, without a code.
 */
const UNAVAILABLE_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2037', '53300', '57P01', '57P02', '57P03']);
const UNAVAILABLE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const UNAVAILABLE_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length) {
    const candidate = pending.pop();
    if (typeof candidate !== 'object' || candidate === null || seen.has(candidate)) continue;
    seen.add(candidate);
    const { code, kind, originalCode, message, cause, meta } = candidate as Record<string, unknown>;
    for (const value of [code, originalCode]) {
      if (typeof value !== 'string') continue;
      if (UNAVAILABLE_CODES.has(value) || SOCKET_CODES.has(value) || /^08[0-9A-Z]{3}$/.test(value)) return true;
    }
    if (typeof kind === 'string' && UNAVAILABLE_KINDS.has(kind)) return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message)) return true;
    const adapter = (meta as { driverAdapterError?: unknown } | undefined)?.driverAdapterError;
    pending.push(cause, adapter);
  }
  return false;
}

const SCALAR_FIELDS: Record<string, readonly string[]> = {
  User: Object.values(Prisma.UserScalarFieldEnum),
  Run: Object.values(Prisma.RunScalarFieldEnum),
  OpportunityCard: Object.values(Prisma.OpportunityCardScalarFieldEnum),
  InspirationReport: Object.values(Prisma.InspirationReportScalarFieldEnum),
  StageOutput: Object.values(Prisma.StageOutputScalarFieldEnum),
};

/**
 * Fields of a Prisma-named unique index (`User_email_key`, `Model_a_b_key`), matched against the model's
 * fields so that field names containing underscores (`why_now`) survive.
 */
export function fieldsFromIndexName(index: string): string[] {
  const match = /^(.+?)_(.+)_key$/.exec(index);
  const known = match ? SCALAR_FIELDS[match[1]!] : undefined;
  if (!match || !known) return [index];
  const fields: string[] = [];
  let rest = match[2]!;
  while (rest) {
    const field = [...known].sort((a, b) => b.length - a.length).find((f) => rest === f || rest.startsWith(`${f}_`));
    if (!field) return [index];
    fields.push(field);
    rest = rest.slice(field.length + 1);
  }
  return fields;
}

/** Fields named by a unique-constraint failure: Prisma puts them in `meta.target`, or, through a driver
 * adapter, in the adapter error's cause (as fields or as the index name). */
export function constraintFields(error: Prisma.PrismaClientKnownRequestError): string[] {
  const meta = (error.meta ?? {}) as {
    target?: unknown;
    driverAdapterError?: { cause?: { constraint?: { fields?: unknown; index?: unknown } } };
  };
  if (Array.isArray(meta.target)) return meta.target.map(String);
  if (typeof meta.target === 'string') return fieldsFromIndexName(meta.target);
  const constraint = meta.driverAdapterError?.cause?.constraint;
  if (Array.isArray(constraint?.fields)) return constraint.fields.map((f) => String(f).replace(/^"|"$/g, ''));
  if (typeof constraint?.index === 'string') return fieldsFromIndexName(constraint.index);
  return [];
}

/** Model name recorded by Prisma for the failed operation, when there is one. */
function modelName(error: Prisma.PrismaClientKnownRequestError): string | undefined {
  const name = (error.meta as { modelName?: unknown } | undefined)?.modelName;
  return typeof name === 'string' ? name : undefined;
}

export function toClientError(error: unknown): ClientError {
  if (isDatabaseUnavailable(error)) {
    logger.warn('database unavailable', { reason: error instanceof Error ? error.message.split('\n').at(-1) : String(error) });
    return UNAVAILABLE;
  }
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    switch (error.code) {
      case 'P2025': {
        const model = modelName(error);
        return { code: 'NOT_FOUND', message: `${model ?? 'Record'} not found` };
      }
      case 'P2002': {
        const fields = constraintFields(error);
        const named = fields.length ? ` on ${fields.join(', ')}` : '';
        return { code: 'CONFLICT', message: `Duplicate entry${named}: a record with this value already exists`, fields };
      }
      case 'P2003':
        return { code: 'BAD_USER_INPUT', message: 'Invalid reference: the related record does not exist' };
      case 'P2021':
        logger.error('database schema is not migrated: a table is missing; run `npm run db:migrate`', {
          prismaCode: error.code,
          detail: error.message,
        });
        return INTERNAL;
    }
    logger.error('unhandled database error', { prismaCode: error.code, err: error });
    return INTERNAL;
  }
  logger.error('unexpected error', { err: error });
  return INTERNAL;
}
