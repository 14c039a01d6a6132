/**
 * Command-line arguments of every entry point (`npm start`, `npm run dev`, the scripts), parsed strictly by
 * node:util's parseArgs: `--help` (or `-h`) prints what the command does and exits 0; an unknown flag, a
 * missing value or a stray argument prints one line, the mistake and the usage, and exits 2.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

export interface CommandLine<O extends ParseArgsOptionsConfig> {
  /** One line: how the command is called, e.g. `npm run studio [-- --port 5555 --browser none]`. */
  usage: string;
  /** What `--help` prints after the usage line: what the command does, and each option. */
  help: string;
  options?: O;
  /** Whether arguments other than options are accepted (a subcommand, a name). */
  positionals?: boolean;
}

export function commandLine<const O extends ParseArgsOptionsConfig = Record<never, never>>(
  { usage, help, options, positionals = false }: CommandLine<O>,
  args: string[] = process.argv.slice(2),
) {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`usage: ${usage}\n\n${help.trim()}\n`);
    process.exit(0);
  }
  const config = { args, options: options ?? ({} as O), allowPositionals: true, strict: true } as const;
  try {
    const parsed = parseArgs(config);
    if (!positionals && parsed.positionals.length) throw mistake(`Unexpected argument '${parsed.positionals[0]}'`);
    return parsed;
  } catch (error) {
    if (!String((error as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS')) throw error;
    // node:util's messages go on with advice about `--`; the first sentence says what was wrong.
    refuseArguments((error as Error).message.split(/\.\s/)[0]!.replace(/\.$/, ''), usage);
  }
}

/** The server's own command line: `npm start` (src/main.ts), and `npm run dev` (scripts/dev.ts) before it watches. */
export const SERVER_COMMAND_LINE = {
  usage: 'npm start | npm run dev',
  help: `Serves the API on PORT (default 4000): DATABASE_URL's database, else an embedded PostgreSQL in DATA_DIR (started,
migrated and seeded on first use). Configuration comes from the environment and .env (docs/configuration.md);
NODE_ENV=production requires DATABASE_URL and Clerk's keys, never starts an embedded database and never
migrates unless MIGRATE_ON_START is set. npm run dev restarts the server on every change under src/.
  --keep-database-on-restart   a SIGTERM leaves the embedded PostgreSQL running (npm run dev passes it:
                               tsx watch restarts with SIGTERM); Ctrl-C (SIGINT) still stops it`,
  options: { 'keep-database-on-restart': { type: 'boolean', default: false } },
} as const;

/** Arguments that parse but do not go together: one line, the mistake and the usage, and exit 2. */
export function refuseArguments(message: string, usage: string): never {
  process.stderr.write(`${message}; usage: ${usage}\n`);
  process.exit(2);
}

const mistake = (message: string) => Object.assign(new Error(message), { code: 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' });
