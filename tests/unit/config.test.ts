/** Configuration parsing and database URL handling: pure logic, no I/O. */
import { ConfigError, loadConfig } from '../../src/config';
import { SETTINGS } from '../../src/config/settings';
import { maskUrl, parsePoolSettings, withDatabase } from '../../src/db/url';
import { migrationFolderName } from '../../src/tooling/migrate';
import { parseRunEvent } from '../../src/db/events';
import { credentialsFrom } from '../../src/auth/authenticate';
import { currentConfigurationTable, renderConfigurationTable } from '../../scripts/support/configuration-doc';

describe('loadConfig', () => {
  it('defaults to development on port 4000 with the embedded database and development tokens', () => {
    const config = loadConfig({});
    expect(config.auth).toEqual({
      clerkJwtKey: undefined,
      clerkSecretKey: undefined,
      clerkApiUrl: 'https://api.clerk.com',
      issuer: undefined,
      issuerRequired: false,
      authorizedPartiesRequired: false,
      authorizedParties: [],
      devTokens: true,
      maxTokenLifetimeSeconds: 86_400,
    });
    expect(config.webhooks).toEqual({ clerkSigningSecret: undefined, maxBodyBytes: 262_144, retentionDays: 7 });
    expect(config).toMatchObject({ nodeEnv: 'development', port: 4000, databaseUrl: undefined, directUrl: undefined, logQueries: true });
    expect(config.dataDir).toMatch(/[/\\]\.data$/);
  });

  it('reads DATABASE_URL and DIRECT_URL; LOG_QUERIES turns query logs on outside development', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      PORT: '8080',
      DATABASE_URL: 'postgresql://app:pw@pgbouncer:6432/app?pgbouncer=true&connection_limit=1',
      DIRECT_URL: 'postgresql://app:pw@db:5432/app',
      LOG_QUERIES: '1',
      CLERK_SECRET_KEY: 'sk_live_abc',
      CLERK_WEBHOOK_SIGNING_SECRET: 'whsec_c2VjcmV0',
      SESSION_TOKEN_MAX_LIFETIME_SECONDS: '3600',
      CLERK_AUTHORIZED_PARTIES: 'https://app.example.com, http://localhost:3000/',
      CLERK_API_URL: 'https://clerk-proxy.internal.example/',
      CLERK_ISSUER: 'https://clerk.example.com',
    });
    expect(config.auth).toEqual({
      clerkJwtKey: undefined,
      clerkSecretKey: 'sk_live_abc',
      clerkApiUrl: 'https://clerk-proxy.internal.example',
      issuer: 'https://clerk.example.com',
      issuerRequired: true,
      authorizedPartiesRequired: true,
      authorizedParties: ['https://app.example.com', 'http://localhost:3000'],
      devTokens: false,
      maxTokenLifetimeSeconds: 3600,
    });
    expect(config.webhooks.clerkSigningSecret).toBe('whsec_c2VjcmV0');
    expect(config).toMatchObject({ nodeEnv: 'production', port: 8080, directUrl: 'postgresql://app:pw@db:5432/app', logQueries: true });
    expect(loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgresql://a@b/c' }).logQueries).toBe(false);
  });

  it.each([
    [{ NODE_ENV: 'staging' }, 'NODE_ENV must be development, production or test (got "staging")'],
    [{ PORT: 'eighty' }, 'PORT must be an integer from 0 to 65535 (got "eighty")'],
    [{ PORT: '70000' }, 'PORT must be an integer from 0 to 65535 (got "70000")'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL must be a postgresql:// URL'],
    [{ DATABASE_URL: 'mysql://x@y/z' }, 'DATABASE_URL must be a postgresql:// URL'],
    [{ DIRECT_URL: 'postgresql://a@b/c' }, 'DIRECT_URL is set but DATABASE_URL is not'],
    [{ NODE_ENV: 'production' }, 'DATABASE_URL is required when NODE_ENV=production'],
    [{ CLERK_JWT_KEY: 'not a pem' }, 'CLERK_JWT_KEY must be a PEM public key'],
    [{ CLERK_SECRET_KEY: 'pk_test_123' }, 'CLERK_SECRET_KEY must be a key starting with sk_test_ or sk_live_'],
    [{ CLERK_WEBHOOK_SIGNING_SECRET: 'secret' }, 'CLERK_WEBHOOK_SIGNING_SECRET must be a signing secret starting with whsec_'],
    [{ SESSION_TOKEN_MAX_LIFETIME_SECONDS: '10' }, 'SESSION_TOKEN_MAX_LIFETIME_SECONDS must be an integer from 60 to 31536000 (got "10")'],
    [
      { CORS_ORIGINS: 'https://app.example.com,evil' },
      'CORS_ORIGINS must be comma-separated origins like https://app.example.com, or patterns like https://*.example.vercel.app (never a bare *) (got "https://app.example.com,evil")',
    ],
    [{ GRAPHQL_MAX_DEPTH: '0' }, 'GRAPHQL_MAX_DEPTH must be an integer from 1 to 100 (got "0")'],
    [{ RATE_LIMIT_CREATE_RUN_PER_MINUTE: '2.5' }, 'RATE_LIMIT_CREATE_RUN_PER_MINUTE must be an integer, 0 (off) or more (got "2.5")'],
    [{ GRAPHQL_INTROSPECTION: 'maybe' }, 'GRAPHQL_INTROSPECTION must be a flag (1/0, true/false) (got "maybe")'],
    [{ CLERK_AUTHORIZED_PARTIES: 'app.example.com' }, 'CLERK_AUTHORIZED_PARTIES must be comma-separated origins'],
    [{ CLERK_ISSUER: 'clerk.example.com' }, 'CLERK_ISSUER must be an http(s) URL like https://clerk.example.com (got "clerk.example.com")'],
    [{ DOCUMENT_URL_HOSTS: 'blob.example.com, 10.0.0.1' }, 'DOCUMENT_URL_HOSTS must be comma-separated host names'],
    [{ RUN_MAX_RETRIES: '0' }, 'RUN_MAX_RETRIES must be an integer from 1 to 1000 (got "0")'],
    [{ WS_TOKEN_GRACE_SECONDS: '-1' }, 'WS_TOKEN_GRACE_SECONDS must be a number of seconds, 0 or more (got "-1")'],
  ])('rejects %j with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('never echoes a value that may hold a password or key', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://app:hunter2@db/x' })).toThrow(/^DATABASE_URL must be a postgresql:\/\/ URL$/);
    expect(() => loadConfig({ CLERK_SECRET_KEY: 'secret-value' })).not.toThrow(/secret-value/);
  });

  it('turns introspection off in production unless GRAPHQL_INTROSPECTION is set; limits have safe defaults', () => {
    const production = { NODE_ENV: 'production', DATABASE_URL: 'postgresql://a@b/c' };
    expect(loadConfig(production).graphql).toEqual({
      introspection: false,
      maxDepth: 10,
      maxAliases: 30,
      maxCost: 5000,
      maxRepeatedFields: 10,
      maxTokens: 2000,
      maxDirectives: 20,
    });
    expect(loadConfig({ ...production, GRAPHQL_INTROSPECTION: 'true' }).graphql.introspection).toBe(true);
    expect(loadConfig(production).trustedDocuments).toEqual({ manifests: [], allowArbitrary: false });
    expect(loadConfig({}).trustedDocuments.allowArbitrary).toBe(true);
    expect(loadConfig({ ...production, TRUSTED_DOCUMENTS: 'a.json, /b/c.json' }).trustedDocuments.manifests).toEqual([
      expect.stringMatching(/[/\\]a\.json$/),
      '/b/c.json',
    ]);
    expect(loadConfig({}).graphql.introspection).toBe(true);
    expect(loadConfig(production)).toMatchObject({
      shutdownTimeoutMs: 10_000,
      shutdownDrainMs: 2000,
      cors: { origins: [], extraHeaders: [], allowLocalhost: false },
    });
    expect(loadConfig({ CORS_ORIGINS: 'https://app.example.com, http://localhost:3000/, https://*.example.vercel.app' }).cors).toEqual({
      origins: ['https://app.example.com', 'http://localhost:3000', 'https://*.example.vercel.app'],
      extraHeaders: [],
      allowLocalhost: true,
    });
    expect(loadConfig({ CORS_ALLOWED_HEADERS: 'X-Tenant-Id, x-debug' }).cors.extraHeaders).toEqual(['x-tenant-id', 'x-debug']);
    for (const refused of ['*', 'https://*', 'https://app.*.example.com', 'https://*example.com']) {
      expect(() => loadConfig({ CORS_ORIGINS: refused })).toThrow(/CORS_ORIGINS must be comma-separated origins/);
    }
    expect(() => loadConfig({ CORS_ALLOWED_HEADERS: 'x tenant' })).toThrow(/CORS_ALLOWED_HEADERS must be comma-separated header names/);
  });
});

