/**
 * Migrations run by Prisma's own engine: the committed history matches schema.prisma, status is reported
 * correctly, and a schema change without a migration is reported, never applied.
 */
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { runStatement, withClient } from '../../src/db/admin';
import { MIGRATIONS_DIR, SCHEMA_PATH } from '../../src/db/paths';
import { createMigration, readMigrationStatus, withMigrationEngine } from '../../src/tooling/migrate';
import { runScript } from '../helpers/cli';
import { createEmptyDatabase } from '../helpers/database';

const INIT = '20250121000000_init';
const RUN_EVENTS = '20261125080554_run_events';
const RATE_LIMITS = '20261125173556_rate_limits';
const RUN_LIST_INDEXES = '20261125190943_run_list_indexes';
const CLERK_WEBHOOKS = '20261129151324_clerk_webhooks';
const RUN_RETRIES = '20261202132641_run_retries';
const UPDATED_AT_TRIGGERS = '20261203080000_updated_at_triggers';
const RUN_LIFECYCLE = '20261207192405_run_lifecycle';
const ALL = [INIT, RUN_EVENTS, RATE_LIMITS, RUN_LIST_INDEXES, CLERK_WEBHOOKS, RUN_RETRIES, UPDATED_AT_TRIGGERS, RUN_LIFECYCLE];
/** The tables of a fully migrated database. */
const MIGRATED_TABLES = [
  'ClerkUserState',
  'IdempotencyKey',
  'InspirationReport',
  'OpportunityCard',
  'ProcessedWebhook',
  'RateLimitCounter',
  'RevokedSession',
  'Run',
  'RunLease',
  'RunRetries',
  'StageOutput',
  'User',
  '_prisma_migrations',
];
/** Models and indexes added after the initial schema, each by a later migration. */
const LATER_MODELS = [
  'RateLimitCounter',
  'ProcessedWebhook',
  'ClerkUserState',
  'RevokedSession',
  'RunRetries',
  'RunLease',
  'IdempotencyKey',
];
const LATER_LINES = [
  /\n *retries +RunRetries\? *\/\/ added after the initial schema \(migration run_retries\)/,
  // The CANCELLED status and the relations to RunLease and IdempotencyKey.
  /\n[^\n]*\/\/ added after the initial schema \(migration run_lifecycle\)[^\n]*/g,
  /\n *\/\/ Added after the initial schema \(migration run_list_indexes\)[^\n]*\n[^\n]*\n *@@index\(\[userId, status, createdAt\]\)\n *@@index\(\[userId, companyId, createdAt\]\)/,
];
let scratch: string;
const databases: Array<{ drop(): Promise<void> }> = [];

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'migrations-test-'));
});
afterAll(async () => {
  await Promise.all(databases.map((db) => db.drop()));
  await rm(scratch, { recursive: true, force: true });
});

async function emptyDatabase() {
  const db = await createEmptyDatabase();
  databases.push(db);
  return db;
}

async function tableNames(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    );
    return rows.map((r) => r.table_name);
  } finally {
    await client.end();
  }
}

/** A copy of schema.prisma with one more column on User. */
async function changedSchema(): Promise<string> {
  const file = path.join(scratch, `schema-${Date.now()}.prisma`);
  const schema = await readFile(SCHEMA_PATH, 'utf8');
  await writeFile(file, schema.replace('  name      String?\n', '  name      String?\n  timezone  String?\n'));
  return file;
}

it('the committed migrations produce exactly schema.prisma (the engine’s diff between them is empty)', async () => {
  const db = await emptyDatabase();
  const drift = await withMigrationEngine(db.url, (engine) => engine.diffScript('migrations', 'schema'));
  expect(drift).toBe('');
  expect(await readdir(MIGRATIONS_DIR)).toEqual([...ALL, 'migration_lock.toml']);
});

/** schema.prisma as the init migration created it: without the models later migrations add. */
async function seedSchema(): Promise<string> {
  const file = path.join(scratch, `seed-schema-${Date.now()}.prisma`);
  let schema = await readFile(SCHEMA_PATH, 'utf8');
  for (const model of LATER_MODELS) {
    const without = schema.replace(new RegExp(`\\nmodel ${model} \\{[^}]*\\}\\n`), '\n');
    expect(without).not.toBe(schema);
    schema = without;
  }
  for (const line of LATER_LINES) {
    const without = schema.replace(line, '');
    expect(without).not.toBe(schema);
    schema = without;
  }
  await writeFile(file, schema);
  return file;
}

it('the init migration is the engine’s SQL for the initial schema, diffed from an empty database', async () => {
  const db = await emptyDatabase();
  const fromEmpty = await withMigrationEngine(db.url, (engine) => engine.diffScript('empty', 'schema'), { schemaPath: await seedSchema() });
  expect((await readFile(path.join(MIGRATIONS_DIR, INIT, 'migration.sql'), 'utf8')).trim()).toBe(fromEmpty);
});

