/**
 * What `npm start` does on a newcomer's machine: with no DATABASE_URL it creates an embedded PostgreSQL in the
 * data folder, migrates it, loads the seed data once and serves; with DATABASE_URL it migrates that database
 * and never seeds it.
 */
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { spawnSync } from 'node:child_process';
import { logEntries, logEntry, PROJECT_ROOT, runScript, startMain } from '../helpers/cli';
import { createSigner, TEST_APP_ORIGIN, TEST_ISSUER } from '../helpers/tokens';
import { createEmptyDatabase } from '../helpers/database';
import { listShippedMigrations } from '../../src/db/migration-state';

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

it('with DATABASE_URL: applies migrations, does not seed, is ready', async () => {
  const db = await createEmptyDatabase();
  const server = await startMain({ DATABASE_URL: db.url, DATA_DIR: path.join(os.tmpdir(), 'unused-data-dir') });
  try {
    expect(server.output()).toContain('using database from DATABASE_URL');
    expect(logEntry(server.output(), 'applied migrations')).toMatchObject({
      applied: (await listShippedMigrations()).join(','),
    });
    expect(server.output()).not.toContain('seed');
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    expect(await query(db.url, 'SELECT count(*)::int AS n FROM "User"')).toEqual([{ n: 0 }]);
  } finally {
    expect(await server.stop()).toBe(0);
    await db.drop();
  }
});

it('logs a DATABASE_URL with its password masked, and says why it cannot start', async () => {
  const server = await startMain({ DATABASE_URL: 'postgresql://app:hunter2@127.0.0.1:1/nowhere?connect_timeout=1' }).catch(
    (error: Error) => error,
  );
  // The database does not exist, so the server refuses to start; its log must still not show the password.
  expect(server).toBeInstanceOf(Error);
  const message = (server as Error).message;
  expect(message).toContain('postgresql://app:****@127.0.0.1:1/nowhere');
  expect(message).not.toContain('hunter2');
  expect(message).toContain('server failed to start');
});

