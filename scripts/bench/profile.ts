/**
 * Where a server's CPU went, from a V8 CPU profile (`node --cpu-prof`): self time by package or source folder,
 * and time per request by phase of the request path.
 */
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

/** The newest profile in `dir` (CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile; the main thread is thread 0). */
async function newestProfile(dir: string): Promise<{ file: string; profile: CpuProfile }> {
  const files = (await readdir(dir)).filter((name) => name.endsWith('.cpuprofile') && name.split('.')[4] === '0').sort();
  const file = path.join(dir, files.at(-1)!);
  return { file, profile: JSON.parse(await readFile(file, 'utf8')) as CpuProfile };
}

/** The newest profile in `dir`, summarised: the share of sampled time each owner spent itself. */
export async function summariseNewestProfile(dir: string, top = 15): Promise<{ file: string; rows: string[][] }> {
  const { file, profile } = await newestProfile(dir);
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

/**
 * The phases of a request, each recognised by the code it runs (a file or package). A sample belongs to the
 * innermost frame of its stack that some phase recognises: a sample inside Prisma called from a resolver
 * (itself wrapped by the complexity plugin) is Prisma's, one inside jose called from admission is the token
 * check's. What no phase claims is "other"; start-up (module loading, the migration check) is left out.
 */
const PHASES: ReadonlyArray<{ phase: string; matches: RegExp }> = [
  { phase: 'start-up (excluded)', matches: /node:internal\/modules\/|\/src\/db\/migrate\/|\/src\/main\.js/ },
  { phase: 'token check', matches: /\/src\/auth\/tokens\.|\/jose\// },
  { phase: 'rate-limit claim', matches: /\/src\/db\/rate-limits\./ },
  {
    phase: 'sign-in and request budget',
    matches: /\/src\/server\/admission\.|\/src\/auth\/|\/proxy-addr\/|\/ipaddr\.js\/|\/rate-limiter-flexible\//,
  },
  { phase: 'armor and cost limits', matches: /graphql-armor|plugin-complexity|\/src\/server\/limits\./ },
  {
    phase: 'parse and validate (trusted documents)',
    matches: /graphql\/language\/|graphql\/validation\/|use-parser-and-validation-cache|\/src\/server\/trusted-documents\./,
  },
  { phase: 'Prisma and pg', matches: /\/@prisma\/|\/src\/generated\/prisma\/|\/node_modules\/pg(-[a-z]+)?\/|\/src\/db\/client\./ },
  { phase: 'metrics', matches: /prom-client|prometheus|\/src\/server\/metrics\./ },
  { phase: 'tracing', matches: /@opentelemetry|\/src\/spans\.|\/src\/server\/tracing\./ },
  { phase: 'Pothos and resolvers', matches: /\/@pothos\/|\/src\/schema\/|\/src\/live\// },
  { phase: 'GraphQL execution', matches: /graphql\/execution\/|\/@graphql-tools\/executor\/|graphql\/jsutils\// },
  { phase: 'JSON', matches: /^(stringify|parse) $|result-processor\/stringify/ },
  { phase: 'socket writes', matches: /^(writev|writeUtf8String|writeBuffer|writeLatin1String) / },
  { phase: 'logging', matches: /\/pino\/|\/src\/logger\.|async_local_storage/ },
  { phase: 'envelop and yoga', matches: /@envelop\/|graphql-yoga|@whatwg-node\/|\/src\/server\/(operation|plain-http)\./ },
  {
    phase: 'node:http and sockets',
    matches: /^\S* node:(_http|net|internal\/streams|internal\/stream_base|stream|events)|\/src\/server\/(http|connections|respond)\./,
  },
  { phase: 'garbage collection', matches: /^\(garbage collector\) / },
];

/**
 * The newest profile in `dir` as time per request by phase, in µs of busy time (idle excluded), over the
 * `requests` its server answered. Sampled time, so only the main thread's JavaScript and the native code it
 * calls: the kernel's share of a socket write shows as "socket writes", the other threads' work not at all.
 */
export async function phasesOfNewestProfile(dir: string, requests: number): Promise<{ file: string; rows: string[][] }> {
  const { file, profile } = await newestProfile(dir);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const phaseOfNode = new Map<number, string>();
  const phaseOf = (id: number): string => {
    const known = phaseOfNode.get(id);
    if (known) return known;
    const stack: string[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const { functionName, url } = byId.get(at)!.callFrame;
      stack.push(`${functionName} ${url}`);
    }
    const [startUp, ...phases] = PHASES;
    const inner = stack.some((frame) => startUp!.matches.test(frame))
      ? startUp
      : stack.map((frame) => phases.find(({ matches }) => matches.test(frame))).find((found) => found !== undefined);
    const phase = inner?.phase ?? 'other';
    phaseOfNode.set(id, phase);
    return phase;
  };
  const micros = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    if (byId.get(id)!.callFrame.functionName === '(idle)') return;
    const phase = phaseOf(id);
    micros.set(phase, (micros.get(phase) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  micros.delete('start-up (excluded)');
  const busy = [...micros.values()].reduce((sum, value) => sum + value, 0);
  const rows = [...micros.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([phase, value]) => [phase, (value / requests).toFixed(1), `${((value / busy) * 100).toFixed(1)}%`]);
  rows.push(['all phases', (busy / requests).toFixed(1), '100%']);
  return { file, rows };
}
