/**
 * Connection-string handling shared by the app pool, migrations and the listener.
 * Prisma's URL parameters (`connection_limit`, `pool_timeout`, `pgbouncer`, `schema`) are not understood by
 * node-postgres, so they are translated into pool options and removed from the URL it sees. `pgbouncer=true`
 * means what it means to Prisma: no prepared statements (a transaction-pooling PgBouncer before 1.21 cannot
 * route them), so every statement is sent unnamed; this server keeps no other session state
 * (tests/server/pgbouncer.test.ts runs the API through one).
 */
import type { PoolConfig } from 'pg';

export interface PoolSettings {
  /** URL without Prisma-only parameters, for node-postgres. */
  connectionString: string;
  /** Pool size (`connection_limit`); node-postgres' default of 10 otherwise. */
  max: number;
  /** How long to wait for a free connection (`pool_timeout`, seconds; default 10 s, as Prisma's own). */
  connectionTimeoutMillis: number;
  /** PostgreSQL schema (`schema` parameter), default `public`. */
  schema: string | undefined;
  /** Statements prepared once per connection and reused; off with `pgbouncer=true`. */
  preparedStatements: boolean;
}

const PRISMA_ONLY_PARAMS = ['connection_limit', 'pool_timeout', 'pgbouncer', 'schema', 'connect_timeout'];

function positiveInt(url: URL, name: string): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`database URL parameter ${name} must be a non-negative integer (got "${raw}")`);
  }
  return value;
}

export function parsePoolSettings(databaseUrl: string): PoolSettings {
  const url = new URL(databaseUrl);
  const max = positiveInt(url, 'connection_limit');
  const poolTimeout = positiveInt(url, 'pool_timeout');
  const connectTimeout = positiveInt(url, 'connect_timeout');
  const schema = url.searchParams.get('schema') ?? undefined;
  const behindPgBouncer = url.searchParams.get('pgbouncer') === 'true';
  for (const name of PRISMA_ONLY_PARAMS) url.searchParams.delete(name);
  return {
    connectionString: url.toString(),
    max: max && max > 0 ? max : 10,
    connectionTimeoutMillis: (poolTimeout ?? connectTimeout ?? 10) * 1000,
    schema,
    preparedStatements: !behindPgBouncer,
  };
}

export function poolConfig(settings: PoolSettings): PoolConfig {
  return {
    connectionString: settings.connectionString,
    max: settings.max,
    connectionTimeoutMillis: settings.connectionTimeoutMillis,
    // How the server's connections show in pg_stat_activity; an application_name in the URL wins.
    application_name: 'opportunity-api',
  };
}

/** The URL with its password replaced, for logs. */
export function maskUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = '****';
    return url.toString();
  } catch {
    return '<invalid database URL>';
  }
}

/** The same server and credentials, another database. */
export function withDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}