it('without DATABASE_URL: embedded PostgreSQL in the data folder, seeded once, kept across restarts', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'opportunity-api-start-'));
  try {
    const first = await startMain({ DATABASE_URL: '', DIRECT_URL: '', DATA_DIR: dataDir });
    let url: string;
    try {
      expect(first.output()).toContain('initialising embedded PostgreSQL cluster');
      const using = logEntry(first.output(), 'using embedded PostgreSQL (no DATABASE_URL set)');
      expect(using).toMatchObject({ created: true });
      expect(using?.url).toMatch(/^postgresql:\/\/postgres:\*\*\*\*@127\.0\.0\.1:\d+\/opportunity$/);
      expect(first.output()).toContain('loaded seed data into the new embedded database');
      expect((await fetch(`${first.url}/ready`)).status).toBe(200);
      const state = JSON.parse(await readFile(path.join(dataDir, 'postgres.json'), 'utf8')) as { port: number; password: string };
      url = `postgresql://postgres:${encodeURIComponent(state.password)}@127.0.0.1:${state.port}/opportunity`;
      expect(await query(url, `SELECT "clerkId" FROM "User"`)).toEqual([{ clerkId: 'test_user_123' }]);
      await query(url, `UPDATE "OpportunityCard" SET starred = true WHERE number = 2`);
    } finally {
      // Ctrl-C: the terminal signals the whole process group; the database is not in it, and stops last.
      expect(await first.interrupt()).toBe(0);
    }
    expect(logEntries(first.output()).filter((entry) => Number(entry.level) >= 50)).toEqual([]);
    expect(logEntry(first.output(), 'stopped')).toBeDefined();
    // Stopped with the server.
    await expect(query(url, 'SELECT 1')).rejects.toThrow();

    const second = await startMain({ DATABASE_URL: '', DIRECT_URL: '', DATA_DIR: dataDir });
    try {
      expect(logEntry(second.output(), 'using embedded PostgreSQL (no DATABASE_URL set)')).toMatchObject({ created: false });
      expect(second.output()).toContain('no pending migrations');
      expect(second.output()).not.toContain('loaded seed data');
      const state = JSON.parse(await readFile(path.join(dataDir, 'postgres.json'), 'utf8')) as { port: number; password: string };
      url = `postgresql://postgres:${encodeURIComponent(state.password)}@127.0.0.1:${state.port}/opportunity`;
      expect(await query(url, `SELECT number FROM "OpportunityCard" WHERE starred ORDER BY number`)).toEqual([{ number: 2 }]);
    } finally {
      expect(await second.stop()).toBe(0);
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

it('a port in use: one line that names it and what to do, no stack trace, exit 1', async () => {
  const db = await createEmptyDatabase();
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as net.AddressInfo).port;
  try {
    const result = await runScript('src/main.ts', [], { DATABASE_URL: db.url, HOST: '127.0.0.1', PORT: String(port) });
    expect(result.code).toBe(1);
    const errors = logEntries(result.stdout + result.stderr).filter((entry) => Number(entry.level) >= 50);
    expect(errors).toEqual([
      expect.objectContaining({
        msg: `port ${port} is in use — is npm start (or npm run demo) already running? Stop it, or set PORT to another port (PORT=4001 npm start)`,
      }),
    ]);
    expect(errors[0]).not.toHaveProperty('err');
    expect(result.stderr).toBe('');
  } finally {
    taken.close();
    await db.drop();
  }
});

it('in production without a Clerk key: refuses to start and says what to set', async () => {
  const db = await createEmptyDatabase();
  try {
    const failure = await startMain({ NODE_ENV: 'production', DATABASE_URL: db.url, CLERK_JWT_KEY: '', CLERK_SECRET_KEY: '' }).catch(
      (error: Error) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toContain('CLERK_JWT_KEY or CLERK_SECRET_KEY is required when NODE_ENV=production');
  } finally {
    await db.drop();
  }
});

it('in production without CLERK_ISSUER: refuses to start and says what to set', async () => {
  const db = await createEmptyDatabase();
  const signer = await createSigner();
  try {
    const failure = await startMain({
      NODE_ENV: 'production',
      DATABASE_URL: db.url,
      CLERK_JWT_KEY: signer.publicKeyPem,
      CLERK_ISSUER: '',
    }).catch((error: Error) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toContain('CLERK_ISSUER is required when NODE_ENV=production');
  } finally {
    await db.drop();
  }
});

it('in production without CLERK_AUTHORIZED_PARTIES: refuses to start naming it, unless opted out', async () => {
  const db = await createEmptyDatabase();
  const signer = await createSigner();
  const production = {
    NODE_ENV: 'production',
    DATABASE_URL: db.url,
    CLERK_JWT_KEY: signer.publicKeyPem,
    CLERK_ISSUER: TEST_ISSUER,
    ALLOW_ARBITRARY_DOCUMENTS: 'true',
    // An empty database: migrated at start here (production refuses otherwise, as tested below).
    MIGRATE_ON_START: 'true',
  };
  try {
    const failure = await startMain({ ...production, CLERK_AUTHORIZED_PARTIES: '' }).catch((error: Error) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toContain('CLERK_AUTHORIZED_PARTIES is required when NODE_ENV=production');
    const optedOut = await startMain({ ...production, CLERK_AUTHORIZED_PARTIES: '', CLERK_AUTHORIZED_PARTIES_OPT_OUT: 'true' });
    try {
      expect((await fetch(`${optedOut.url}/health`)).status).toBe(200);
    } finally {
      await optedOut.stop();
    }
  } finally {
    await db.drop();
  }
});

it('in development without a Clerk key: trusts `npm run token` tokens and warns loudly', async () => {
  const db = await createEmptyDatabase();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'opportunity-api-devtoken-'));
  const server = await startMain({
    NODE_ENV: 'development',
    DATABASE_URL: db.url,
    DATA_DIR: dataDir,
    CLERK_JWT_KEY: '',
    CLERK_SECRET_KEY: '',
  });
  try {
    expect(server.output()).toContain('!!! DEVELOPMENT AUTH');
    const printed = await runScript('scripts/token.ts', ['--user', 'test_user_123', '--raw'], {
      NODE_ENV: 'development',
      DATA_DIR: dataDir,
    });
    expect(printed.code).toBe(0);
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${printed.stdout.trim()}` },
      body: JSON.stringify({ query: '{ me { email } }' }),
    });
    expect(await res.json()).toEqual({ data: { me: { email: 'test@example.com' } } });
  } finally {
    await server.stop();
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
});

describe('a production start never migrates by surprise', () => {
  const production = async (db: { url: string }, extra: NodeJS.ProcessEnv = {}) => {
    const signer = await createSigner();
    return {
      NODE_ENV: 'production',
      DATABASE_URL: db.url,
      DIRECT_URL: '',
      CLERK_JWT_KEY: signer.publicKeyPem,
      CLERK_ISSUER: TEST_ISSUER,
      CLERK_AUTHORIZED_PARTIES: TEST_APP_ORIGIN,
      ALLOW_ARBITRARY_DOCUMENTS: 'true',
      ...extra,
    };
  };

  it('on a database with pending migrations it refuses in one line naming the migration command, and changes nothing', async () => {
    const db = await createEmptyDatabase();
    try {
      const refused = await startMain(await production(db)).catch((error: Error) => error);
      expect(refused).toBeInstanceOf(Error);
      const lines = logEntries((refused as Error).message.slice((refused as Error).message.indexOf('\n') + 1));
      const shipped = await listShippedMigrations();
      expect(lines.filter((line) => Number(line.level) >= 50)).toEqual([
        expect.objectContaining({
          msg: `the database has ${shipped.length} migration(s) not applied (${shipped.join(', ')}): apply them first with \`npm run db:migrate\` (from the image: node dist/scripts/migrate.js deploy), or set MIGRATE_ON_START=true`,
        }),
      ]);
      expect(await query(db.url, `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'`)).toEqual([
        { n: 0 },
      ]);
    } finally {
      await db.drop();
    }
  });

  it('MIGRATE_ON_START=true applies them, as outside production', async () => {
    const db = await createEmptyDatabase();
    try {
      const server = await startMain(await production(db, { MIGRATE_ON_START: 'true' }));
      try {
        expect(logEntry(server.output(), 'applied migrations')).toMatchObject({ applied: (await listShippedMigrations()).join(',') });
        expect((await fetch(`${server.url}/ready`)).status).toBe(200);
      } finally {
        expect(await server.stop()).toBe(0);
      }
    } finally {
      await db.drop();
    }
  });
});

