/**
 * What `npm run soak` sends next to its signed-in load when it tests the server's defences: from their own
 * loopback addresses (127.0.0.2 and up; the signed-in clients use 127.0.0.1), anonymous senders flooding
 * /graphql with a 21 KB document that is costly to validate (no token, or a forged one), and slow clients that
 * open connections and trickle their headers or bodies one byte at a time, opening new ones whenever the
 * server cuts them. Each counts what it got back. It runs in a process of its own (`spawnAttack`), so the
 * signed-in clients' latency is not the attackers' event loop.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { generateKeyPair } from 'jose';
import { signSessionToken } from '../../src/auth/dev-keys';

/**
 * `query Q<n> { ...F ×10 } fragment F on Query { __typename ×1900 }`: under the token limit, quadratic to
 * validate, and a new text each time (the operation's name), so no parse or validation cache helps.
 */
export const costlyDocument = (n: number) => `query Q${n} { ${'...F '.repeat(10)}} fragment F on Query { ${'__typename '.repeat(1_900)}}`;

export interface AttackOptions {
  url: string;
  /** Anonymous senders, each from its own address. */
  floods: number;
  /** Slow connections held open at once, spread over `slowAddresses` addresses. */
  slowConnections: number;
  slowAddresses: number;
}

export interface AttackReport {
  /** Answers the floods got, by status ("401", "429", "error: …"). */
  flood: Map<string, number>;
  /** Slow connections opened, and how they ended: cut by the server, refused at once, or still open when the attack stopped. */
  slow: { opened: number; cutByServer: number; refused: number; openAtEnd: number };
  stop(): Promise<void>;
}

const count = (into: Map<string, number>, key: string) => into.set(key, (into.get(key) ?? 0) + 1);

/** A forged session token: well formed, signed by a key the server does not trust, under a random kid. */
async function forgedToken(): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256');
  return signSessionToken(privateKey, randomUUID(), { sub: 'user_attacker', issuer: 'https://clerk.attacker.invalid' });
}

function floodFrom(url: string, localAddress: string, token: string | undefined, report: Map<string, number>, running: () => boolean) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1, localAddress });
  let sent = 0;
  const headers = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const once = () =>
    new Promise<void>((resolve) => {
      const req = http.request(`${url}/graphql`, { method: 'POST', agent, headers }, (res) => {
        res.resume();
        res.on('end', () => {
          count(report, String(res.statusCode));
          resolve();
        });
      });
      req.on('error', (error) => {
        count(report, `error: ${(error as NodeJS.ErrnoException).code ?? error.message}`);
        resolve();
      });
      req.end(JSON.stringify({ query: costlyDocument(++sent) }));
    });
  return (async () => {
    while (running()) await once();
    agent.destroy();
  })();
}

/** Keeps one trickling connection open from `localAddress`, reopening it whenever it ends. */
function slowFrom(url: string, localAddress: string, index: number, report: AttackReport['slow'], running: () => boolean) {
  const { port } = new URL(url);
  const open = (): Promise<void> =>
    new Promise((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port: Number(port), localAddress });
      let sent = 0;
      let answered = false;
      report.opened += 1;
      // Alternately a body declared as 90 KB, trickled after its headers, and headers trickled without end.
      const [sentAtOnce, trickled] =
        index % 2
          ? [
              `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 90000\r\n\r\n`,
              `{"query":"${'x'.repeat(89_000)}`,
            ]
          : ['', `POST /graphql HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(50_000)}`];
      if (sentAtOnce) socket.write(sentAtOnce);
      const timer = setInterval(() => {
        if (sent < trickled.length && !socket.destroyed) socket.write(trickled[sent++]!);
      }, 1_000);
      socket.on('data', () => (answered = true));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearInterval(timer);
        if (!running()) report.openAtEnd += 1;
        else if (sent === 0 && !answered) report.refused += 1;
        else report.cutByServer += 1;
        resolve();
      });
      const stopped = setInterval(() => {
        if (running()) return;
        clearInterval(stopped);
        socket.destroy();
      }, 200);
      socket.once('close', () => clearInterval(stopped));
    });
  return (async () => {
    while (running()) {
      await open();
      if (running()) await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
}

export async function startAttack({ url, floods, slowConnections, slowAddresses }: AttackOptions): Promise<AttackReport> {
  let active = true;
  const running = () => active;
  const flood = new Map<string, number>();
  const slow = { opened: 0, cutByServer: 0, refused: 0, openAtEnd: 0 };
  const forged = await forgedToken();
  const senders = [
    // Half send no token at all, half a forged one.
    ...Array.from({ length: floods }, (_, i) => floodFrom(url, `127.0.0.${2 + i}`, i % 2 ? forged : undefined, flood, running)),
    ...Array.from({ length: slowConnections }, (_, i) => slowFrom(url, `127.0.1.${1 + (i % slowAddresses)}`, i, slow, running)),
  ];
  return {
    flood,
    slow,
    async stop() {
      active = false;
      await Promise.all(senders);
    },
  };
}

/** What an attack got back, as the attacking process reports it when it stops. */
export interface AttackOutcome {
  flood: Array<[string, number]>;
  slow: AttackReport['slow'];
}

/** The attack in a child process; `stop()` ends it and resolves with what it got back. */
export function spawnAttack(options: AttackOptions): { stop(): Promise<AttackOutcome> } {
  const child = spawn(process.execPath, ['--import', 'tsx', __filename, JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    async stop() {
      child.stdin.end(); // the child stops when its stdin closes
      await exited;
      return JSON.parse(output) as AttackOutcome;
    },
  };
}

// Run as the attacking process: attack until stdin closes, then print what came back.
if (require.main === module) {
  void (async () => {
    const attack = await startAttack(JSON.parse(process.argv[2]!) as AttackOptions);
    process.stdin.resume();
    await new Promise((resolve) => process.stdin.once('end', resolve));
    await attack.stop();
    process.stdout.write(JSON.stringify({ flood: [...attack.flood.entries()], slow: attack.slow } satisfies AttackOutcome));
    process.exit(0);
  })();
}
