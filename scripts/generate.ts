/**
 * `npm run generate` (also run by `postinstall`): `prisma generate`, offline.
 * The Prisma CLI insists that a native schema-engine file exists before it runs any command, and downloads
 * one when it does not (which fails offline). Generating the client never executes that engine, so when no
 * engine is configured we point the check at an existing file: this Node binary.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { commandLine } from '../src/args';

commandLine({
  usage: 'npm run generate',
  help: 'Generates the Prisma client into src/generated/prisma and the Pothos types from prisma/schema.prisma, offline (also run by postinstall).',
});

const prismaCli = path.join(path.dirname(require.resolve('prisma/package.json')), 'build', 'index.js');
const result = spawnSync(process.execPath, [prismaCli, 'generate'], {
  stdio: 'inherit',
  cwd: path.resolve(__dirname, '..'),
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  },
});
process.exit(result.status ?? 1);
