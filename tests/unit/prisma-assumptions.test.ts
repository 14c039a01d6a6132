/** What src/tooling/migrate relies on in Prisma's packages: all there today, and a missing piece is named. */
import { checkPrismaAssumptions, installedPrismaModules } from '../../src/tooling/migrate/assumptions';

it('the installed Prisma packages provide everything src/tooling/migrate relies on', () => {
  expect(checkPrismaAssumptions()).toEqual([]);
});

it('names what an upgrade took away or changed', () => {
  const installed = installedPrismaModules();
  const { applyMigrations: _gone, ...migrateWithoutApply } = Object.getOwnPropertyDescriptors(installed.Migrate.prototype);
  const altered = {
    ...installed,
    wasmFile: '/nowhere/schema_engine_bg.wasm',
    wasmRuntime: { ...installed.wasmRuntime, __wbg_set_wasm: undefined },
    Migrate: { prototype: Object.create(Object.prototype, migrateWithoutApply) as object },
    createMigration: { ...installed.createMigration, writeMigrationScript: undefined },
    versions: { ...installed.versions, '@prisma/client': '7.11.0' },
  };
  const problems = checkPrismaAssumptions(altered);
  expect(problems).toEqual([
    expect.stringContaining('no longer ships schema_engine_bg.wasm'),
    expect.stringContaining('no longer exports __wbg_set_wasm'),
    "@prisma/migrate's Migrate has no applyMigrations() any more",
    '@prisma/migrate/dist/utils/createMigration no longer exports writeMigrationScript',
    expect.stringMatching(/must share one version; installed: .*@prisma\/client@7\.11\.0/),
  ]);
});
