/**
 * `npm run schema:print` writes schema.graphql from the code-first schema (sorted, so diffs are stable);
 * `npm run schema:check` fails when the committed file is stale; `npm run schema:breaking [-- --since REV]`
 * walks every commit that changed schema.graphql since REV and fails when one breaks deployed frontends
 * against the policy of scripts/support/schema-gate.ts (uncommitted changes are judged too, as if committed now
 * without a marker).
 */
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config';
import { printSchemaSDL } from '../src/schema';
import { commandLine } from '../src/args';
import { runCli } from './cli';
import { judgeSchemaChange } from './support/schema-gate';

const FILE = path.join(PROJECT_ROOT, 'schema.graphql');
/** The schema gate judges the commits after this one (the last before the gate existed). */
export const SCHEMA_GATE_SINCE = '6e67ffef6867a384848893ae840429f95d31a16d';

const USAGE = 'npm run schema:print | schema:check | schema:breaking [-- --since REV --repo DIR]';

/** The repository whose history is judged (this project, or another checkout for tests). */
let repo = PROJECT_ROOT;

function git(args: string[]): string {
  const result = spawnSync('git', args, { cwd: repo, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${result.stderr.trim()}`);
  return result.stdout;
}

/** The commits that changed schema.graphql since `since`, oldest first, with their date and message. */
function schemaCommits(since: string): Array<{ sha: string; date: Date; message: string }> {
  const log = git(['log', '--first-parent', '--reverse', '--format=%H%x00%cI%x00%B%x1e', `${since}..HEAD`, '--', 'schema.graphql']);
  return log
    .split('\x1e')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const [sha = '', date = '', message = ''] = entry.split('\x00');
      return { sha, date: new Date(date), message };
    });
}

async function checkBreaking(since: string): Promise<number> {
  if (git(['rev-parse', '--is-shallow-repository']).trim() === 'true') {
    console.error('schema:breaking: this clone is shallow, so the history to judge is missing: SKIPPED (clone with full history)');
    return 0;
  }
  const steps = schemaCommits(since).map((commit) => ({ ...commit, before: `${commit.sha}^`, after: commit.sha }));
  const working = await readFile(path.join(repo, 'schema.graphql'), 'utf8');
  const head = git(['show', 'HEAD:schema.graphql']);
  let refused = 0;
  const judge = async (label: string, before: string, after: string, date: Date, message: string) => {
    const { refused: refusals, allowed } = await judgeSchemaChange(before, after, { date, message });
    for (const line of allowed) console.log(`${label}: allowed: ${line}`);
    for (const line of refusals) console.error(`${label}: BREAKING: ${line}`);
    refused += refusals.length;
  };
  for (const step of steps) {
    await judge(
      step.sha.slice(0, 10),
      git(['show', `${step.before}:schema.graphql`]),
      git(['show', `${step.after}:schema.graphql`]),
      step.date,
      step.message,
    );
  }
  if (working !== head) await judge('uncommitted', head, working, new Date(), '');
  console.log(`schema:breaking: ${steps.length} commit(s) since ${since.slice(0, 10)} judged, ${refused} breaking change(s) refused`);
  return refused ? 1 : 0;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = commandLine(
    {
      usage: USAGE,
      help: `Each npm script runs one command of scripts/schema.ts:
  print      write schema.graphql from the code-first schema
  check      fail when the committed schema.graphql is stale
  breaking   judge every commit that changed schema.graphql since --since (default: the gate's first commit)
             in the repository --repo (default this one), and uncommitted changes; fail on a breaking change
             the policy refuses (docs/api.md: Changing the contract)`,
      positionals: true,
      options: { since: { type: 'string', default: SCHEMA_GATE_SINCE }, repo: { type: 'string', default: PROJECT_ROOT } },
    },
    argv,
  );
  const [command, ...extra] = positionals;
  if (extra.length || !['print', 'check', 'breaking'].includes(command ?? '')) {
    console.error(`usage: ${USAGE}`);
    return 2;
  }
  if (command === 'breaking') {
    repo = path.resolve(values.repo);
    return checkBreaking(values.since);
  }
  const printed = printSchemaSDL();
  if (command === 'print') {
    await writeFile(FILE, printed);
    console.log(`wrote ${path.relative(process.cwd(), FILE)}`);
    return 0;
  }
  if (command === 'check') {
    const committed = await readFile(FILE, 'utf8').catch(() => '');
    if (committed === printed) {
      console.log('schema.graphql is up to date');
      return 0;
    }
    console.error('schema.graphql is stale: run `npm run schema:print` and commit it');
    return 1;
  }
  return 0;
}

runCli(() => main(process.argv.slice(2)));
