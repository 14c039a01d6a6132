/**
 * `npm run schema:print` writes schema.graphql from the code-first schema (sorted, so diffs are stable);
 * `npm run schema:check` fails when the committed file is stale.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config';
import { printSchemaSDL } from '../src/schema';
import { runCli } from './cli';

const FILE = path.join(PROJECT_ROOT, 'schema.graphql');

async function main(command: string | undefined): Promise<number> {
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
  console.error('usage: tsx scripts/schema.ts <print | check>');
  return 1;
}

runCli(() => main(process.argv[2]));
