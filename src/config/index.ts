/**
 * The one configuration module: every environment variable the server and its scripts read is declared in
 * `SETTINGS` (./settings.ts: name, default, meaning, validation), parsed once at start and handed around as an
 * `AppConfig`.
 * Nothing else reads `process.env`. docs/configuration.md's table is generated from `SETTINGS` (npm run docs:config).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { SETTINGS, type Setting, type SettingName } from './settings';

export type NodeEnv = 'development' | 'production' | 'test';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The project root: the nearest folder above this file holding package.json. */
export const PROJECT_ROOT = ((from: string) => {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
})(__dirname);

/** Loads `.env` from the project root when present; real environment variables win. */
export function loadDotEnv(root = PROJECT_ROOT): void {
  const file = path.join(root, '.env');
  if (existsSync(file)) process.loadEnvFile(file);
}

/** Whether a setting always has a value: set, or its default. */
type Defaulted<K extends SettingName> = (typeof SETTINGS)[K] extends { derived: true }
  ? false
  : (typeof SETTINGS)[K]['default'] extends ''
    ? false
    : true;
type Parsed = { [K in SettingName]: z.output<(typeof SETTINGS)[K]['schema']> | (Defaulted<K> extends true ? never : undefined) };

export interface AuthConfig {
  /** PEM public key: networkless verification of Clerk session tokens. */
  clerkJwtKey: string | undefined;
  /** Clerk secret key: verification through Clerk's JWKS (cached), and the Backend API for user details. */
  clerkSecretKey: string | undefined;
  /** Clerk's Backend API, without a trailing slash. */
  clerkApiUrl: string;
  /** The `iss` every accepted token must carry (Clerk's Frontend API URL); undefined: not checked. */
  issuer: string | undefined;
  /** Production: a server without `issuer` refuses to start. */
  issuerRequired: boolean;
  /** Production with Clerk keys: a server without `authorizedParties` refuses to start (unless opted out). */
  authorizedPartiesRequired: boolean;
  /** Origins allowed in the token's `azp` claim; empty: not checked. */
  authorizedParties: string[];
  /** Trust tokens signed by the local development key (`npm run token`): only outside production, without Clerk keys. */
  devTokens: boolean;
  /** Longest accepted token lifetime, in seconds; also how long a revoked session is remembered. */
  maxTokenLifetimeSeconds: number;
}

export interface WebhookConfig {
  /** Clerk's webhook signing secret (whsec_…); undefined: the endpoint is off. */
  clerkSigningSecret: string | undefined;
  maxBodyBytes: number;
  retentionDays: number;
}

export interface TrustedDocumentsConfig {
  /** Absolute paths of the manifests to load. */
  manifests: string[];
  /** Documents sent as text are executed too (development, or reopened in production). */
  allowArbitrary: boolean;
}

export interface TracingConfig {
  /** Where spans are exported (OTLP/HTTP JSON); undefined: tracing is off. */
  tracesEndpoint: string | undefined;
  serviceName: string;
  /** Share of new traces recorded. */
  sampleRatio: number;
}

export interface GraphQLLimits {
  introspection: boolean;
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
  maxRepeatedFields: number;
  maxTokens: number;
  maxDirectives: number;
}

export interface TrafficLimits {
  maxBodyBytes: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  wsMaxPayloadBytes: number;
  wsMaxSubscriptionsPerConnection: number;
  maxSubscriptionsPerUser: number;
  /** 0: no limit. */
  requestsPerMinute: number;
  /** Requests without valid credentials per client address per minute (per instance); 0: no limit. */
  anonymousRequestsPerMinute: number;
  wsMaxConnectionsPerUser: number;
  createRunPerMinute: number;
  createRunPerDay: number;
  /** Retries of one run (retryRun). */
  maxRetriesPerRun: number;
}

/** Which browser pages may call the API with credentials (src/server/cors.ts). */
export interface CorsConfig {
  /** Exact origins, or `scheme://*.host[:port]` patterns (CORS_ORIGINS). */
  origins: readonly string[];
  /** Request headers allowed beyond the fixed ones (CORS_ALLOWED_HEADERS). */
  extraHeaders: readonly string[];
  /** Outside production: any localhost origin is allowed without configuration. */
  allowLocalhost: boolean;
}

