/**
 * The project's Dockerfile, performed without a container engine (none runs on these machines): each stage is a
 * folder, `WORKDIR /app` is that folder, `COPY` copies from the build context (minus .dockerignore) or from an
 * earlier stage, `RUN` runs in it with sh, `ENV`, `USER`, `HEALTHCHECK` and `CMD` are kept for the caller to run
 * the image with. Only the instructions this Dockerfile uses are understood; anything else fails loudly, so a
 * change to the Dockerfile cannot silently go untested.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface Stage {
  name: string;
  dir: string;
  env: Record<string, string>;
  user: string | undefined;
  cmd: string[] | undefined;
  healthcheck: string[] | undefined;
}

interface Instruction {
  keyword: string;
  args: string;
}

function instructions(dockerfile: string): Instruction[] {
  const logical = dockerfile.replace(/\\\n/g, ' ').split('\n');
  return logical
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [keyword = ''] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: line.slice(keyword.length).trim() };
    });
}

/** `.dockerignore` as a predicate over paths relative to the context (plain names, paths and `*.ext`). */
function ignoredBy(context: string): (relative: string) => boolean {
  const file = path.join(context, '.dockerignore');
  const patterns = existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean)
    : [];
  return (relative) =>
    patterns.some((pattern) =>
      pattern.startsWith('*.') ? relative.endsWith(pattern.slice(1)) : relative === pattern || relative.startsWith(`${pattern}/`),
    );
}

const exec = (json: string): string[] => JSON.parse(json) as string[];

/**
 * Performs every stage in order under `root`, running `RUN` lines with `env`. Returns the stages by name; the
 * last one is the image.
 */
export function performDockerfile(context: string, root: string, env: NodeJS.ProcessEnv): Map<string, Stage> {
  const ignored = ignoredBy(context);
  const stages = new Map<string, Stage>();
  let stage: Stage | undefined;
  const inStage = (target: string) => path.join(stage!.dir, path.relative('/app', path.resolve('/app', target)));
  for (const { keyword, args } of instructions(readFileSync(path.join(context, 'Dockerfile'), 'utf8'))) {
    switch (keyword) {
      case 'FROM': {
        const name = /\sAS\s+(\S+)$/i.exec(args)?.[1] ?? `stage${stages.size}`;
        stage = { name, dir: path.join(root, name), env: {}, user: undefined, cmd: undefined, healthcheck: undefined };
        mkdirSync(stage.dir, { recursive: true });
        stages.set(name, stage);
        break;
      }
      case 'WORKDIR':
        if (args !== '/app') throw new Error(`WORKDIR ${args}: only /app is understood`);
        break;
      case 'COPY': {
        const words = args.split(/\s+/);
        const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
        const [dest = '', ...sources] = words.filter((word) => !word.startsWith('--')).reverse();
        for (const source of sources.reverse()) {
          const origin = from ? path.join(stages.get(from)!.dir, path.relative('/app', source)) : path.join(context, source);
          const target = dest.endsWith('/') ? path.join(inStage(dest), path.basename(source)) : inStage(dest);
          cpSync(origin, target, {
            recursive: true,
            filter: (file) => from !== undefined || !ignored(path.relative(context, file)),
          });
        }
        break;
      }
      case 'RUN': {
        const run = spawnSync('sh', ['-c', args], { cwd: stage!.dir, env: { ...env, ...stage!.env }, encoding: 'utf8' });
        if (run.status !== 0) throw new Error(`RUN ${args} failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
        break;
      }
      case 'ENV':
        for (const [, name = '', value = ''] of args.matchAll(/(\w+)=(\S+)/g)) stage!.env[name] = value;
        break;
      case 'USER':
        stage!.user = args;
        break;
      case 'EXPOSE':
        break;
      case 'HEALTHCHECK':
        stage!.healthcheck = exec(args.slice(args.indexOf('CMD') + 3).trim());
        break;
      case 'CMD':
        stage!.cmd = exec(args);
        break;
      default:
        throw new Error(`Dockerfile instruction ${keyword} is not understood by tests/helpers/dockerfile.ts`);
    }
  }
  return stages;
}

/** Bytes under `dir`. */
export function sizeOf(dir: string): number {
  const du = spawnSync('du', ['-sb', dir], { encoding: 'utf8' });
  return Number(du.stdout.split(/\s/)[0]) || (statSync(dir).isDirectory() ? 0 : statSync(dir).size);
}
