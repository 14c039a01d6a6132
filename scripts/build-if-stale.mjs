// `prestart`: compiles the project (`npm run build`, into dist/) when dist/ is missing or was built from other
// sources, so that `npm start` always runs compiled JavaScript of the sources at hand. Plain JavaScript on
// purpose: it must run where only Node is (a platform's `npm start`), before anything is compiled.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const USAGE = 'npm run build (compiles always) | npm start (runs this first: compiles when needed)';
if (args.includes('--help') || args.includes('-h')) {
  console.log(
    `usage: ${USAGE}\n\nCompiles the project into dist/ (tsconfig.build.json), with --always or when dist/ is missing or was built\nfrom other sources (their SHA-256 is kept in dist/.sources-sha256).`,
  );
  process.exit(0);
}
const always = args.includes('--always');
const unknown = args.find((arg) => arg !== '--always');
if (unknown) {
  console.error(`Unknown option '${unknown}'; usage: ${USAGE}`);
  process.exit(2);
}

/** What tsconfig.build.json compiles, and the compiler settings. */
const SOURCES = ['src', 'scripts', 'prisma/seed.ts', 'tsconfig.json', 'tsconfig.build.json'];
const STAMP = path.join(root, 'dist', '.sources-sha256');

function files(relative) {
  const absolute = path.join(root, relative);
  if (!existsSync(absolute)) return [];
  if (!statSync(absolute).isDirectory()) return [relative];
  return readdirSync(absolute, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .sort();
}

const hash = createHash('sha256');
for (const file of SOURCES.flatMap(files))
  hash
    .update(file)
    .update('\0')
    .update(readFileSync(path.join(root, file)))
    .update('\0');
const fingerprint = hash.digest('hex');

const upToDate = existsSync(path.join(root, 'dist', 'src', 'main.js')) && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === fingerprint;
if (upToDate && !always) process.exit(0);

const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (!existsSync(tsc)) {
  console.error('dist/ is missing or stale and TypeScript is not installed here: run `npm run build` where the dev dependencies are.');
  process.exit(1);
}
if (!always) console.log('compiling into dist/: the sources changed since the last build');
// From an empty dist/: the output of a source since removed or moved would otherwise stay, and Node resolves
// `./config` to a stale dist/src/config.js before the new dist/src/config/index.js.
rmSync(path.join(root, 'dist'), { recursive: true, force: true });
const built = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);
writeFileSync(STAMP, fingerprint);