describe('database URLs', () => {
  it('turns Prisma’s URL parameters into pool settings and removes them from the URL node-postgres sees', () => {
    expect(parsePoolSettings('postgresql://u:p@h:6432/db?pgbouncer=true&connection_limit=1&pool_timeout=20&sslmode=require')).toEqual({
      connectionString: 'postgresql://u:p@h:6432/db?sslmode=require',
      max: 1,
      connectionTimeoutMillis: 20_000,
      schema: undefined,
      preparedStatements: false,
    });
    expect(parsePoolSettings('postgresql://u@h/db?schema=tenant')).toMatchObject({
      max: 10,
      connectionTimeoutMillis: 10_000,
      schema: 'tenant',
    });
  });

  it('rejects a connection_limit that is not a number', () => {
    expect(() => parsePoolSettings('postgresql://u@h/db?connection_limit=many')).toThrow('connection_limit must be a non-negative integer');
  });

  it('masks passwords for logs', () => {
    expect(maskUrl('postgresql://app:s3cr%40t@db:5432/app?sslmode=require')).toBe('postgresql://app:****@db:5432/app?sslmode=require');
    expect(maskUrl('postgresql://app@db/app')).toBe('postgresql://app@db/app');
    expect(maskUrl('::nonsense::')).toBe('<invalid database URL>');
  });

  it('points a URL at another database on the same server', () => {
    expect(withDatabase('postgresql://u:p@h:5/a?x=1', 'b')).toBe('postgresql://u:p@h:5/b?x=1');
  });
});