export interface AppConfig {
  nodeEnv: NodeEnv;
  host: string;
  port: number;
  /** SO_REUSEPORT: other processes may listen on the same port (a replacement started before this one stops). */
  reusePort: boolean;
  /** Application connection (may be a PgBouncer URL). Undefined: use the embedded PostgreSQL. */
  databaseUrl: string | undefined;
  /** Direct connection for migrations and LISTEN; falls back to `databaseUrl`. */
  directUrl: string | undefined;
  /** Apply pending migrations at start (else a start with pending migrations refuses). */
  migrateOnStart: boolean;
  /** Where the embedded PostgreSQL keeps its cluster and local keys. */
  dataDir: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** Log every SQL statement with its duration (always on in development). */
  logQueries: boolean;
  auth: AuthConfig;
  webhooks: WebhookConfig;
  cors: CorsConfig;
  /** Proxies whose X-Forwarded-For is believed (proxy-addr's syntax). */
  trustedProxies: string[];
  /** Hosts (or `*.suffix`es) a run's document URL may name; empty: any public host. */
  documentUrlHosts: string[];
  graphql: GraphQLLimits;
  trustedDocuments: TrustedDocumentsConfig;
  tracing: TracingConfig;
  limits: TrafficLimits;
  /** How often the runs subscribers watch are checked for a change no notification announced. */
  backstopMs: number;
  /** How long createRun remembers an idempotency key. */
  idempotencyKeyMs: number;
  /** The pipeline's lease contract, for the workers this project runs (the simulator). */
  pipeline: { leaseSeconds: number; maxAttempts: number };
  /** A WebSocket whose session token expired is closed (4401) this many seconds later. */
  wsTokenGraceSeconds: number;
  /** A WebSocket whose outgoing data has not drained for this many seconds is cut. */
  wsStuckSeconds: number;
  /** Who may read /metrics: a bearer secret, anyone (`open`, outside production only), or nobody. */
  metricsAccess: { token: string } | 'open' | 'off';
  shutdownTimeoutMs: number;
  shutdownDrainMs: number;
  /** The servers the benchmark and soak scripts create their scratch databases on (undefined: an embedded one). */
  scratchServers: { bench: string | undefined; soak: string | undefined };
}

function parseAll(env: NodeJS.ProcessEnv): Parsed {
  const parsed: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(SETTINGS) as [SettingName, Setting][]) {
    const raw = env[name]?.trim() || (setting.derived ? '' : setting.default);
    if (raw === '') continue;
    const result = setting.schema.safeParse(raw);
    if (!result.success) throw new ConfigError(`${name} must be ${setting.expects}${setting.secret ? '' : ` (got "${raw}")`}`);
    parsed[name] = result.data;
  }
  return parsed as Parsed;
}

function graphqlLimits(v: Parsed, production: boolean): GraphQLLimits {
  return {
    introspection: !production || (v.GRAPHQL_INTROSPECTION ?? false),
    maxDepth: v.GRAPHQL_MAX_DEPTH,
    maxAliases: v.GRAPHQL_MAX_ALIASES,
    maxCost: v.GRAPHQL_MAX_COST,
    maxRepeatedFields: v.GRAPHQL_MAX_REPEATED_FIELDS,
    maxTokens: v.GRAPHQL_MAX_TOKENS,
    maxDirectives: v.GRAPHQL_MAX_DIRECTIVES,
  };
}

function trafficLimits(v: Parsed): TrafficLimits {
  return {
    maxBodyBytes: v.HTTP_MAX_BODY_BYTES,
    headersTimeoutMs: v.HTTP_HEADERS_TIMEOUT_SECONDS * 1000,
    requestTimeoutMs: v.HTTP_REQUEST_TIMEOUT_SECONDS * 1000,
    maxConnections: v.HTTP_MAX_CONNECTIONS,
    maxConnectionsPerAddress: v.HTTP_MAX_CONNECTIONS_PER_IP,
    wsMaxPayloadBytes: v.WS_MAX_PAYLOAD_BYTES,
    wsMaxSubscriptionsPerConnection: v.WS_MAX_SUBSCRIPTIONS_PER_CONNECTION,
    maxSubscriptionsPerUser: v.MAX_SUBSCRIPTIONS_PER_USER,
    requestsPerMinute: v.RATE_LIMIT_REQUESTS_PER_MINUTE,
    anonymousRequestsPerMinute: v.ANONYMOUS_REQUESTS_PER_MINUTE,
    wsMaxConnectionsPerUser: v.WS_MAX_CONNECTIONS_PER_USER,
    createRunPerMinute: v.RATE_LIMIT_CREATE_RUN_PER_MINUTE,
    createRunPerDay: v.RATE_LIMIT_CREATE_RUN_PER_DAY,
    maxRetriesPerRun: v.RUN_MAX_RETRIES,
  };
}

