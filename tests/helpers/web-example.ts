/** examples/web as its users get it: built by Vite into a scratch folder and served by `vite preview`. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/tooling/free-port';
import { PROJECT_ROOT } from './cli';

const VITE = path.join(PROJECT_ROOT, 'node_modules', 'vite', 'bin', 'vite.js');

export interface ServedPage {
  port: number;
  close(): Promise<void>;
}

export async function serveWebExample(): Promise<ServedPage> {
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'opportunity-web-'));
  const built = spawnSync(process.execPath, [VITE, 'build', 'examples/web', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`vite build failed:\n${built.stdout}${built.stderr}`);
  const port = await freePort();
  const args = [VITE, 'preview', 'examples/web', '--outDir', outDir, '--host', '127.0.0.1', '--port', String(port), '--strictPort'];
  const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`vite preview exited:\n${output}`);
    const answered = await fetch(`http://127.0.0.1:${port}/`).then(
      (res) => res.ok,
      () => false,
    );
    if (answered) break;
    if (attempt > 300) throw new Error(`vite preview did not answer:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    port,
    async close() {
      child.kill('SIGTERM');
      await exited;
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}
