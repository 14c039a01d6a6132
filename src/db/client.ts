/**
 * The process's one Prisma client (the seed's singleton, section 3.5.2), over node-postgres through
 * `@prisma/adapter-pg`. It is created once by `connectPrisma()` at start and closed by `disconnectPrisma()`
 * on shutdown; everything else asks `prisma()` for it.
 */
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client';
import { logger } from '../logger';
import { parsePoolSettings, poolConfig } from './url';

export type Database = PrismaClient;

export interface PrismaOptions {
  /** Emit each SQL statement with its duration (seed 3.5.7): development, or `LOG_QUERIES=1`. */
  logQueries: boolean;
  production: boolean;
}

/** Builds a client; most code wants the shared one from `prisma()` instead. */
export function createPrismaClient(databaseUrl: string, options: PrismaOptions): Database {
  const settings = parsePoolSettings(databaseUrl);
  const adapter = new PrismaPg(poolConfig(settings), {
    ...(settings.schema ? { schema: settings.schema } : {}),
    onPoolError: (err) => logger.error('idle database connection failed', { err }),
  });
  // Seed 3.5.2: query + warn + error in development, error only in production.
  const client = new PrismaClient({
    adapter,
    log: [
      ...(options.logQueries ? [{ level: 'query' as const, emit: 'event' as const }] : []),
      ...(options.production ? [] : [{ level: 'warn' as const, emit: 'event' as const }]),
      { level: 'error' as const, emit: 'event' as const },
    ],
  });
  if (options.logQueries) {
    client.$on('query' as never, (event: { query: string; duration: number; params: string }) => {
      logger.info('query', { duration_ms: Math.round(event.duration * 10) / 10, sql: event.query.replace(/\s+/g, ' ').trim() });
    });
  }
  client.$on('warn' as never, (event: { message: string }) => logger.warn('prisma', { message: event.message }));
  client.$on('error' as never, (event: { message: string }) => logger.error('prisma', { message: event.message }));
  return client;
}

let shared: Database | undefined;

export function connectPrisma(databaseUrl: string, options: PrismaOptions): Database {
  if (shared) throw new Error('the Prisma client is already connected; call disconnectPrisma() first');
  shared = createPrismaClient(databaseUrl, options);
  return shared;
}

export function prisma(): Database {
  if (!shared) throw new Error('the Prisma client is not connected yet (connectPrisma() runs at start)');
  return shared;
}

export async function disconnectPrisma(): Promise<void> {
  const client = shared;
  shared = undefined;
  await client?.$disconnect();
}
