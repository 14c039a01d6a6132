/**
 * The glue between Prisma's schema engine (WebAssembly) and @prisma/migrate, behind `openMigrationEngine`:
 * loading the engine from its own package, constructing the classes the Prisma CLI would, and the diff
 * targets. Everything it relies on that is not public API is listed and checked in assumptions.ts.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import { loadSchemaContext, type SchemaContext } from '@prisma/internals';
import { Migrate, SchemaEngineWasm } from '@prisma/migrate';
import { listMigrations } from '@prisma/migrate/dist/utils/listMigrations';
import * as wasmRuntime from '@prisma/schema-engine-wasm/schema_engine_bg';
import { MIGRATIONS_DIR, SCHEMA_PATH } from '../../db/paths';
import { MigrationAdapterFactory, migrationPoolConfig } from './adapter';
import { assertPrismaAssumptions } from './assumptions';

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
      './schema_engine_bg.js': withUnrefTimers(wasmRuntime),
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

/** What the engine compares: nothing, schema.prisma, the migration folders (replayed), or a database. */
async function diffTarget(
  source: DiffSource,
  files: Required<ProjectFiles>,
  schemaContext: SchemaContext,
  databaseUrl: string,
): Promise<wasmRuntime.DiffTarget> {
  switch (source) {
    case 'empty':
      return { tag: 'empty' };
    case 'schema':
      return { tag: 'schemaDatamodel', files: schemaContext.schemaFiles.map(([p, content]) => ({ path: p, content })) };
    case 'migrations':
      return { tag: 'migrations', ...(await listMigrations(files.migrationsDir, '')) };
    case 'database':
      return { tag: 'url', url: databaseUrl };
  }
}

/**
 * `SchemaEngineWasm.setup` and `Migrate.setup` would build these, but with the CLI's wasm path and native
 * engine respectively; both constructors are private in the type declarations only.
 */
function createMigrate(rawEngine: RawSchemaEngine, errorRegistry: unknown, schemaContext: SchemaContext, migrationsDir: string): Migrate {
  type Ctor<T> = new (options: Record<string, unknown>) => T;
  const engine = new (SchemaEngineWasm as unknown as Ctor<SchemaEngineWasm>)({ engine: rawEngine, errorRegistry });
  return new (Migrate as unknown as Ctor<Migrate>)({
    engine,
    schemaContext,
    migrationsDirPath: migrationsDir,
    schemaFilter: noTableOrEnumFilter,
    shadowDbInitScript: '',
  });
}

/** Opens Prisma's schema engine against one database. Always `stop()` it: it owns a connection pool. */
export async function openMigrationEngine(
  databaseUrl: string,
  { schemaPath = SCHEMA_PATH, migrationsDir = MIGRATIONS_DIR }: ProjectFiles = {},
): Promise<MigrationEngine> {
  assertPrismaAssumptions();
  const factory = new MigrationAdapterFactory(migrationPoolConfig(databaseUrl));
  const adapter = bindMigrationAwareSqlAdapterFactory(factory);
  const schemaContext = await loadSchemaContext({ schemaPath: { cliProvidedPath: schemaPath }, printLoadMessage: false });
  const EngineClass = await loadEngineClass();
  const rawEngine: RawSchemaEngine = await EngineClass.new({ datamodels: schemaContext.schemaFiles }, () => undefined, adapter);
  const migrate = createMigrate(rawEngine, adapter.errorRegistry, schemaContext, migrationsDir);
  const files = { schemaPath, migrationsDir };
  return {
    migrate,
    migrationsDir,
    schemaContext,
    async diffScript(from, to) {
      const result = await rawEngine.diff({
        from: await diffTarget(from, files, schemaContext, databaseUrl),
        to: await diffTarget(to, files, schemaContext, databaseUrl),
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
