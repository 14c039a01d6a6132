/**
 * `npm run schema:breaking` over a real git history (a scratch repository): a commit that removes a field
 * fails the gate, the same commit marked `Schema-Breaking: <why>` passes, and an uncommitted removal fails too.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT, runScript } from '../helpers/cli';

let repo: string;
const git = (...args: string[]) => {
  const result = spawnSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args], { cwd: repo, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout.trim();
};

beforeEach(async () => {
  repo = await mkdtemp(path.join(os.tmpdir(), 'schema-gate-'));
  git('init', '-q');
  await writeFile(path.join(repo, 'schema.graphql'), await readFile(path.join(PROJECT_ROOT, 'schema.graphql'), 'utf8'));
  git('add', 'schema.graphql');
  git('commit', '-qm', 'the schema as released');
});
afterEach(() => rm(repo, { recursive: true, force: true }));

const gate = (since: string) => runScript('scripts/schema.ts', ['breaking', '--since', since, '--repo', repo], {});

async function removeDocumentName(): Promise<void> {
  const file = path.join(repo, 'schema.graphql');
  const schema = await readFile(file, 'utf8');
  const without = schema.replace(/\n\s*"""File name of the trend report"""\n\s*documentName: String!\n/, '\n');
  expect(without).not.toBe(schema);
  await writeFile(file, without);
}

it('a commit removing a field fails the gate, naming it', async () => {
  const since = git('rev-parse', 'HEAD');
  await removeDocumentName();
  git('commit', '-qam', 'Remove Run.documentName');
  const result = await gate(since);
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/BREAKING: Field 'documentName' was removed from object type 'Run'/);
});

it('the same commit marked Schema-Breaking passes', async () => {
  const since = git('rev-parse', 'HEAD');
  await removeDocumentName();
  git('commit', '-qam', 'Remove Run.documentName\n\nSchema-Breaking: the frontends stopped reading it in 2026-10');
  const result = await gate(since);
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/allowed: .*marked intentional/);
});

it('an uncommitted removal fails too', async () => {
  const since = git('rev-parse', 'HEAD');
  await removeDocumentName();
  const result = await gate(since);
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/uncommitted: BREAKING/);
});
