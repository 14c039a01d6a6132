/** What the reference deployment's helper processes (PgBouncer, nginx) share: their config templates, ports, lifetimes. */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config';

/** A Debian package's binary (`name` in /usr/sbin, /usr/bin, /usr/local/*, or on PATH); undefined when not installed. */
export function findBinary(name: string): string | undefined {
  const found = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin']
    .map((dir) => `${dir}/${name}`)
    .find((file) => existsSync(file));
  if (found) return found;
  const which = spawnSync('which', [name], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : undefined;
}

/** deploy/<name> with its `{{KEY}}` placeholders filled; a placeholder left unfilled is an error, not a silent gap. */
export async function fillTemplate(name: string, values: Record<string, string>): Promise<string> {
  const template = await readFile(path.join(PROJECT_ROOT, 'deploy', name), 'utf8');
  const filled = template.replace(/\{\{(\w+)\}\}/g, (placeholder, key: string) => values[key] ?? placeholder);
  const missing = /\{\{(\w+)\}\}/.exec(filled);
  if (missing) throw new Error(`deploy/${name}: no value for {{${missing[1]}}}`);
  return filled;
}

/** Resolves once something accepts connections on 127.0.0.1:`port`; fails if `child` exits first. */
export async function waitForPort(name: string, port: number, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => resolve(socket.end() && true)).once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${name} did not listen on ${port}:\n${log()}`);
}

/** Stops `child` with `signal` and waits for it to exit. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}
