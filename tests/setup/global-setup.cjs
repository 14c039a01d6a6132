// Jest loads this file without its transform; tsx compiles the TypeScript harness it calls.
const tsx = require('tsx/cjs/api');

module.exports = async function globalSetup() {
  const { startTestPostgres } = tsx.require('./postgres.ts', __filename);
  globalThis.__testPostgres = await startTestPostgres();
};
