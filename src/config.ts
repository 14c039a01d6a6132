/**
 * The one configuration module: every environment variable the server reads is parsed and validated here,
 * once, at start. Anything else in the code takes an `AppConfig` instead of reading `process.env`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './db/paths';

export type NodeEnv = 'development' | 'production' | 'test';

export interface AppConfig {
  nodeEnv: NodeEnv;
  host: string;
  port: number;
  /** Application connection (may be a PgBouncer URL). Undefined: use the embedded PostgreSQL. */
  databaseUrl: string | undefined;
  /** Direct connection for migrations and LISTEN; falls back to `databaseUrl`. */
  directUrl: string | undefined;
  /** Where the embedded PostgreSQL keeps its cluster and local keys. */
  dataDir: string;
  /** Log every SQL statement with its duration (always on in development). */
  logQueries: boolean;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}


/** Loads `.env` from the project root when present; real environment variables win. */
export function loadDotEnv(root = PROJECT_ROOT): void {
  const file = path.join(root, '.env');
  if (existsSync(file)) process.loadEnvFile(file);
}

function parseNodeEnv(value: string | undefined): NodeEnv {
  const env = value?.trim() || 'development';
  if (env === 'development' || env === 'production' || env === 'test') return env;
  throw new ConfigError(`NODE_ENV must be development, production or test (got "${env}")`);
}

function parsePort(value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`PORT must be an integer from 0 to 65535 (got "${value}")`);
  }
  return port;
}

function parsePostgresUrl(name: string, value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new ConfigError(`${name} is not a valid URL`);
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    throw new ConfigError(`${name} must start with postgresql:// (got "${url.protocol}//")`);
  }
  return value.trim();
}

function parseFlag(value: string | undefined): boolean {
  return value !== undefined && ['1', 'true', 'yes', 'on'].includes(value.trim().toLowerCase());
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const nodeEnv = parseNodeEnv(env.NODE_ENV);
  const databaseUrl = parsePostgresUrl('DATABASE_URL', env.DATABASE_URL);
  const directUrl = parsePostgresUrl('DIRECT_URL', env.DIRECT_URL);
  if (nodeEnv === 'production' && !databaseUrl) {
    throw new ConfigError('DATABASE_URL is required when NODE_ENV=production (the embedded PostgreSQL is for development)');
  }
  if (directUrl && !databaseUrl) {
    throw new ConfigError('DIRECT_URL is set but DATABASE_URL is not: set both, or neither for the embedded database');
  }
  return {
    nodeEnv,
    host: env.HOST?.trim() || '0.0.0.0',
    port: parsePort(env.PORT, 4000),
    databaseUrl,
    directUrl,
    dataDir: path.resolve(PROJECT_ROOT, env.DATA_DIR?.trim() || '.data'),
    logQueries: nodeEnv === 'development' || parseFlag(env.LOG_QUERIES),
  };
}