function tracingConfig(v: Parsed): TracingConfig {
  const endpoint = v.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (v.OTEL_EXPORTER_OTLP_ENDPOINT && `${v.OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces`);
  return {
    tracesEndpoint: v.OTEL_SDK_DISABLED ? undefined : endpoint,
    serviceName: v.OTEL_SERVICE_NAME,
    sampleRatio: v.OTEL_TRACES_SAMPLER_ARG,
  };
}

function trustedDocumentsConfig(v: Parsed, production: boolean): TrustedDocumentsConfig {
  return {
    manifests: (v.TRUSTED_DOCUMENTS ?? []).map((file) => path.resolve(PROJECT_ROOT, file)),
    allowArbitrary: v.ALLOW_ARBITRARY_DOCUMENTS ?? !production,
  };
}

function authConfig(v: Parsed, production: boolean): AuthConfig {
  const clerkJwtKey = v.CLERK_JWT_KEY;
  const clerkSecretKey = v.CLERK_SECRET_KEY;
  return {
    clerkJwtKey,
    clerkSecretKey,
    clerkApiUrl: v.CLERK_API_URL,
    issuer: v.CLERK_ISSUER,
    issuerRequired: production,
    authorizedPartiesRequired: production && !v.CLERK_AUTHORIZED_PARTIES_OPT_OUT,
    authorizedParties: v.CLERK_AUTHORIZED_PARTIES ?? [],
    devTokens: !production && !clerkJwtKey && !clerkSecretKey,
    maxTokenLifetimeSeconds: v.SESSION_TOKEN_MAX_LIFETIME_SECONDS,
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const v = parseAll(env);
  const nodeEnv = v.NODE_ENV;
  const production = nodeEnv === 'production';
  if (production && !v.DATABASE_URL) {
    throw new ConfigError('DATABASE_URL is required when NODE_ENV=production (the embedded PostgreSQL is for development)');
  }
  if (v.DIRECT_URL && !v.DATABASE_URL) {
    throw new ConfigError('DIRECT_URL is set but DATABASE_URL is not: set both, or neither for the embedded database');
  }
  return {
    nodeEnv,
    host: v.HOST,
    port: v.PORT,
    reusePort: v.HTTP_REUSE_PORT,
    databaseUrl: v.DATABASE_URL,
    directUrl: v.DIRECT_URL,
    migrateOnStart: v.MIGRATE_ON_START ?? !production,
    dataDir: path.resolve(PROJECT_ROOT, v.DATA_DIR),
    logLevel: v.LOG_LEVEL ?? (nodeEnv === 'test' ? 'silent' : 'info'),
    logQueries: v.LOG_QUERIES ?? nodeEnv === 'development',
    auth: authConfig(v, production),
    webhooks: {
      clerkSigningSecret: v.CLERK_WEBHOOK_SIGNING_SECRET,
      maxBodyBytes: v.WEBHOOK_MAX_BODY_BYTES,
      retentionDays: v.WEBHOOK_RETENTION_DAYS,
    },
    cors: { origins: v.CORS_ORIGINS ?? [], extraHeaders: v.CORS_ALLOWED_HEADERS ?? [], allowLocalhost: !production },
    documentUrlHosts: v.DOCUMENT_URL_HOSTS ?? [],
    trustedProxies: v.TRUSTED_PROXIES ?? [],
    trustedDocuments: trustedDocumentsConfig(v, production),
    tracing: tracingConfig(v),
    graphql: graphqlLimits(v, production),
    limits: trafficLimits(v),
    backstopMs: v.SUBSCRIPTION_BACKSTOP_SECONDS * 1000,
    idempotencyKeyMs: v.IDEMPOTENCY_KEY_HOURS * 3_600_000,
    pipeline: { leaseSeconds: v.RUN_LEASE_SECONDS, maxAttempts: v.RUN_MAX_ATTEMPTS },
    wsTokenGraceSeconds: v.WS_TOKEN_GRACE_SECONDS,
    wsStuckSeconds: v.WS_STUCK_SECONDS,
    metricsAccess: v.METRICS_TOKEN ? { token: v.METRICS_TOKEN } : production ? 'off' : 'open',
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
    shutdownDrainMs: v.SHUTDOWN_DRAIN_MS ?? (production ? 2000 : 0),
    scratchServers: { bench: v.BENCH_DATABASE_URL, soak: v.SOAK_DATABASE_URL },
  };
}
