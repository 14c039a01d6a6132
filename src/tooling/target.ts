/**
 * Which PostgreSQL this process talks to: `DATABASE_URL` (and `DIRECT_URL`) when set, else the embedded
 * server in the data folder. Used by the server and every `db:*` script, so they always agree.
 */
import type { AppConfig } from '../config';
import { logger } from '../logger';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded';
import { maskUrl } from '../db/url';

export interface DatabaseTarget {
  /** Application connection (may go through PgBouncer). */
  url: string;
  /** Direct connection for migrations and LISTEN. */
  directUrl: string;
  /** Set when the embedded server is in use. */
  embedded: EmbeddedDatabase | undefined;
  /** Stops the embedded server if this process started it. */
  close(): Promise<void>;
}

export async function openDatabaseTarget(config: AppConfig): Promise<DatabaseTarget> {
  if (config.databaseUrl) {
    const directUrl = config.directUrl ?? config.databaseUrl;
    logger.info('using database from DATABASE_URL', {
      url: maskUrl(config.databaseUrl),
      direct: config.directUrl ? maskUrl(config.directUrl) : undefined,
    });
    return { url: config.databaseUrl, directUrl, embedded: undefined, close: () => Promise.resolve() };
  }
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir });
  logger.info('using embedded PostgreSQL (no DATABASE_URL set)', {
    url: maskUrl(embedded.url),
    created: embedded.created,
  });
  return { url: embedded.url, directUrl: embedded.url, embedded, close: () => embedded.stop() };
}
