/**
 * Prisma Migrate, driven through Prisma's own schema engine compiled to WebAssembly: the small interface the
 * scripts and the server use (deploy, status, new, reset, diff). The glue to Prisma's internals is in
 * engine.ts and adapter.ts, and assumptions.ts checks, with a message naming what changed, that a Prisma
 * upgrade still provides what that glue relies on.
 *
 * Why not the `prisma migrate` CLI: it downloads a native schema-engine binary on first use, which fails
 * offline and behind strict firewalls. The same engine ships as WebAssembly in `@prisma/schema-engine-wasm`
 * and talks to PostgreSQL through the `@prisma/adapter-pg` driver adapter. Everything here is Prisma's code:
 * the engine computes diffs, applies migrations and writes the standard `_prisma_migrations` table, and
 * `@prisma/migrate` reads the migrations folder and writes new migration folders, so `prisma migrate deploy`
 * on a connected machine sees exactly the same history.
 */
import { mkdir } from 'node:fs/promises';
import {
  createMigration as createMigrationFolder,
  writeMigrationLockfile,
  writeMigrationScript,
} from '@prisma/migrate/dist/utils/createMigration';
import { openMigrationEngine, type MigrationEngine, type ProjectFiles } from './engine';

export { openMigrationEngine, type DiffSource, type MigrationEngine, type ProjectFiles } from './engine';

/** Runs `fn` with an engine on `databaseUrl` and always stops the engine afterwards. */
export async function withMigrationEngine<T>(
  databaseUrl: string,
  fn: (engine: MigrationEngine) => Promise<T>,
  files?: ProjectFiles,
): Promise<T> {
  const engine = await openMigrationEngine(databaseUrl, files);
  try {
    return await fn(engine);
  } finally {
    await engine.stop();
  }
}

/** `prisma migrate deploy`: applies every pending migration folder, in order. */
export async function applyPendingMigrations(engine: MigrationEngine): Promise<string[]> {
  const { appliedMigrationNames } = await engine.migrate.applyMigrations();
  return appliedMigrationNames;
}

export interface MigrationStatus {
  /** Folders in prisma/migrations, in order. */
  local: string[];
  hasMigrationsTable: boolean;
  /** Migration folders the database has not applied yet. */
  pending: string[];
  /** Applied in the database but missing from the folder. */
  unknownToFolder: string[];
  failed: string[];
  edited: string[];
  /** SQL that schema.prisma needs beyond the committed migrations ('' when they agree). */
  schemaDrift: string;
  /** Why schemaDrift could not be computed (a migration that does not apply cleanly). */
  driftCheckError: string | undefined;
  upToDate: boolean;
}

/** `prisma migrate status`, plus whether schema.prisma has changes that no migration captures yet. */
export async function readMigrationStatus(engine: MigrationEngine): Promise<MigrationStatus> {
  const { migrations } = await engine.migrate.listMigrationDirectories();
  const diagnosis = await engine.migrate.diagnoseMigrationHistory({ optInToShadowDatabase: false });
  const history = diagnosis.history;
  const pending =
    history?.diagnostic === 'databaseIsBehind' || history?.diagnostic === 'historiesDiverge' ? history.unappliedMigrationNames : [];
  const unknownToFolder =
    history?.diagnostic === 'migrationsDirectoryIsBehind' || history?.diagnostic === 'historiesDiverge'
      ? history.unpersistedMigrationNames
      : [];
  // Replaying the migrations in a shadow database fails when one of them is broken: report it, not crash.
  let schemaDrift = '';
  let driftCheckError: string | undefined;
  try {
    schemaDrift = await engine.diffScript('migrations', 'schema');
  } catch (error) {
    driftCheckError = error instanceof Error ? error.message.split('\n')[0] : String(error);
  }
  return {
    local: migrations,
    hasMigrationsTable: diagnosis.hasMigrationsTable,
    pending,
    unknownToFolder,
    failed: diagnosis.failedMigrationNames,
    edited: diagnosis.editedMigrationNames,
    schemaDrift,
    driftCheckError,
    upToDate:
      pending.length === 0 &&
      unknownToFolder.length === 0 &&
      diagnosis.failedMigrationNames.length === 0 &&
      diagnosis.editedMigrationNames.length === 0,
  };
}

/** What `prisma migrate dev --create-only` writes when there is nothing to diff. */
const EMPTY_MIGRATION = '-- This is an empty migration.';

/** Prisma's migration folder name: UTC `YYYYMMDDHHMMSS_name`. */
export function migrationFolderName(name: string, at = new Date()): string {
  if (!/^[a-z0-9_]{1,80}$/.test(name)) {
    throw new Error(`migration name must be lowercase letters, digits and underscores (got "${name}")`);
  }
  return `${at.toISOString().replace(/\D/g, '').slice(0, 14)}_${name}`;
}

/**
 * `prisma migrate dev --create-only`: writes a new migration folder holding the SQL that takes the committed
 * migrations (replayed by the engine in a temporary shadow database) to schema.prisma, or an empty one to
 * write SQL into. Not applied.
 * The engine's own createMigration wants a shadow-database factory the WebAssembly build does not take yet,
 * so this asks it for the same diff and writes the folder with @prisma/migrate's own file helpers.
 */
export async function createMigration(
  engine: MigrationEngine,
  name: string,
  { empty = false }: { empty?: boolean } = {},
): Promise<string | undefined> {
  const folder = migrationFolderName(name);
  const { migrations } = await engine.migrate.listMigrationDirectories();
  // --empty: a folder for hand-written SQL (triggers, functions) that schema.prisma cannot express.
  const script = empty ? EMPTY_MIGRATION : await engine.diffScript(migrations.length ? 'migrations' : 'empty', 'schema');
  if (!script) return undefined;
  const baseDir = engine.migrationsDir;
  await mkdir(baseDir, { recursive: true });
  await createMigrationFolder({ baseDir, generatedMigrationName: folder });
  await writeMigrationScript({ baseDir, migrationName: folder, extension: 'sql', script: `${script}\n` });
  await writeMigrationLockfile({ baseDir, connectorType: 'postgresql', lockfile: { path: 'migration_lock.toml' } });
  return folder;
}

/** `prisma migrate reset` without the seed: empties the database (schema and data). */
export async function resetDatabase(engine: MigrationEngine): Promise<void> {
  await engine.migrate.reset();
}
