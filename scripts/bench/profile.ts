/** Where a server's CPU went, from a V8 CPU profile (`node --cpu-prof`): self time by package or source folder. */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** `node_modules/@scope/name/...` → `@scope/name`; a project file → its folder; V8 internals by name. */
function ownerOf(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const parts = url.slice(modules + 'node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  const src = url.indexOf('/src/');
  return src >= 0
    ? url
        .slice(src + 1)
        .split('/')
        .slice(0, 2)
        .join('/')
    : path.basename(url);
}

/** The newest profile in `dir`, summarised: the share of sampled time each owner spent itself. */
export async function summariseNewestProfile(dir: string, top = 15): Promise<{ file: string; rows: string[][] }> {
  // CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile: the main thread is thread 0 (a loader hook runs in a worker).
  const files = (await readdir(dir)).filter((name) => name.endsWith('.cpuprofile') && name.split('.')[4] === '0').sort();
  const file = path.join(dir, files.at(-1)!);
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const micros = profile.timeDeltas[i] ?? 0;
    total += micros;
    const owner = ownerOf(byId.get(id)!);
    self.set(owner, (self.get(owner) ?? 0) + micros);
  });
  const busy = total - (self.get('(idle)') ?? 0);
  const rows = [...self.entries()]
    .filter(([owner]) => owner !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([owner, micros]) => [owner, `${((micros / busy) * 100).toFixed(1)}%`]);
  return { file, rows };
}
