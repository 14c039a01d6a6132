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
  auth: AuthConfig;
  /** A WebSocket whose session token expired is closed (4401) this many seconds later. */
  wsTokenGraceSeconds: number;
}

export interface AuthConfig {
  /** PEM public key: networkless verification of Clerk session tokens. */
  clerkJwtKey: string | undefined;
  /** Clerk secret key: verification through Clerk's JWKS (cached), and the Backend API for user details. */
  clerkSecretKey: string | undefined;
  /** Origins allowed in the token's `azp` claim; empty: not checked. */
  authorizedParties: string[];
  /** Trust tokens signed by the local development key (`npm run token`): only outside production, without Clerk keys. */
  devTokens: boolean;
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

function parsePem(name: string, value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  // Env files often carry PEMs on one line with literal \n sequences.
  const pem = value.trim().replace(/\\n/g, '\n');
  if (!/^-----BEGIN PUBLIC KEY-----[\s\S]+-----END PUBLIC KEY-----$/.test(pem)) {
    throw new ConfigError(`${name} must be a PEM public key (-----BEGIN PUBLIC KEY----- …)`);
  }
  return pem;
}

function parseOrigins(name: string, value: string | undefined): string[] {
  if (!value?.trim()) return [];
  return value.split(',').map((raw) => {
    const origin = raw.trim();
    try {
      const url = new URL(origin);
      if (url.origin !== origin.replace(/\/$/, '')) throw new Error('not an origin');
      return url.origin;
    } catch {
      throw new ConfigError(`${name} must be comma-separated origins like https://app.example.com (got "${origin}")`);
    }
  });
}

function parseSeconds(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0) throw new ConfigError(`${name} must be a number of seconds, 0 or more (got "${value}")`);
  return seconds;
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
  const clerkJwtKey = parsePem('CLERK_JWT_KEY', env.CLERK_JWT_KEY);
  const clerkSecretKey = env.CLERK_SECRET_KEY?.trim() || undefined;
  if (clerkSecretKey && !/^sk_(test|live)_/.test(clerkSecretKey)) {
    throw new ConfigError('CLERK_SECRET_KEY must start with sk_test_ or sk_live_');
  }
  return {
    nodeEnv,
    host: env.HOST?.trim() || '0.0.0.0',
    port: parsePort(env.PORT, 4000),
    databaseUrl,
    directUrl,
    dataDir: path.resolve(PROJECT_ROOT, env.DATA_DIR?.trim() || '.data'),
    logQueries: nodeEnv === 'development' || parseFlag(env.LOG_QUERIES),
    wsTokenGraceSeconds: parseSeconds('WS_TOKEN_GRACE_SECONDS', env.WS_TOKEN_GRACE_SECONDS, 300),
    auth: {
      clerkJwtKey,
      clerkSecretKey,
      authorizedParties: parseOrigins('CLERK_AUTHORIZED_PARTIES', env.CLERK_AUTHORIZED_PARTIES),
      devTokens: nodeEnv !== 'production' && !clerkJwtKey && !clerkSecretKey,
    },
  };
}
