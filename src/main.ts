/**
 * `npm start` (compiled) and `npm run dev` (tsx watch): configuration → database (DATABASE_URL, or the
 * embedded PostgreSQL) → pending migrations (applied, or in production a refusal: they are a release step of
 * their own) → seed data on a brand-new embedded database → HTTP server.
 * SIGINT/SIGTERM shut it all down in reverse; with `--keep-database-on-restart` (npm run dev) a SIGTERM, which
 * is how tsx watch restarts the server, leaves the embedded PostgreSQL running for the next start to reuse.
 */
// First: the tracing instrumentations must patch http and pg before anything requires them.
import { tracing } from './tracing';
import { commandLine, SERVER_COMMAND_LINE } from './args';
import { ConfigError, loadConfig, loadDotEnv } from './config';
import { createTokenVerifier } from './auth/tokens';
import { connectPrisma, disconnectPrisma } from './db/client';
import { NotificationListener } from './db/events';
import { withClient } from './db/admin';
import { applyPendingMigrations, withMigrationEngine } from './tooling/migrate';
import { listShippedMigrations, pendingMigrations } from './db/migration-state';
import { openDatabaseTarget, type DatabaseTarget } from './tooling/target';
import { configureLogger, logger } from './logger';
import { createApp, type App } from './server/app';
import { seedBaseData } from './tooling/seed';

/** A start-up failure the message says everything about: logged as one line, without a stack. */
class CannotStart extends Error {}

let target: DatabaseTarget | undefined;
let app: App | undefined;
let events: NotificationListener | undefined;
let stopping = false;
let shutdownTimeoutMs = 10_000;
let keepDatabaseOnRestart = false;

async function shutdown(reason: string, exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info('shutting down', { reason });
  // Whatever a client, the pool or the database does, the process is gone within the budget.
  setTimeout(() => {
    logger.error('shutdown did not finish within SHUTDOWN_TIMEOUT_MS; exiting now', { timeoutMs: shutdownTimeoutMs });
    process.exit(exitCode || 1);
  }, shutdownTimeoutMs).unref();
  await app?.close().catch((err: unknown) => logger.error('closing HTTP server failed', { err }));
  await events?.stop().catch((err: unknown) => logger.error('stopping the run event listener failed', { err }));
  await disconnectPrisma().catch((err: unknown) => logger.error('closing database pool failed', { err }));
  if (keepDatabaseOnRestart && reason === 'SIGTERM' && target?.embedded) {
    await target.embedded.handOver().catch((err: unknown) => logger.error('leaving embedded PostgreSQL running failed', { err }));
    logger.info('left the embedded PostgreSQL running for the next start (npm run dev restarts)');
  } else {
    await target?.close().catch((err: unknown) => logger.error('stopping embedded PostgreSQL failed', { err }));
  }
  await tracing?.shutdown().catch((err: unknown) => logger.error('exporting the last traces failed', { err }));
  logger.info('stopped');
  process.exit(exitCode);
}

/**
 * Applies pending migrations (MIGRATE_ON_START, on outside production); otherwise refuses to start while any
 * is pending, naming the command that applies them: every replica migrating as it starts would race.
 */
async function migrateOrRefuse(migrateOnStart: boolean, directUrl: string): Promise<void> {
  if (migrateOnStart) {
    const applied = await withMigrationEngine(directUrl, applyPendingMigrations);
    logger.info(applied.length ? 'applied migrations' : 'no pending migrations', { applied: applied.join(',') || undefined });
    return;
  }
  const pending = await withClient(directUrl, async (client) =>
    pendingMigrations(async (sql) => (await client.query<Record<string, unknown>>(sql)).rows, await listShippedMigrations()),
  );
  if (pending.length) {
    throw new CannotStart(
      `the database has ${pending.length} migration(s) not applied (${pending.join(', ')}): apply them first with \`npm run db:migrate\` ` +
        '(from the image: node dist/scripts/migrate.js deploy), or set MIGRATE_ON_START=true',
    );
  }
  logger.info('no pending migrations');
}

async function main(): Promise<void> {
  const { values } = commandLine(SERVER_COMMAND_LINE);
  keepDatabaseOnRestart = values['keep-database-on-restart'];
  loadDotEnv();
  const config = loadConfig();
  configureLogger(config);
  shutdownTimeoutMs = config.shutdownTimeoutMs;
  // Before any database work: a server that could not verify a token refuses to start at once.
  const verifyToken = await createTokenVerifier(config.auth, config.dataDir);
  // Kept for the whole shutdown: a second signal (a supervisor like tsx watch relays the terminal's Ctrl-C that
  // already reached this process group) must not kill the process halfway through stopping.
  process.on('SIGINT', () => void shutdown('SIGINT', 0));
  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));

  target = await openDatabaseTarget(config);
  await migrateOrRefuse(config.migrateOnStart, target.directUrl);

  // Only a database this process just created is seeded; a DATABASE_URL database never is.
  if (target.embedded?.created) {
    const seeded = await seedBaseData(target.url);
    logger.info('loaded seed data into the new embedded database', { clerkId: 'test_user_123', runId: seeded.runId });
  }

  const db = connectPrisma(target.url, { logQueries: config.logQueries, production: config.nodeEnv === 'production' });
  // One LISTEN connection for the whole process, on the direct URL (LISTEN does not work through PgBouncer).
  events = new NotificationListener(target.directUrl);
  await events.start();
  app = await createApp({ config, db, events, verifyToken });
  const port = await app.listen().catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    throw new CannotStart(
      `port ${config.port} is in use — is npm start (or npm run demo) already running? Stop it, or set PORT to another port (PORT=4001 npm start)`,
    );
  });
  logger.info('server listening', { url: `http://localhost:${port}`, health: '/health', ready: '/ready', env: config.nodeEnv });
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) logger.error(`configuration error: ${error.message}`);
  else if (error instanceof CannotStart) logger.error(error.message);
  else logger.error('server failed to start', { err: error });
  void shutdown('start-up failed', 1);
});
