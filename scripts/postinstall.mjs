// `postinstall`: generates the Prisma client and Pothos types (`npm run generate`) after `npm install` / `npm ci`.
// A production-only install (`npm ci --omit=dev`, what an image's runtime or a platform may do) has no
// generator: the compiled build it runs carries the generated client already, so there is nothing to do.
// Plain JavaScript: it must run before anything is compiled, and without tsx.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const installed = (name) => {
  try {
    require.resolve(`${name}/package.json`);
    return true;
  } catch {
    return false;
  }
};

if (!installed('tsx') || !installed('prisma')) {
  console.log('postinstall: dev dependencies are not installed (a production install): not generating the Prisma client');
  process.exit(0);
}
const generated = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/generate.ts'], { stdio: 'inherit' });
process.exit(generated.status ?? 1);