it('status: an empty database has every migration pending and no migrations table', async () => {
  const db = await emptyDatabase();
  const status = await withMigrationEngine(db.url, readMigrationStatus);
  expect(status).toMatchObject({ local: ALL, hasMigrationsTable: false, pending: ALL, failed: [], upToDate: false, schemaDrift: '' });

  const cli = await runScript('scripts/migrate.ts', ['status'], { DATABASE_URL: db.url });
  expect(cli.code).toBe(1);
  expect(cli.stdout).toContain(`pending:   ${INIT}`);
  expect(cli.stdout).toContain(`pending:   ${RUN_EVENTS}`);
  expect(cli.stdout).toContain('npm run db:migrate');
});

it('db:migrate applies the migrations into Prisma’s _prisma_migrations table, then status is up to date', async () => {
  const db = await emptyDatabase();
  const first = await runScript('scripts/migrate.ts', ['deploy'], { DATABASE_URL: db.url });
  expect(first).toMatchObject({ code: 0 });
  expect(first.stdout).toContain(`Applied: ${ALL.join(', ')}`);
  const again = await runScript('scripts/migrate.ts', ['deploy'], { DATABASE_URL: db.url });
  expect(again.stdout).toContain('No pending migrations.');

  expect(await tableNames(db.url)).toEqual(MIGRATED_TABLES);
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const { rows } = await client.query(
    'SELECT migration_name, finished_at IS NOT NULL AS finished, rolled_back_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name',
  );
  const triggers = await client.query(
    `SELECT event_object_table AS "table", string_agg(event_manipulation, ',' ORDER BY event_manipulation) AS events
     FROM information_schema.triggers WHERE trigger_name LIKE '%notify_run_event' GROUP BY 1 ORDER BY 1`,
  );
  await client.end();
  expect(rows).toEqual(ALL.map((migration_name) => ({ migration_name, finished: true, rolled_back_at: null, applied_steps_count: 1 })));
  // The hand-written trigger migration went in whole (its function body has semicolons of its own).
  expect(triggers.rows).toEqual([
    { table: 'InspirationReport', events: 'INSERT' },
    { table: 'OpportunityCard', events: 'INSERT' },
    { table: 'Run', events: 'DELETE,INSERT,UPDATE' },
    { table: 'StageOutput', events: 'INSERT' },
  ]);

  const status = await withMigrationEngine(db.url, readMigrationStatus);
  expect(status).toMatchObject({ hasMigrationsTable: true, pending: [], upToDate: true, schemaDrift: '' });
  const cli = await runScript('scripts/migrate.ts', ['status'], { DATABASE_URL: db.url });
  expect(cli.code).toBe(0);
  expect(cli.stdout).toContain('Database schema is up to date.');
});

it('status reports a schema change that has no migration, and applies nothing', async () => {
  const db = await emptyDatabase();
  await runScript('scripts/migrate.ts', ['deploy'], { DATABASE_URL: db.url });
  const schemaPath = await changedSchema();

  const status = await withMigrationEngine(db.url, readMigrationStatus, { schemaPath });
  expect(status.upToDate).toBe(true); // every migration folder is applied…
  expect(status.schemaDrift).toContain('ALTER TABLE "User" ADD COLUMN     "timezone" TEXT;'); // …but the schema moved on

  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const { rowCount } = await client.query(
    `SELECT 1 FROM information_schema.columns WHERE table_name = 'User' AND column_name = 'timezone'`,
  );
  await client.end();
  expect(rowCount).toBe(0);
});

it('db:new writes a migration folder for a schema change (not applied) that db:migrate then applies', async () => {
  const db = await emptyDatabase();
  const migrationsDir = path.join(scratch, 'migrations');
  await cp(MIGRATIONS_DIR, migrationsDir, { recursive: true });
  const schemaPath = await changedSchema();
  const files = { schemaPath, migrationsDir };
  await withMigrationEngine(db.url, (engine) => engine.migrate.applyMigrations(), files);

  const created = await withMigrationEngine(db.url, (engine) => createMigration(engine, 'add_user_timezone'), files);
  expect(created).toMatch(/^\d{14}_add_user_timezone$/);
  const sql = await readFile(path.join(migrationsDir, created!, 'migration.sql'), 'utf8');
  expect(sql).toContain('ALTER TABLE "User" ADD COLUMN     "timezone" TEXT;');

  const before = await withMigrationEngine(db.url, readMigrationStatus, files);
  expect(before).toMatchObject({ pending: [created], schemaDrift: '', upToDate: false });
  await withMigrationEngine(db.url, (engine) => engine.migrate.applyMigrations(), files);
  const after = await withMigrationEngine(db.url, readMigrationStatus, files);
  expect(after).toMatchObject({ pending: [], schemaDrift: '', upToDate: true });

  // Nothing changes when the schema has nothing new.
  expect(await withMigrationEngine(db.url, (engine) => createMigration(engine, 'nothing'), files)).toBeUndefined();
});

