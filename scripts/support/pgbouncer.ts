/**
 * A real PgBouncer (Debian's `pgbouncer` package) in transaction-pooling mode, configured from
 * deploy/pgbouncer.ini, on a free port in front of whichever PostgreSQL it is given.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/tooling/free-port';
import { fillTemplate, findBinary, stopProcess, waitForPort } from './processes';

export interface PgBouncer {
  /** A URL for `database` through PgBouncer. */
  urlFor(database: string): string;
  stop(): Promise<void>;
}

/** The pgbouncer binary, or undefined when the package is not installed. */
export const findPgBouncer = (): string | undefined => findBinary('pgbouncer');

/** Starts PgBouncer in front of the server of `adminUrl` (same user and password). */
export async function startPgBouncer(binary: string, adminUrl: string): Promise<PgBouncer> {
  const server = new URL(adminUrl);
  const user = decodeURIComponent(server.username || 'postgres');
  const password = decodeURIComponent(server.password);
  const port = await freePort();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pgbouncer-'));
  // As root, PgBouncer must drop to another user (`-u postgres`), which then reads these files.
  await chmod(dir, 0o755);
  const quote = (value: string) => `"${value.replace(/"/g, '""')}"`;
  await writeFile(path.join(dir, 'users.txt'), `${quote(user)} ${quote(password)}\n`, { mode: 0o644 });
  const config = await fillTemplate('pgbouncer.ini', {
    DATABASE_HOST: server.hostname,
    DATABASE_PORT: server.port || '5432',
    LISTEN_ADDR: '127.0.0.1',
    LISTEN_PORT: String(port),
    // The machines here trust local connections; a deployment uses scram-sha-256 with its own auth_file.
    AUTH_TYPE: 'trust',
    AUTH_FILE: path.join(dir, 'users.txt'),
    ADMIN_USER: user,
  });
  await writeFile(path.join(dir, 'pgbouncer.ini'), config, { mode: 0o644 });
  const asRoot = process.getuid?.() === 0;
  const child = spawn(binary, [...(asRoot ? ['-u', 'postgres'] : []), path.join(dir, 'pgbouncer.ini')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitForPort('pgbouncer', port, child, () => output);
  return {
    urlFor(database) {
      const url = new URL(adminUrl);
      url.port = String(port);
      url.pathname = `/${database}`;
      return url.toString();
    },
    async stop() {
      await stopProcess(child, 'SIGINT');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
