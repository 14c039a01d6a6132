/**
 * Prisma Migrate, driven through Prisma's own schema engine compiled to WebAssembly.
 *
 * Why not the `prisma migrate` CLI: it downloads a native schema-engine binary on first use, which fails
 * offline and behind strict firewalls. The same engine ships as WebAssembly in `@prisma/schema-engine-wasm`
 * and talks to PostgreSQL through the `@prisma/adapter-pg` driver adapter. Everything here is Prisma's code:
 * the engine computes diffs, applies migrations and writes the standard `_prisma_migrations` table, and
 * `@prisma/migrate` reads the migrations folder and writes new migration folders, so `prisma migrate deploy`
 * on a connected machine sees exactly the same history.
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import { loadSchemaContext, type SchemaContext } from '@prisma/internals';
import { Migrate, SchemaEngineWasm } from '@prisma/migrate';
import {
  createMigration as createMigrationFolder,
  writeMigrationLockfile,
  writeMigrationScript,
} from '@prisma/migrate/dist/utils/createMigration';
import { listMigrations } from '@prisma/migrate/dist/utils/listMigrations';
import * as wasmRuntime from '@prisma/schema-engine-wasm/schema_engine_bg';
import { MigrationAdapterFactory, migrationPoolConfig } from './migration-adapter';
import { MIGRATIONS_DIR, SCHEMA_PATH } from './paths';

type RawSchemaEngine = Awaited<ReturnType<typeof wasmRuntime.SchemaEngine.new>>;
const noTableOrEnumFilter = { externalTables: [], externalEnums: [] };

/**
 * The engine races some database work against a 10 s timer and leaves the timer pending when the work wins;
 * a pending timer keeps Node alive. Unref'd, it still fires while the process has other work, but no longer
 * holds a finished script (or test worker) open for ten seconds.
 */
function withUnrefTimers(imports: WebAssembly.ModuleImports): WebAssembly.ModuleImports {
  const wrapped: WebAssembly.ModuleImports = { ...imports };
  for (const [name, value] of Object.entries(imports)) {
    if (name.startsWith('__wbg_setTimeout_') && typeof value === 'function') {
      wrapped[name] = (...args: unknown[]) => {
        const timer = (value as (...a: unknown[]) => unknown)(...args);
        (timer as { unref?: () => void } | undefined)?.unref?.();
        return timer;
      };
    }
  }
  return wrapped;
}

let compiledEngine: Promise<typeof wasmRuntime.SchemaEngine> | undefined;

/**
 * Instantiates the WebAssembly module once per process. `@prisma/internals` has the same loader but looks for
 * the .wasm file next to the bundled CLI (`prisma/build/`); this reads it from the engine's own package,
 * which is pinned to the same version as `@prisma/internals`.
 */
function loadEngineClass(): Promise<typeof wasmRuntime.SchemaEngine> {
  compiledEngine ??= (async () => {
    const runtimePath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const bytes = await readFile(path.join(path.dirname(runtimePath), 'schema_engine_bg.wasm'));
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
      './schema_engine_bg.js': withUnrefTimers(wasmRuntime as unknown as WebAssembly.ModuleImports),
    });
    wasmRuntime.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return wasmRuntime.SchemaEngine;
  })();
  return compiledEngine;
}

export interface MigrationEngine {
  migrate: Migrate;
  migrationsDir: string;
  schemaContext: SchemaContext;
  /** Diff two schema sources; returns the SQL script (empty string when there is nothing to do). */
  diffScript(from: DiffSource, to: DiffSource): Promise<string>;
  stop(): Promise<void>;
}

export type DiffSource = 'empty' | 'schema' | 'migrations' | 'database';

export interface ProjectFiles {
  /** prisma/schema.prisma unless given (tests point at a modified copy). */
  schemaPath?: string;
  /** prisma/migrations unless given. */
  migrationsDir?: string;
}

/** Opens Prisma's schema engine against one database. Always `stop()` it: it owns a connection pool. */
export async function openMigrationEngine(
  databaseUrl: string,
  { schemaPath = SCHEMA_PATH, migrationsDir = MIGRATIONS_DIR }: ProjectFiles = {},
): Promise<MigrationEngine> {
  const factory = new MigrationAdapterFactory(migrationPoolConfig(databaseUrl));
  const adapter = bindMigrationAwareSqlAdapterFactory(factory);
  const schemaContext = await loadSchemaContext({ schemaPath: { cliProvidedPath: schemaPath }, printLoadMessage: false });
  const EngineClass = await loadEngineClass();
  const rawEngine: RawSchemaEngine = await EngineClass.new({ datamodels: schemaContext.schemaFiles }, () => undefined, adapter);
  // Both constructors are private in the type declarations only: `SchemaEngineWasm.setup` and
  // `Migrate.setup` would do exactly this, but with the CLI's wasm path and native engine respectively.
  type Ctor<T> = new (options: Record<string, unknown>) => T;
  const engine = new (SchemaEngineWasm as unknown as Ctor<SchemaEngineWasm>)({
    engine: rawEngine,
    errorRegistry: adapter.errorRegistry,
  });
  const migrate = new (Migrate as unknown as Ctor<Migrate>)({
    engine,
    schemaContext,
    migrationsDirPath: migrationsDir,
    schemaFilter: noTableOrEnumFilter,
    shadowDbInitScript: '',
  });

  const toTarget = async (source: DiffSource): Promise<wasmRuntime.DiffTarget> => {
    switch (source) {
      case 'empty':
        return { tag: 'empty' };
      case 'schema':
        return { tag: 'schemaDatamodel', files: schemaContext.schemaFiles.map(([p, content]) => ({ path: p, content })) };
      case 'migrations':
        return { tag: 'migrations', ...(await listMigrations(migrationsDir, '')) };
      case 'database':
        return { tag: 'url', url: databaseUrl };
    }
  };

  return {
    migrate,
    migrationsDir,
    schemaContext,
    async diffScript(from, to) {
      const result = await rawEngine.diff({
        from: await toTarget(from),
        to: await toTarget(to),
        script: true,
        exitCode: true, // the engine answers 2 when the diff is not empty
        filters: noTableOrEnumFilter,
      });
      return result.exitCode === 0 ? '' : (result.stdout ?? '').trim();
    },
    async stop() {
      await migrate.stop();
      await factory.closeAll();
    },
  };
}

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
