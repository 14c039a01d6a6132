/**
 * scripts/build-if-stale.mjs (`npm start`'s prestart, `npm run build`) in a scratch project of its own: a source
 * moved from src/config.ts to src/config/index.ts leaves no stale dist/src/config.js that Node would load first.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, copyFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../helpers/cli';

let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'opportunity-api-build-'));
  mkdirSync(path.join(root, 'scripts'));
  copyFileSync(path.join(PROJECT_ROOT, 'scripts', 'build-if-stale.mjs'), path.join(root, 'scripts', 'build-if-stale.mjs'));
  symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(root, 'node_modules'));
  const compilerOptions = { outDir: 'dist', rootDir: '.', module: 'commonjs', target: 'ES2022', strict: true, types: [] };
  writeFileSync(path.join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions }));
  writeFileSync(path.join(root, 'tsconfig.build.json'), JSON.stringify({ extends: './tsconfig.json', include: ['src'] }));
  mkdirSync(path.join(root, 'src'));
  writeFileSync(path.join(root, 'src', 'main.ts'), "export { where } from './config';\n");
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const build = () => spawnSync(process.execPath, ['scripts/build-if-stale.mjs'], { cwd: root, encoding: 'utf8' });
const compiledWhere = () =>
  spawnSync(process.execPath, ['-p', "require('./dist/src/main.js').where"], { cwd: root, encoding: 'utf8' }).stdout.trim();

it('a source moved into a folder: the next build leaves no output of the old file', () => {
  writeFileSync(path.join(root, 'src', 'config.ts'), "export const where = 'src/config.ts';\n");
  expect(build().status).toBe(0);
  expect(compiledWhere()).toBe('src/config.ts');

  rmSync(path.join(root, 'src', 'config.ts'));
  mkdirSync(path.join(root, 'src', 'config'));
  writeFileSync(path.join(root, 'src', 'config', 'index.ts'), "export const where = 'src/config/index.ts';\n");
  const rebuilt = build();
  expect(rebuilt.status).toBe(0);
  expect(rebuilt.stdout).toContain('the sources changed since the last build');
  expect(existsSync(path.join(root, 'dist', 'src', 'config.js'))).toBe(false);
  expect(compiledWhere()).toBe('src/config/index.ts');

  // Unchanged sources: nothing is compiled again.
  expect(build().stdout).toBe('');
});
