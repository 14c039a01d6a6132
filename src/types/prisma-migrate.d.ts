// @prisma/migrate 7.10.0's package.json points "types" at a path it does not ship (dist/migrate/src);
// its declarations live under dist/src. These ambient modules point TypeScript at them.
declare module '@prisma/migrate' {
  export * from '@prisma/migrate/dist/src/index';
}
declare module '@prisma/migrate/dist/utils/listMigrations' {
  export * from '@prisma/migrate/dist/src/utils/listMigrations';
}
declare module '@prisma/migrate/dist/utils/createMigration' {
  export * from '@prisma/migrate/dist/src/utils/createMigration';
}