it('names migration folders as Prisma does and refuses odd names', () => {
  expect(migrationFolderName('add_user_preferences', new Date('2025-01-21T09:08:07Z'))).toBe('20250121090807_add_user_preferences');
  expect(() => migrationFolderName('Add Users!')).toThrow('lowercase letters, digits and underscores');
});

describe('run event payloads', () => {
  it('parses what the trigger sends and ignores anything else', () => {
    expect(parseRunEvent('{"runId":"r1","userId":"u1","change":"updated","status":"RUNNING","stage":2}')).toEqual({
      runId: 'r1',
      userId: 'u1',
      change: 'updated',
      status: 'RUNNING',
      stage: 2,
    });
    expect(parseRunEvent('{"runId":"r1","userId":null,"change":"StageOutput"}')).toMatchObject({ userId: null });
    for (const bad of [undefined, '', 'not json', '{"change":"updated"}', '[1,2]']) expect(parseRunEvent(bad)).toBeUndefined();
  });
});

describe('where a session token is found', () => {
  const headers = (init: Record<string, string>) => new Headers(init);
  it('reads connectionParams first, then Authorization: Bearer, then the __session cookie, and says which', () => {
    expect(credentialsFrom(headers({ authorization: 'Bearer abc.def.ghi' }))).toEqual({ token: 'abc.def.ghi', source: 'authorization' });
    expect(credentialsFrom(headers({ authorization: 'bearer   t1  ' }))?.token).toBe('t1');
    expect(credentialsFrom(headers({ cookie: 'a=1; __session=t2; b=3' }))).toEqual({ token: 't2', source: 'cookie' });
    expect(credentialsFrom(headers({ authorization: 'Bearer t3', cookie: '__session=t4' }))?.token).toBe('t3');
    expect(credentialsFrom({ cookie: '__session=t5' }, { authorization: 'Bearer t6' })).toEqual({
      token: 't6',
      source: 'connectionParams',
    });
    expect(credentialsFrom({ cookie: '__session=t7' }, { token: 't8' })?.token).toBe('t8');
    expect(credentialsFrom({ cookie: '__session=t9' }, {})).toEqual({ token: 't9', source: 'cookie' });
  });
  it('finds nothing in other schemes or cookies', () => {
    expect(credentialsFrom(headers({ authorization: 'Basic dXNlcjpwdw==' }))).toBeUndefined();
    expect(credentialsFrom(headers({ cookie: '__session_other=x' }))).toBeUndefined();
    expect(credentialsFrom(headers({}))).toBeUndefined();
    expect(credentialsFrom({}, { authorization: 'Basic x' })).toBeUndefined();
  });
});

describe('defaults', () => {
  // Each default is stated once, in SETTINGS (which docs/configuration.md shows): leaving a variable unset must give
  // exactly what setting it to that stated default gives, in development and in production.
  const plain = Object.entries(SETTINGS).filter(([, setting]) => setting.default !== '' && !('derived' in setting));
  const production = {
    NODE_ENV: 'production',
    DATABASE_URL: 'postgresql://db.example/app',
    CLERK_SECRET_KEY: 'sk_test_x',
    CLERK_ISSUER: 'https://clerk.example',
    CLERK_AUTHORIZED_PARTIES: 'https://app.example',
  };
  it.each(plain.map(([name, setting]) => [name, setting.default]))('%s unset is %s', (name, fallback) => {
    expect(loadConfig({ [name]: fallback })).toEqual(loadConfig({}));
    if (!(name in production)) expect(loadConfig({ ...production, [name]: fallback })).toEqual(loadConfig(production));
  });

  it('changes with a value other than the default (the comparison above can tell)', () => {
    expect(loadConfig({ PORT: '4001' })).not.toEqual(loadConfig({}));
  });
});

describe('docs/configuration.md', () => {
  it('holds the table SETTINGS renders: every variable, its default and meaning, and nothing else (npm run docs:config)', () => {
    expect(currentConfigurationTable()).toBe(renderConfigurationTable());
  });
});
