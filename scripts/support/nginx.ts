/** nginx (Debian's package) as the load balancer of the reference deployment, configured from deploy/nginx.conf. */
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/tooling/free-port';
import { fillTemplate, findBinary, stopProcess, waitForPort } from './processes';

export interface Nginx {
  url: string;
  /** nginx's error log so far. */
  errors(): Promise<string>;
  stop(): Promise<void>;
}

/** The nginx binary, or undefined when the package is not installed. */
export const findNginx = (): string | undefined => findBinary('nginx');

/** Starts nginx on a free port balancing over the instances listening on `upstreamPorts` (127.0.0.1). */
export async function startNginx(binary: string, upstreamPorts: readonly number[]): Promise<Nginx> {
  const port = await freePort();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nginx-'));
  // As root, nginx's workers run as nobody, and write their temporary files here.
  await chmod(dir, 0o777);
  for (const sub of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(path.join(dir, sub), { mode: 0o777 });
  const file = path.join(dir, 'nginx.conf');
  await writeFile(
    file,
    await fillTemplate('nginx.conf', {
      DIR: dir,
      LISTEN: `127.0.0.1:${port}`,
      UPSTREAMS: upstreamPorts.map((upstream) => `    server 127.0.0.1:${upstream} max_fails=0;`).join('\n'),
    }),
  );
  const child = spawn(binary, ['-c', file, '-p', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitForPort('nginx', port, child, () => output);
  return {
    url: `http://127.0.0.1:${port}`,
    errors: () => readFile(path.join(dir, 'error.log'), 'utf8').catch(() => ''),
    async stop() {
      // SIGQUIT: a graceful stop (open requests finish); SIGTERM would be nginx's fast one.
      await stopProcess(child, 'SIGQUIT');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