it('db:new --empty writes an empty migration folder for hand-written SQL', async () => {
  const db = await emptyDatabase();
  const migrationsDir = path.join(scratch, 'migrations-empty');
  await cp(MIGRATIONS_DIR, migrationsDir, { recursive: true });
  const created = await withMigrationEngine(db.url, (engine) => createMigration(engine, 'add_trigger', { empty: true }), { migrationsDir });
  expect(await readFile(path.join(migrationsDir, created!, 'migration.sql'), 'utf8')).toBe('-- This is an empty migration.\n');
});

it('a failing migration rolls back as a whole and is reported as failed', async () => {
  const db = await emptyDatabase();
  const migrationsDir = path.join(scratch, 'migrations-broken');
  await cp(MIGRATIONS_DIR, migrationsDir, { recursive: true });
  const broken = path.join(migrationsDir, '20991231000000_broken');
  await mkdir(broken);
  await writeFile(path.join(broken, 'migration.sql'), 'CREATE TABLE "Half" (id int);\nSELECT 1/0;\n');
  await expect(withMigrationEngine(db.url, (engine) => engine.migrate.applyMigrations(), { migrationsDir })).rejects.toThrow(
    /division by zero/,
  );
  expect(await tableNames(db.url)).not.toContain('Half');
  const status = await withMigrationEngine(db.url, readMigrationStatus, { migrationsDir });
  expect(status.failed).toEqual(['20991231000000_broken']);
  expect(status.upToDate).toBe(false);
  expect(status.driftCheckError).toMatch(/20991231000000_broken/);
});

it('db:reset (development) drops everything, re-applies every migration and loads the seed data', async () => {
  const db = await emptyDatabase();
  await runScript('scripts/migrate.ts', ['deploy'], { DATABASE_URL: db.url });
  await runStatement(db.url, 'CREATE TABLE "Stray" (id int)');
  const reset = await runScript('scripts/migrate.ts', ['reset'], { DATABASE_URL: db.url, NODE_ENV: 'development' });
  expect(reset.code).toBe(0);
  expect(reset.stdout).toContain(`Database reset; applied: ${ALL.join(', ')}`);
  expect(await tableNames(db.url)).toEqual(MIGRATED_TABLES);
  const users = await withClient(db.url, (client) => client.query(`SELECT "clerkId" FROM "User"`));
  expect(users.rows).toEqual([{ clerkId: 'test_user_123' }]);
});

it('db:reset refuses while something else uses the database, naming it; --force ends those sessions and resets', async () => {
  const db = await emptyDatabase();
  await runScript('scripts/migrate.ts', ['deploy'], { DATABASE_URL: db.url });
  // What a running server's pool looks like to PostgreSQL.
  const server = new pg.Client({ connectionString: db.url, application_name: 'opportunity-api' });
  server.on('error', () => undefined);
  await server.connect();
  try {
    await server.query(`INSERT INTO "User" (id, "clerkId", email, "updatedAt") VALUES ('u1', 'user_kept', 'kept@x.test', now())`);
    const refused = await runScript('scripts/migrate.ts', ['reset'], { DATABASE_URL: db.url, NODE_ENV: 'development' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('db:reset refuses: 1 other connection(s) use this database: opportunity-api (1)');
    expect(refused.stderr).toContain('--force');
    // Nothing was touched.
    expect((await server.query(`SELECT "clerkId" FROM "User"`)).rows).toEqual([{ clerkId: 'user_kept' }]);

    const forced = await runScript('scripts/migrate.ts', ['reset', '--force'], { DATABASE_URL: db.url, NODE_ENV: 'development' });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('Ending 1 other session(s): opportunity-api (1)');
    await expect(server.query('SELECT 1')).rejects.toThrow();
    const users = await withClient(db.url, (client) => client.query(`SELECT "clerkId" FROM "User"`));
    expect(users.rows).toEqual([{ clerkId: 'test_user_123' }]);
  } finally {
    await server.end().catch(() => undefined);
  }
});

it('db:reset refuses to run in production', async () => {
  const result = await runScript('scripts/migrate.ts', ['reset'], {
    NODE_ENV: 'production',
    DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none',
  });
  expect(result.code).toBe(1);
  expect(result.stderr).toContain('refuses to run with NODE_ENV=production');
});

it('leaves no temporary shadow databases behind', async () => {
  const client = new pg.Client({ connectionString: process.env.TEST_ADMIN_URL });
  await client.connect();
  const { rows } = await client.query(`SELECT datname FROM pg_database WHERE datname LIKE 'prisma_migrate_shadow_db_%'`);
  await client.end();
  expect(rows).toEqual([]);
});
