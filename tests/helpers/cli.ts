/** Runs the project's own scripts as a user would (`npm run db:*` runs exactly these). */
import { spawn } from 'node:child_process';
import path from 'node:path';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runScript(script: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'info', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface RunningScript {
  output(): string;
  /** Resolves once the output matches `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Sends `signal` (SIGTERM) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** A long-running script (the simulator, the demo) started in the background, as a terminal would. */
export function startScript(script: string, args: string[], env: NodeJS.ProcessEnv): RunningScript {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'info', ...env },
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return {
    output: () => output,
    async waitFor(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output)) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${script}: no ${pattern} in its output:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface RunningServer {
  url: string;
  output(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Ctrl-C in a terminal: SIGINT to the server's whole process group. Resolves with the exit code. */
  interrupt(): Promise<number | null>;
}

/**
 * Starts `src/main.ts` (what `npm start` runs), or with `compiled` the build's `dist/src/main.js` (what
 * production runs), and waits until it listens.
 */
export function startMain(
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
  { compiled = false, openFileLimit }: { compiled?: boolean; openFileLimit?: number } = {},
): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const command = [process.execPath, ...(compiled ? ['dist/src/main.js'] : ['--import', 'tsx', 'src/main.ts'])];
    // With a file limit: through the shell's ulimit, as an operator's unit file or container would set it.
    const [file, ...args] = openFileLimit ? ['bash', '-c', `ulimit -n ${openFileLimit} && exec "$@"`, 'bash', ...command] : command;
    const child = spawn(file!, args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: '0', ...env },
      // A process group of its own, as a shell gives a foreground command: what Ctrl-C signals.
      detached: true,
    });
    let output = '';
    const exited = new Promise<number | null>((done) => child.on('close', done));
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"url":"http:\/\/localhost:(\d+)"/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({
          url: `http://127.0.0.1:${match[1]}`,
          output: () => output,
          stop: () => {
            child.kill('SIGTERM');
            return exited;
          },
          interrupt: () => {
            process.kill(-child.pid!, 'SIGINT');
            return exited;
          },
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start in ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output}`));
    });
  });
}

/** The JSON log entries (one per line) of a process's output. */
export function logEntries(output: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The log entry with this message, if any. */
export const logEntry = (output: string, msg: string) => logEntries(output).find((entry) => entry.msg === msg);
