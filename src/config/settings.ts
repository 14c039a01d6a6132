/**
 * Every environment variable the server and its scripts read: its name, default, meaning and validation, each
 * stated once. src/config/index.ts parses them into an `AppConfig`; docs/configuration.md's table is generated
 * from this (npm run docs:config).
 */
import { isIP } from 'node:net';
import { z } from 'zod';

// ---- Value shapes: each written once ----------------------------------------------------------------------
/** A comma-separated list: each entry trimmed, empty ones dropped, then read by `entry`. */
const commaList = (entry: z.ZodType<string, string>) =>
  z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    )
    .pipe(z.array(entry));

/**
 * Browser origins as the Origin header carries them (a trailing slash tolerated), or patterns whose leftmost
 * host label is `*` (`https://*.example.vercel.app`: any subdomain, same scheme and port). Never a bare `*`.
 */
const origins = commaList(
  z
    .string()
    .transform((origin) => origin.replace(/\/$/, ''))
    .refine((origin) => {
      const concrete = origin.replace('://*.', '://wildcard.');
      return !concrete.includes('*') && URL.canParse(concrete) && new URL(concrete).origin === concrete;
    }),
);

/** Request header names (`x-tenant-id`), lowercased. */
const headerNames = commaList(
  z
    .string()
    .transform((name) => name.toLowerCase())
    .pipe(z.string().regex(/^[a-z0-9!#$%&'*+.^_`|~-]+$/)),
);

/** Host names (`blob.example.com`) or suffixes (`*.example.com`), lowercased. */
const hostPatterns = commaList(
  z
    .string()
    .transform((host) => host.toLowerCase())
    .pipe(z.string().regex(/^(\*\.)?(?=[a-z0-9-]*[a-z])[a-z0-9-]+(\.[a-z0-9-]+)+$/)),
);

const integer = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(min).max(max));

const flag = z.enum(['1', 'true', 'yes', 'on', '0', 'false', 'no', 'off']).transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const postgresUrl = z.url({ protocol: /^postgres(ql)?$/ });

/** What proxy-addr's compile accepts: an address, a CIDR range (address/bits) or one of its names. */
function isProxyAddrEntry(entry: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return true;
  const [address = '', bits, ...rest] = entry.split('/');
  if (rest.length || !isIP(address)) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (isIP(address) === 4 ? 32 : 128));
}

const publicKeyPem = z
  .string()
  // Env files often carry PEMs on one line with literal \n sequences.
  .transform((value) => value.replace(/\\n/g, '\n'))
  .pipe(z.string().regex(/^-----BEGIN PUBLIC KEY-----[\s\S]+-----END PUBLIC KEY-----$/));

export interface Setting {
  /** What the variable holds, shown in errors: `PORT must be <expects> (got "…")`. */
  expects: string;
  /**
   * The default, as docs/configuration.md shows it: the value used when the variable is unset ('' for none), parsed by
   * `schema` like a value from the environment, so it is stated only here.
   */
  default: string;
  /** The default depends on other settings: `default` says how in words, and `loadConfig` computes it. */
  derived?: true;
  description: string;
  schema: z.ZodType;
  /** Never echoed in an error message (it may hold a password or key). */
  secret?: boolean;
}

/** Every variable, its default and meaning: docs/configuration.md's table is generated from this. */
export const SETTINGS = {
  NODE_ENV: {
    expects: 'development, production or test',
    default: 'development',
    description: 'Production masks errors, refuses development tokens, needs DATABASE_URL and a Clerk key.',
    schema: z.enum(['development', 'production', 'test']),
  },
  HOST: { expects: 'a host name or address', default: '0.0.0.0', description: 'Address the HTTP server binds.', schema: z.string().min(1) },
  PORT: { expects: 'an integer from 0 to 65535', default: '4000', description: 'HTTP port (0: any free port).', schema: integer(0, 65535) },
  DATABASE_URL: {
    expects: 'a postgresql:// URL',
    default: '',
    description: 'Application database (may be PgBouncer). Unset: the embedded PostgreSQL in DATA_DIR.',
    schema: postgresUrl,
    secret: true,
  },
  DIRECT_URL: {
    expects: 'a postgresql:// URL',
    default: 'DATABASE_URL',
    derived: true,
    description: 'Direct connection for migrations and LISTEN (not through PgBouncer).',
    schema: postgresUrl,
    secret: true,
  },
  MIGRATE_ON_START: {
    expects: 'a flag (1/0, true/false)',
    default: 'on outside production',
    derived: true,
    description:
      'Apply pending migrations when the server starts. Off in production unless set: there a start on a database with pending migrations refuses, naming the migration command.',
    schema: flag,
  },
  DATA_DIR: {
    expects: 'a folder',
    default: '.data',
    description: 'Embedded PostgreSQL cluster and the development signing key.',
    schema: z.string().min(1),
  },
  LOG_LEVEL: {
    expects: 'debug, info, warn, error or silent',
    default: 'info (silent in test)',
    derived: true,
    description: 'Lowest level logged.',
    schema: z.enum(['debug', 'info', 'warn', 'error', 'silent']),
  },
  LOG_QUERIES: {
    expects: 'a flag (1/0, true/false)',
    default: 'on in development',
    derived: true,
    description: 'Log every SQL statement with its duration.',
    schema: flag,
  },
  CLERK_JWT_KEY: {
    expects: 'a PEM public key (-----BEGIN PUBLIC KEY----- …)',
    default: '',
    description: "Clerk's JWT public key: networkless token verification.",
    schema: publicKeyPem,
  },
  CLERK_SECRET_KEY: {
    expects: 'a key starting with sk_test_ or sk_live_',
    default: '',
    description: "Clerk secret key: verification through Clerk's JWKS, and profiles from the Backend API.",
    schema: z.string().regex(/^sk_(test|live)_/),
    secret: true,
  },
  CLERK_API_URL: {
    expects: 'an http(s) URL like https://api.clerk.com',
    default: 'https://api.clerk.com',
    description: "Clerk's Backend API: its JWKS (signing keys, with CLERK_SECRET_KEY) and user profiles.",
    schema: z.url({ protocol: /^https?$/ }).transform((url) => url.replace(/\/+$/, '')),
  },
  CLERK_ISSUER: {
    expects: 'an http(s) URL like https://clerk.example.com',
    default: '',
    description: "Your Clerk Frontend API URL: a token's iss claim must equal it. Required in production; unset elsewhere: not checked.",
    schema: z.url({ protocol: /^https?$/ }).transform((url) => url.replace(/\/+$/, '')),
  },
  CLERK_AUTHORIZED_PARTIES: {
    expects: 'comma-separated origins like https://app.example.com',
    default: '',
    description: "Origins accepted in a token's azp claim (your frontends). Required in production; unset elsewhere: not checked.",
    schema: origins,
  },
  CLERK_AUTHORIZED_PARTIES_OPT_OUT: {
    expects: 'a flag (1/0, true/false)',
    default: 'false',
    description: 'true: start in production without CLERK_AUTHORIZED_PARTIES, for a deployment no browser ever sends a token to.',
    schema: flag,
  },
  CLERK_WEBHOOK_SIGNING_SECRET: {
    expects: 'a signing secret starting with whsec_',
    default: '',
    description: 'Verifies POST /webhooks/clerk (Svix signatures). Unset: the endpoint answers 404.',
    schema: z.string().regex(/^whsec_[A-Za-z0-9+/=]+$/),
    secret: true,
  },
  WEBHOOK_MAX_BODY_BYTES: {
    expects: 'an integer from 1024 to 104857600',
    default: '262144',
    description: 'Largest webhook body (413 beyond).',
    schema: integer(1024, 100 * 1024 * 1024),
  },
  WEBHOOK_RETENTION_DAYS: {
    expects: 'an integer from 1 to 365',
    default: '7',
    description: 'How long processed webhook ids are kept, so a redelivery is recognised (Svix retries for about a day).',
    schema: integer(1, 365),
  },
  SESSION_TOKEN_MAX_LIFETIME_SECONDS: {
    expects: 'an integer from 60 to 31536000',
    default: '86400',
    description:
      'Longest lifetime (exp − iat) of an accepted session token; revoked sessions are remembered this long, so none of their tokens outlives the memory.',
    schema: integer(60, 31_536_000),
  },
  DOCUMENT_URL_HOSTS: {
    expects: 'comma-separated host names like blob.example.com or *.example.com',
    default: '',
    description: "Hosts a run's documentUrl may name (*.example.com: any subdomain), e.g. your blob store's. Unset: any public host.",
    schema: hostPatterns,
  },
  CORS_ORIGINS: {
    expects: 'comma-separated origins like https://app.example.com, or patterns like https://*.example.vercel.app (never a bare *)',
    default: '',
    description:
      'Browser origins allowed to call the API with credentials (CORS), and to open cookie-authenticated WebSockets; https://*.example.vercel.app allows every subdomain (preview deployments). Outside production localhost origins are allowed too.',
    schema: origins,
  },
  CORS_ALLOWED_HEADERS: {
    expects: 'comma-separated header names like x-tenant-id',
    default: '',
    description:
      'Request headers a browser page may send beyond those always allowed (authorization, content-type, accept, the CSRF header, idempotency-key, traceparent, tracestate, baggage, x-request-id, sentry-trace).',
    schema: headerNames,
  },
  GRAPHQL_INTROSPECTION: {
    expects: 'a flag (1/0, true/false)',
    default: 'off in production',
    derived: true,
    description: 'Answer introspection queries (always on outside production).',
    schema: flag,
  },
  TRUSTED_DOCUMENTS: {
    expects: 'comma-separated paths of JSON manifests (document id → document)',
    default: '',
    description:
      "Persisted-document manifests of your frontends (codegen's persisted-documents.json), merged; relative paths are from the project root.",
    schema: commaList(z.string().min(1)),
  },
  ALLOW_ARBITRARY_DOCUMENTS: {
    expects: 'a flag (1/0, true/false)',
    default: 'on outside production',
    derived: true,
    description:
      'Execute documents sent as text, not only those of TRUSTED_DOCUMENTS by id. Off in production unless set; production then requires TRUSTED_DOCUMENTS.',
    schema: flag,
  },
  GRAPHQL_MAX_DEPTH: {
    expects: 'an integer from 1 to 100',
    default: '10',
    description: 'Deepest field nesting an operation may have (fragments add no level).',
    schema: integer(1, 100),
  },
  GRAPHQL_MAX_ALIASES: {
    expects: 'an integer from 0 to 1000',
    default: '30',
    description: 'Aliased fields per operation.',
    schema: integer(0, 1000),
  },
  GRAPHQL_MAX_COST: {
    expects: 'an integer from 1 to 10000000',
    default: '5000',
    description:
      'Cost per operation: 1 per field, sub-selections of lists multiplied by their page size (first/last, default 20) or 5 for the per-run lists.',
    schema: integer(1, 10_000_000),
  },
  GRAPHQL_MAX_REPEATED_FIELDS: {
    expects: 'an integer from 1 to 1000',
    default: '10',
    description: 'Times one field (response name) may be selected in one selection set, through fragments (checked before validation).',
    schema: integer(1, 1000),
  },
  GRAPHQL_MAX_TOKENS: {
    expects: 'an integer from 100 to 1000000',
    default: '2000',
    description: 'Lexical tokens per document (the parser stops there).',
    schema: integer(100, 1_000_000),
  },
  GRAPHQL_MAX_DIRECTIVES: {
    expects: 'an integer from 0 to 1000',
    default: '20',
    description: 'Directives per operation.',
    schema: integer(0, 1000),
  },
  HTTP_MAX_BODY_BYTES: {
    expects: 'an integer from 1024 to 104857600',
    default: '102400',
    description: 'Largest GraphQL request body (413 beyond).',
    schema: integer(1024, 100 * 1024 * 1024),
  },
  HTTP_HEADERS_TIMEOUT_SECONDS: {
    expects: 'an integer from 1 to 600',
    default: '5',
    description: "A connection that has not sent a request's headers within this time is closed.",
    schema: integer(1, 600),
  },
  HTTP_REQUEST_TIMEOUT_SECONDS: {
    expects: 'an integer from 1 to 3600',
    default: '10',
    description: 'A request (headers and body) not received in full within this time is answered 408 and closed: a trickled body is cut.',
    schema: integer(1, 3600),
  },
  HTTP_REUSE_PORT: {
    expects: 'a flag (1/0, true/false)',
    default: 'false',
    description:
      'true: listen with SO_REUSEPORT, so a new process can share PORT while the old one drains (deploys in place); set net.ipv4.tcp_migrate_req=1 too.',
    schema: flag,
  },
  HTTP_MAX_CONNECTIONS: {
    expects: 'an integer from 10 to 1000000',
    default: '10000',
    description:
      'Open connections per instance (lowered to what the open-file limit leaves after the database pool); at the cap the longest-idle one is closed to make room.',
    schema: integer(10, 1_000_000),
  },
  HTTP_MAX_CONNECTIONS_PER_IP: {
    expects: 'an integer from 1 to 1000000',
    default: '256',
    description: 'Open connections from one client address (trusted proxies exempt); beyond it new ones are closed at once.',
    schema: integer(1, 1_000_000),
  },
  WS_MAX_PAYLOAD_BYTES: {
    expects: 'an integer from 1024 to 104857600',
    default: '65536',
    description: 'Largest WebSocket message; a bigger one closes the connection (1009) before it is parsed.',
    schema: integer(1024, 100 * 1024 * 1024),
  },
  WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: {
    expects: 'an integer from 1 to 100000',
    default: '50',
    description: 'Concurrent subscriptions on one WebSocket.',
    schema: integer(1, 100_000),
  },
  MAX_SUBSCRIPTIONS_PER_USER: {
    expects: 'an integer from 1 to 1000000',
    default: '200',
    description: 'Concurrent subscriptions of one user on one instance (WebSocket and SSE).',
    schema: integer(1, 1_000_000),
  },
  SUBSCRIPTION_BACKSTOP_SECONDS: {
    expects: 'an integer from 1 to 3600',
    default: '30',
    description: 'How often the runs subscribers watch are checked for a change whose notification never arrived (which is then sent).',
    schema: integer(1, 3600),
  },
  WS_TOKEN_GRACE_SECONDS: {
    expects: 'a number of seconds, 0 or more',
    default: '300',
    description: 'A WebSocket whose session token expired is closed (4401) this much later.',
    schema: integer(0),
  },
  WS_STUCK_SECONDS: {
    expects: 'an integer from 1 to 3600',
    default: '30',
    description: 'A WebSocket whose outgoing data has not drained for this long (a client that stopped reading) is cut.',
    schema: integer(1, 3600),
  },
  ANONYMOUS_REQUESTS_PER_MINUTE: {
    expects: 'an integer, 0 (off) or more',
    default: '120',
    description:
      'GraphQL requests and WebSocket connections without a valid session token, per client address per minute, per instance (429 beyond).',
    schema: integer(0),
  },
  TRUSTED_PROXIES: {
    expects: 'comma-separated addresses, CIDR ranges or loopback, linklocal, uniquelocal',
    default: '',
    description:
      "Proxies (load balancers) whose X-Forwarded-For names the client, for the per-address limits. Unset: the peer's address is the client's.",
    schema: commaList(z.string().refine((entry) => isProxyAddrEntry(entry))),
  },
  WS_MAX_CONNECTIONS_PER_USER: {
    expects: 'an integer from 1 to 100000',
    default: '20',
    description: "One user's concurrent WebSocket connections on one instance (4429 beyond); each connection also spends a request permit.",
    schema: integer(1, 100_000),
  },
  RATE_LIMIT_REQUESTS_PER_MINUTE: {
    expects: 'an integer, 0 (off) or more',
    default: '600',
    description: 'GraphQL operations per user per minute, across all instances (429 beyond).',
    schema: integer(0),
  },
  RATE_LIMIT_CREATE_RUN_PER_MINUTE: {
    expects: 'an integer, 0 (off) or more',
    default: '10',
    description: 'createRun calls per user per minute, across all instances.',
    schema: integer(0),
  },
  RATE_LIMIT_CREATE_RUN_PER_DAY: {
    expects: 'an integer, 0 (off) or more',
    default: '200',
    description: 'createRun calls per user per UTC day, across all instances.',
    schema: integer(0),
  },
  RUN_MAX_RETRIES: {
    expects: 'an integer from 1 to 1000',
    default: '3',
    description: 'How many times retryRun may put one run back in the queue (each retry also spends the createRun limits).',
    schema: integer(1, 1000),
  },
  RUN_LEASE_SECONDS: {
    expects: 'a number of seconds from 1 to 3600',
    default: '60',
    description:
      'Pipeline workers (the simulator, the Python worker): how long a claim on a run lasts without a sign of life; past it the next worker takes the run over.',
    schema: z
      .string()
      .regex(/^\d+(\.\d+)?$/)
      .transform(Number)
      .pipe(z.number().min(1).max(3600)),
  },
  RUN_MAX_ATTEMPTS: {
    expects: 'an integer from 1 to 100',
    default: '3',
    description: 'Pipeline workers: claims of one run (its worker went silent each time) before it is FAILED.',
    schema: integer(1, 100),
  },
  IDEMPOTENCY_KEY_HOURS: {
    expects: 'an integer from 24 to 720',
    default: '24',
    description: 'How long createRun remembers an idempotency key: a retry with it within this time starts no second run.',
    schema: integer(24, 720),
  },
  METRICS_TOKEN: {
    expects: 'a secret of at least 16 characters',
    default: '',
    description:
      'GET /metrics answers only requests with Authorization: Bearer <METRICS_TOKEN>. Unset: open outside production, off (404) in production.',
    schema: z.string().min(16),
    secret: true,
  },
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    expects: 'an http(s) URL like http://collector:4318',
    default: '',
    description:
      'OpenTelemetry collector (OTLP over HTTP, JSON): traces go to <URL>/v1/traces. Unset, and no traces endpoint: tracing is off.',
    schema: z.url({ protocol: /^https?$/ }).transform((url) => url.replace(/\/+$/, '')),
  },
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: {
    expects: 'an http(s) URL like http://collector:4318/v1/traces',
    default: 'OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces',
    derived: true,
    description: 'Where traces are sent (overrides OTEL_EXPORTER_OTLP_ENDPOINT).',
    schema: z.url({ protocol: /^https?$/ }),
  },
  OTEL_SERVICE_NAME: {
    expects: 'a name',
    default: 'opportunity-api',
    description: "The traces' service.name.",
    schema: z.string().min(1),
  },
  OTEL_TRACES_SAMPLER_ARG: {
    expects: 'a number from 0 to 1',
    default: '1',
    description: 'Share of new traces recorded; a caller’s sampled traceparent is always followed.',
    schema: z
      .string()
      .regex(/^(0(\.\d+)?|1(\.0+)?)$/)
      .transform(Number),
  },
  OTEL_SDK_DISABLED: {
    expects: 'a flag (1/0, true/false)',
    default: 'false',
    description: 'true: no tracing whatever the endpoints say.',
    schema: flag,
  },
  BENCH_DATABASE_URL: {
    expects: 'a postgresql:// URL',
    default: '',
    description: 'npm run bench: the PostgreSQL server its scratch database is created on. Unset: a temporary embedded one.',
    schema: postgresUrl,
    secret: true,
  },
  SOAK_DATABASE_URL: {
    expects: 'a postgresql:// URL',
    default: '',
    description: 'npm run soak: the PostgreSQL server its scratch database is created on. Unset: a temporary embedded one.',
    schema: postgresUrl,
    secret: true,
  },
  SHUTDOWN_TIMEOUT_MS: {
    expects: 'an integer from 1000 to 600000',
    default: '10000',
    description: 'On SIGTERM/SIGINT the process exits within this time, whatever its clients do.',
    schema: integer(1000, 600_000),
  },
  SHUTDOWN_DRAIN_MS: {
    expects: 'an integer from 0 to 600000',
    default: '2000 in production, else 0',
    derived: true,
    description: 'After SIGTERM, keep answering (with /ready 503 and Connection: close) this long so load balancers stop routing here.',
    schema: integer(0, 600_000),
  },
} as const satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;
