/**
 * The client examples run as a newcomer runs them (`npm run example:apollo`, `npm run example:urql`), against
 * a real server with the pipeline simulator: each starts a run, follows it to COMPLETED, lists runs and stars
 * a card. Twice: against a development server, which knows no manifest (the clients' ids are unknown, so they
 * fall back to sending text), and against a production server that runs only the trusted documents of the
 * examples' manifest (so every operation went by id: text would be refused). docs/live-updates.md's client snippets are
 * excerpts of these files, checked here line for line.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { startApi, startProductionServer, type ApiFixture } from './helpers/api';
import type { TestServer } from './helpers/server';
import { PROJECT_ROOT, runScript, startScript, type RunningScript } from './helpers/cli';

let api: ApiFixture;
let trusted: TestServer;
let simulator: RunningScript;

beforeAll(async () => {
  api = await startApi();
  trusted = await startProductionServer(api, 'examples/generated/persisted-documents.json');
  simulator = startScript('scripts/simulate.ts', ['--only-new', '--delay', '150', '--fail-rate', '0', '--poll', '20'], {
    DATABASE_URL: api.db.url,
  });
  await simulator.waitFor(/waiting for PENDING runs/);
});
afterAll(async () => {
  await simulator.stop();
  await trusted.close();
  await api.close();
});

it.each([
  ['apollo', 'development'],
  ['urql', 'development'],
  ['apollo', 'trusted documents only'],
  ['urql', 'trusted documents only'],
])('examples/%s.ts against a %s server: starts a run, follows it to COMPLETED, lists runs, stars a card', async (example, mode) => {
  const server = mode === 'development' ? api.server : trusted;
  const { token, userId } = await api.signIn(`user_example_${example}_${mode.split(' ')[0]}`);
  const result = await runScript(`examples/${example}.ts`, [], { API_URL: `${server.url}/graphql`, TOKEN: token });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const lines = result.stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^Started run [0-9a-f-]{36}; following it:$/);
  // What the API promises about a followed run: states in pipeline order, never an older one after a newer
  // one, never the same state twice in a row (only changes of what was selected are sent), and the final
  // COMPLETED always. Bursts may coalesce, so on a busy machine a stage can be skipped.
  const states = lines.slice(1, lines.indexOf('Finished with 5 cards'));
  const order = states.map((line) => {
    const [, status = '', stage = ''] = /^ {2}(PENDING|RUNNING|COMPLETED) \(stage (\d) of 5\)$/.exec(line) ?? [];
    return ['PENDING', 'RUNNING', 'COMPLETED'].indexOf(status) * 10 + Number(stage);
  });
  expect(order.every((rank) => rank >= 0)).toBe(true);
  expect(order.every((rank, i) => i === 0 || rank > order[i - 1]!)).toBe(true);
  expect(states.at(-1)).toBe('  COMPLETED (stage 5 of 5)');
  expect(lines).toContain('Finished with 5 cards');
  expect(lines).toContain('Your newest runs (1 in all):');
  expect(lines.at(-1)).toBe('Starred card 1 "Lactalis Canada opportunity 1": true');
  expect(await api.db.prisma.opportunityCard.count({ where: { userId, starred: true } })).toBe(1);
});

it("docs/live-updates.md's client snippets are excerpts of the examples, line for line", async () => {
  const readme = await readFile(path.join(PROJECT_ROOT, 'docs', 'live-updates.md'), 'utf8');
  const excerpts = [...readme.matchAll(/```ts\n\/\/ (examples\/\w+\.ts) \(excerpt\)\n([\s\S]*?)```/g)];
  expect(excerpts.map((match) => match[1])).toEqual(['examples/apollo.ts', 'examples/urql.ts']);
  for (const [, file, excerpt] of excerpts) {
    const source = await readFile(path.join(PROJECT_ROOT, file!), 'utf8');
    expect(source).toContain(excerpt!.trimEnd());
  }
});