// dist/ is built once for the whole run (tests/setup/global-setup.cjs), which fails on any compiler error.
it('the production build: compiled migrations, then the compiled server in production mode', async () => {
  const db = await createEmptyDatabase();
  const signer = await createSigner();
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    DATABASE_URL: db.url,
    DIRECT_URL: '',
    CLERK_JWT_KEY: signer.publicKeyPem,
    CLERK_ISSUER: TEST_ISSUER,
    CLERK_AUTHORIZED_PARTIES: TEST_APP_ORIGIN,
    ALLOW_ARBITRARY_DOCUMENTS: 'true',
  };
  try {
    const migrated = spawnSync(process.execPath, ['dist/scripts/migrate.js', 'deploy'], { cwd: PROJECT_ROOT, env, encoding: 'utf8' });
    expect(migrated.status).toBe(0);
    expect(migrated.stdout).toContain('Applied: 20250121000000_init');
    const server = await startMain(env, 60_000, { compiled: true });
    try {
      expect((await fetch(`${server.url}/ready`)).status).toBe(200);
      const token = await signer.sign({ sub: 'user_compiled' });
      const res = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ me { email runCount } }' }),
      });
      expect(await res.json()).toEqual({ data: { me: { email: 'user_compiled@example.com', runCount: 0 } } });
    } finally {
      expect(await server.stop()).toBe(0);
    }
  } finally {
    await db.drop();
  }
}, 120_000);
