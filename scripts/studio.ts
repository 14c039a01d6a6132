/**
 * `npm run studio [-- --port 5555 --browser none]`: Prisma Studio on the database the server uses (DATABASE_URL / DIRECT_URL,
 * else the embedded PostgreSQL, started here if `npm start` is not running it), offline: Prisma's CLI checks
 * its telemetry host at start unless CHECKPOINT_DISABLE is set. Ctrl-C stops Studio, then the embedded
 * database if this script started it.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { commandLine } from '../src/args';
import { ConfigError, loadConfig } from '../src/config';
import { openDatabaseTarget } from '../src/tooling/target';
import { runCli } from './cli';

async function main(): Promise<number> {
  const { values } = commandLine({
    usage: 'npm run studio [-- --port 5555 --browser none]',
    help: `Prisma Studio on the database the server uses (DIRECT_URL / DATABASE_URL, else the embedded PostgreSQL,
reused when npm start or the demo runs it), offline. Prisma Studio's own flags pass through:
  --port N          the page's port (default 5555)
  --browser NAME    open the page in this browser; none (the default) opens nothing
Prisma Studio 7 serves on localhost only (it has no --hostname).`,
    options: {
      port: { type: 'string', default: '5555' },
      browser: { type: 'string', default: 'none' },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ConfigError(`--port must be a TCP port (got "${values.port}")`);
  const target = await openDatabaseTarget(loadConfig());
  try {
    const prismaCli = path.join(path.dirname(require.resolve('prisma/package.json')), 'build', 'index.js');
    const studio = spawn(
      process.execPath,
      [prismaCli, 'studio', '--url', target.directUrl, '--port', String(port), '--browser', values.browser],
      {
        stdio: 'inherit',
        env: { ...process.env, CHECKPOINT_DISABLE: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1' },
      },
    );
    // Ctrl-C reaches Studio too (same process group); this script only waits for it to go. Stopped on
    // request is a normal end, whatever code Studio exits with (130 after SIGINT).
    let stopped = false;
    const stop = () => {
      stopped = true;
      studio.kill('SIGINT');
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const code = await new Promise<number | null>((resolve) => studio.on('close', resolve));
    return stopped ? 0 : (code ?? 1);
  } finally {
    await target.close();
  }
}

runCli(main);
