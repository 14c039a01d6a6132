// Jest loads this file without its transform; tsx compiles the TypeScript harness it calls.
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const tsx = require('tsx/cjs/api');

module.exports = async function globalSetup() {
  // The tests that run the compiled server (production build, cluster) share one build, made here before any
  // of them starts: compiling while another test's server loads dist/ could hand it a half-written file.
  const built = spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'scripts', 'build-if-stale.mjs')], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`the build failed:\n${built.stdout}\n${built.stderr}`);
  const { startTestPostgres } = tsx.require('./postgres.ts', __filename);
  globalThis.__testPostgres = await startTestPostgres();
};
