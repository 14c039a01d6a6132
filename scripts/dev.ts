/**
 * `npm run dev`: the server from src/ under tsx watch, restarted on every change, with the embedded PostgreSQL
 * kept running across restarts (src/main.ts --keep-database-on-restart). The command line is checked here
 * first, as every script's is: `--help` and a mistake exit at once instead of leaving tsx watch waiting for
 * a change. Ctrl-C reaches tsx watch and the server too (one process group): this process waits for them.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { commandLine, SERVER_COMMAND_LINE } from '../src/args';
import { PROJECT_ROOT } from '../src/config';

const args = process.argv.slice(2);
commandLine(SERVER_COMMAND_LINE, args);

const tsx = path.join(path.dirname(createRequire(__filename).resolve('tsx/package.json')), 'dist', 'cli.mjs');
const watcher = spawn(process.execPath, [tsx, 'watch', '--clear-screen=false', 'src/main.ts', '--keep-database-on-restart', ...args], {
  cwd: PROJECT_ROOT,
  stdio: 'inherit',
});
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => watcher.kill('SIGTERM'));
watcher.on('close', (code) => process.exit(code ?? 1));
