/**
 * What engine.ts and adapter.ts rely on in Prisma's packages beyond their public API, checked before the
 * engine is opened (and by a test): after a Prisma upgrade, a broken assumption fails with a message naming
 * what changed, instead of an obscure error deep inside a migration.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { Migrate, SchemaEngineWasm } from '@prisma/migrate';
import * as createMigrationModule from '@prisma/migrate/dist/utils/createMigration';
import * as listMigrationsModule from '@prisma/migrate/dist/utils/listMigrations';
import * as wasmRuntime from '@prisma/schema-engine-wasm/schema_engine_bg';
import { PROJECT_ROOT } from '../../config';

/** The pieces checked, so that a test can hand in an altered copy. */
export interface PrismaModules {
  wasmRuntime: Record<string, unknown>;
  wasmFile: string;
  Migrate: { prototype: object };
  SchemaEngineWasm: { prototype: object };
  createMigration: Record<string, unknown>;
  listMigrations: Record<string, unknown>;
  PrismaPg: { prototype: object };
  /** Installed version of each package that must move together. */
  versions: Record<string, string>;
  /** The schema-engine-wasm version @prisma/internals was built against. */
  engineWanted: string;
}

const packageDir = (name: string) => path.join(PROJECT_ROOT, 'node_modules', name);
const packageJson = (name: string) =>
  JSON.parse(readFileSync(path.join(packageDir(name), 'package.json'), 'utf8')) as {
    version: string;
    dependencies?: Record<string, string>;
  };

export function installedPrismaModules(): PrismaModules {
  const runtimePath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
  // The CLI generates the client, so it must match it; a production install runs migrations without it.
  const cli = existsSync(packageDir('prisma')) ? ['prisma'] : [];
  const lockstep = [...cli, '@prisma/client', '@prisma/adapter-pg', '@prisma/migrate', '@prisma/internals', '@prisma/driver-adapter-utils'];
  return {
    wasmRuntime: wasmRuntime,
    wasmFile: path.join(path.dirname(runtimePath), 'schema_engine_bg.wasm'),
    Migrate,
    SchemaEngineWasm,
    createMigration: createMigrationModule,
    listMigrations: listMigrationsModule,
    PrismaPg,
    versions: Object.fromEntries([...lockstep, '@prisma/schema-engine-wasm'].map((name) => [name, packageJson(name).version])),
    engineWanted: packageJson('@prisma/internals').dependencies?.['@prisma/schema-engine-wasm'] ?? '(none)',
  };
}

const isFunction = (value: unknown) => typeof value === 'function';

/** Every broken assumption, as a sentence naming the package and what is missing or different. */
export function checkPrismaAssumptions(modules: PrismaModules = installedPrismaModules()): string[] {
  const problems: string[] = [];
  const expect = (ok: boolean, problem: string) => {
    if (!ok) problems.push(problem);
  };
  const runtime = modules.wasmRuntime;
  expect(
    existsSync(modules.wasmFile),
    `@prisma/schema-engine-wasm no longer ships schema_engine_bg.wasm next to schema_engine_bg.js (looked for ${modules.wasmFile})`,
  );
  expect(
    isFunction(runtime.__wbg_set_wasm),
    '@prisma/schema-engine-wasm/schema_engine_bg no longer exports __wbg_set_wasm (engine.ts instantiates the module itself)',
  );
  expect(
    isFunction((runtime.SchemaEngine as { new?: unknown } | undefined)?.new),
    '@prisma/schema-engine-wasm no longer has SchemaEngine.new(options, log, adapter)',
  );
  expect(
    Object.keys(runtime).some((name) => name.startsWith('__wbg_setTimeout_')),
    '@prisma/schema-engine-wasm no longer imports a __wbg_setTimeout_* function (engine.ts unrefs its timers)',
  );
  for (const method of ['applyMigrations', 'listMigrationDirectories', 'diagnoseMigrationHistory', 'reset', 'stop']) {
    expect(
      isFunction((modules.Migrate.prototype as Record<string, unknown>)[method]),
      `@prisma/migrate's Migrate has no ${method}() any more`,
    );
  }
  expect(
    isFunction(modules.SchemaEngineWasm),
    '@prisma/migrate no longer exports SchemaEngineWasm (engine.ts constructs it with { engine, errorRegistry })',
  );
  for (const name of ['createMigration', 'writeMigrationScript', 'writeMigrationLockfile']) {
    expect(isFunction(modules.createMigration[name]), `@prisma/migrate/dist/utils/createMigration no longer exports ${name}`);
  }
  expect(isFunction(modules.listMigrations.listMigrations), '@prisma/migrate/dist/utils/listMigrations no longer exports listMigrations');
  for (const method of ['connect', 'connectToShadowDb']) {
    expect(
      isFunction((modules.PrismaPg.prototype as Record<string, unknown>)[method]),
      `@prisma/adapter-pg's PrismaPg has no ${method}() any more (adapter.ts overrides it)`,
    );
  }
  const versions = Object.entries(modules.versions).filter(([name]) => name !== '@prisma/schema-engine-wasm');
  const first = versions[0]?.[1];
  expect(
    versions.every(([, version]) => version === first),
    `the Prisma packages must share one version; installed: ${versions.map(([name, version]) => `${name}@${version}`).join(', ')}`,
  );
  expect(
    modules.versions['@prisma/schema-engine-wasm'] === modules.engineWanted,
    `@prisma/schema-engine-wasm is ${modules.versions['@prisma/schema-engine-wasm']} but @prisma/internals expects ${modules.engineWanted}`,
  );
  return problems;
}

let checked = false;

export function assertPrismaAssumptions(): void {
  if (checked) return;
  const problems = checkPrismaAssumptions();
  if (problems.length) {
    throw new Error(`A Prisma upgrade broke what src/tooling/migrate relies on:\n- ${problems.join('\n- ')}`);
  }
  checked = true;
}
