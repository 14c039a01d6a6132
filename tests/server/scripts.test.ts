/**
 * Every entry point a user runs takes `--help` (what it does, exit 0) and answers a flag it does not know with
 * one line, the mistake and its usage (exit 2), before touching a database.
 */
import { runScript } from '../helpers/cli';

const ENTRY_POINTS = [
  'src/main.ts',
  'scripts/migrate.ts',
  'scripts/seed.ts',
  'scripts/token.ts',
  'scripts/clerk-webhook.ts',
  'scripts/schema.ts',
  'scripts/simulate.ts',
  'scripts/demo.ts',
  'scripts/studio.ts',
  'scripts/generate.ts',
  'scripts/soak.ts',
  'scripts/bench.ts',
  'scripts/bench-live.ts',
  'examples/apollo.ts',
  'examples/urql.ts',
];

// Nowhere to connect: a command that went past its arguments would fail differently.
const ENV = { DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/nowhere', LOG_LEVEL: 'silent' };

it.each(ENTRY_POINTS)('%s --help says what it does; --bogus is one line and exit 2', async (script) => {
  const [help, bogus] = await Promise.all([runScript(script, ['--help'], ENV), runScript(script, ['--bogus'], ENV)]);
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/^usage: npm (start|run \S+)/);
  expect(help.stdout.split('\n').length).toBeGreaterThan(2);
  expect(bogus.code).toBe(2);
  expect(bogus.stdout).toBe('');
  expect(bogus.stderr.trim().split('\n')).toHaveLength(1);
  expect(bogus.stderr).toMatch(/^Unknown option '--bogus'; usage: npm /);
});
