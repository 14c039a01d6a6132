/**
 * The process's one Prisma client, over a node-postgres pool through `@prisma/adapter-pg`. `npm start` creates
 * it once with `connectPrisma()` and closes it with `disconnectPrisma()`; everything else receives it as an
 * argument (the GraphQL context, the scripts). Failed queries are not logged here: they reach the caller,
 * and the error table logs the unexpected ones, once.
 */
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client';
import { logger } from '../logger';
import { parsePoolSettings, poolConfig } from './url';

export type Database = PrismaClient;

export interface PrismaOptions {
  /** Log each SQL statement with its duration: development, or `LOG_QUERIES=1`. */
  logQueries: boolean;
  /** Prisma's own warnings are logged outside production only. */
  production: boolean;
}

export interface PoolUsage {
  /** Connections open (in use + idle). */
  total: number;
  idle: number;
  /** Queries waiting for a connection. */
  waiting: number;
}

const pools = new WeakMap<Database, pg.Pool>();
const schemas = new WeakMap<Database, string>();

/** The connection pool behind a client, for metrics. */
export function poolUsage(db: Database): PoolUsage | undefined {
  const pool = pools.get(db);
  return pool && { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
}

/**
 * The PostgreSQL schema a client's tables are in (the URL's `schema` parameter, else `public`), quoted for SQL
 * written by hand: Prisma qualifies its own statements with it, so raw statements must too.
 */
export function quotedSchemaOf(db: Database): string {
  return `"${(schemas.get(db) ?? 'public').replaceAll('"', '""')}"`;
}

/**
 * Names for the statements Prisma sends, so node-postgres prepares each once per connection and PostgreSQL
 * parses and plans it once instead of on every request. One name per distinct SQL text, for the first
 * MAX_PREPARED_STATEMENTS texts a process sends (a connection then holds at most that many); later ones go
 * unnamed, as all statements do behind PgBouncer (`pgbouncer=true`).
 */
const MAX_PREPARED_STATEMENTS = 1_000;

function statementNames(): (query: { sql: string }) => string | undefined {
  const names = new Map<string, string>();
  return ({ sql }) => {
    let name = names.get(sql);
    if (name === undefined && names.size < MAX_PREPARED_STATEMENTS) names.set(sql, (name = `prisma_${names.size}`));
    return name;
  };
}

export function createPrismaClient(databaseUrl: string, options: PrismaOptions): Database {
  const settings = parsePoolSettings(databaseUrl);
  const pool = new pg.Pool(poolConfig(settings));
  const adapter = new PrismaPg(pool, {
    ...(settings.schema ? { schema: settings.schema } : {}),
    disposeExternalPool: true,
    ...(settings.preparedStatements ? { statementNameGenerator: statementNames() as (query: { sql: string }) => string } : {}),
    // The message and code only: node-postgres attaches its whole client to the error (kilobytes of driver
    // state per lost connection). Expected while the database restarts, so a warning.
    onPoolError: (err) => logger.warn('idle database connection failed', { reason: err.message, code: (err as { code?: unknown }).code }),
  });
  const client = new PrismaClient({
    adapter,
    // Any other format captures a stack trace (a new Error) on every query, to point a failed query's message
    // at its call site: most of the client's own cost for a small query. Failures are mapped by code in the one
    // error table and logged there with their own stack, so the call-site excerpt is never read.
    errorFormat: 'minimal',
    log: [
      ...(options.logQueries ? [{ level: 'query' as const, emit: 'event' as const }] : []),
      ...(options.production ? [] : [{ level: 'warn' as const, emit: 'event' as const }]),
    ],
  });
  if (options.logQueries) {
    client.$on('query' as never, (event: { query: string; duration: number }) => {
      logger.info('query', { duration_ms: Math.round(event.duration * 10) / 10, sql: event.query.replace(/\s+/g, ' ').trim() });
    });
  }
  if (!options.production) client.$on('warn' as never, (event: { message: string }) => logger.warn('prisma', { message: event.message }));
  pools.set(client, pool);
  if (settings.schema) schemas.set(client, settings.schema);
  return client;
}

let shared: Database | undefined;

/** Creates the process's client (once). */
export function connectPrisma(databaseUrl: string, options: PrismaOptions): Database {
  if (shared) throw new Error('the Prisma client is already connected; call disconnectPrisma() first');
  shared = createPrismaClient(databaseUrl, options);
  return shared;
}

export async function disconnectPrisma(): Promise<void> {
  const client = shared;
  shared = undefined;
  await client?.$disconnect();
}
