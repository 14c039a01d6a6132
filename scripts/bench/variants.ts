/**
 * `npm run bench -- --variants [--versus REV]`: the same API under other delivery settings, measured side by side
 * in one run against this build as it is benchmarked above (documents as text, tracing off, no Origin, as a
 * server-side client sends them): the same requests from a browser page on an allowed origin (an Origin header
 * and CORS_ORIGINS), documents sent by id to a trusted-documents server, tracing on (every request sampled,
 * exported to a local OTLP sink), and another commit's build (`--versus`, checked out beside this one on this
 * checkout's node_modules), as a server-side client and as a browser. Every
 * server runs at once and the cells alternate, forwards then backwards, so the machine's drift falls on all of
 * them alike; the table gives each variant's ratio to this build.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, symlinkSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config';
import { build, startServerProcess, table, type ServerProcess } from '../support/scratch';
import { documentIdFor, load, type Cell, type Target } from './measure';
import type { Pattern } from './patterns';

export interface Variant {
  label: string;
  env: NodeJS.ProcessEnv;
  /** The checkout whose dist/ runs (this one unless `--versus`). */
  root: string;
  byId: boolean;
  /** Headers of this variant's requests beside the shared ones (a browser's Origin). */
  headers?: Record<string, string>;
}

/** Receives OTLP/HTTP exports and counts their spans, so the report can say tracing really ran. */
export async function startOtlpSink(): Promise<{ endpoint: string; spans(): number; close(): Promise<void> }> {
  let spans = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      // Counted without parsing the whole export: one "spanId" per span, none elsewhere in OTLP JSON but links.
      spans += body.split('"spanId"').length - 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans: () => spans,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A manifest of the patterns' documents, as a frontend's build publishes it. */
export async function writeManifest(patterns: Pattern[]): Promise<{ file: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'opportunity-api-bench-manifest-'));
  const file = path.join(dir, 'persisted-documents.json');
  await writeFile(file, JSON.stringify(Object.fromEntries(patterns.map((p) => [documentIdFor(p.query), p.query]))));
  return { file, remove: () => rm(dir, { recursive: true, force: true }) };
}

const git = (args: string[], cwd = PROJECT_ROOT) => {
  const result = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
};

/** Installed versions by package path, from a package-lock.json's text. */
const lockedVersions = (lock: string) =>
  new Map(
    Object.entries((JSON.parse(lock) as { packages: Record<string, { version?: string }> }).packages).map(([k, v]) => [k, v.version]),
  );

/**
 * `rev` checked out in a temporary worktree and compiled, running on this checkout's node_modules (no second
 * install offline). Packages whose locked version differs between the two are listed: the comparison is of
 * this project's code only where that list is empty.
 */
export function prepareRevision(rev: string): { root: string; label: string; drift: string[]; remove(): void } {
  const commit = git(['rev-parse', '--short', rev]).trim();
  const root = path.join(os.tmpdir(), `opportunity-api-bench-${commit}-${process.pid}`);
  git(['worktree', 'add', '--detach', root, commit]);
  symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(root, 'node_modules'));
  const generated = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/generate.ts'], { cwd: root, encoding: 'utf8' });
  if (generated.status !== 0) throw new Error(`generating ${commit}'s clients failed:\n${generated.stdout}\n${generated.stderr}`);
  build(root);
  const theirs = lockedVersions(git(['show', `${commit}:package-lock.json`]));
  const ours = lockedVersions(readFileSync(path.join(PROJECT_ROOT, 'package-lock.json'), 'utf8'));
  const drift = [...theirs].filter(([name, version]) => name && ours.has(name) && ours.get(name) !== version).map(([name]) => name);
  return { root, label: `commit ${commit}`, drift, remove: () => git(['worktree', 'remove', '--force', root]) };
}

interface Sum {
  rps: number;
  cpu: number;
  p99: number;
  rounds: number;
}

/** Every variant × pattern × connection count, twice, in alternating order; the averages. */
export async function measureVariants(
  variants: Variant[],
  patterns: Pattern[],
  options: { env: NodeJS.ProcessEnv; headers: Record<string, string>; connections: readonly number[]; seconds: number; warmup: number },
): Promise<Map<string, Sum>> {
  const servers: ServerProcess[] = [];
  const sums = new Map<string, Sum>();
  try {
    for (const variant of variants) servers.push(await startServerProcess({ ...options.env, ...variant.env }, [], variant.root));
    const targets: Target[] = servers.map((s, i) => ({
      url: s.url,
      pid: s.pid,
      headers: { ...options.headers, ...variants[i]!.headers },
      byId: variants[i]!.byId,
    }));
    for (const round of [0, 1]) {
      const order = round ? [...variants.keys()].reverse() : [...variants.keys()];
      for (const pattern of patterns) {
        for (const connections of options.connections) {
          for (const i of order) {
            const cell: Cell = await load(targets[i]!, pattern, connections, options.seconds, options.warmup);
            if (cell.failures) throw new Error(`${variants[i]!.label}, ${pattern.name}: ${cell.failures} requests failed`);
            const key = `${i}|${pattern.name}|${connections}`;
            const sum = sums.get(key) ?? { rps: 0, cpu: 0, p99: 0, rounds: 0 };
            sums.set(key, {
              rps: sum.rps + cell.rps,
              cpu: sum.cpu + (cell.cpuPerRequest ?? NaN),
              p99: sum.p99 + cell.p99,
              rounds: sum.rounds + 1,
            });
          }
          process.stdout.write(`  ${pattern.name} at ${connections}: round ${round + 1} of 2\n`);
        }
      }
    }
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
  return sums;
}

export function renderVariants(variants: Variant[], patterns: Pattern[], connections: readonly number[], sums: Map<string, Sum>): string {
  const mean = (i: number, pattern: Pattern, c: number) => {
    const sum = sums.get(`${i}|${pattern.name}|${c}`)!;
    return { rps: sum.rps / sum.rounds, cpu: sum.cpu / sum.rounds, p99: sum.p99 / sum.rounds };
  };
  const rows = patterns.flatMap((pattern) =>
    variants.map((variant, i) => [
      pattern.name,
      variant.label,
      ...connections.flatMap((c) => [
        mean(i, pattern, c).rps.toFixed(0),
        (mean(i, pattern, c).rps / mean(0, pattern, c).rps).toFixed(2),
        mean(i, pattern, c).p99.toFixed(1),
      ]),
      mean(i, pattern, connections[0]!).cpu.toFixed(2),
    ]),
  );
  const header = [
    'Pattern',
    'Variant',
    ...connections.flatMap((c) => [`req/s c=${c}`, `vs first c=${c}`, `p99 ms c=${c}`]),
    `CPU ms/req c=${connections[0]}`,
  ];
  return table(header, rows);
}
