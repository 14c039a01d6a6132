/**
 * `npm run db:migrate | db:status | db:diff | db:new NAME | db:reset`: Prisma Migrate without the Prisma CLI's
 * native-engine download (see src/tooling/migrate/). Uses DIRECT_URL, then DATABASE_URL, else the embedded
 * PostgreSQL in .data/.
 */
import { loadConfig } from '../src/config';
import {
  applyPendingMigrations,
  createMigration,
  readMigrationStatus,
  resetDatabase,
  withMigrationEngine,
  type MigrationEngine,
  type MigrationStatus,
} from '../src/tooling/migrate';
import { endOtherSessions, otherSessions } from '../src/db/admin';
import { openDatabaseTarget } from '../src/tooling/target';
import { seedBaseData } from '../src/tooling/seed';
import { commandLine } from '../src/args';
import { runCli } from './cli';

const USAGE = 'npm run db:migrate | db:status | db:diff | db:new -- NAME [--empty] | db:reset [-- --force]';
const HELP = `Prisma Migrate through Prisma's WebAssembly schema engine (no native download), on DIRECT_URL, then
DATABASE_URL, else the embedded PostgreSQL. Each npm script runs one command of scripts/migrate.ts:
  deploy   apply pending migrations (prisma migrate deploy)
  status   show applied, pending and failed migrations, and schema changes with no migration (exit 1 if not up to date)
  diff     print the SQL that schema.prisma needs beyond prisma/migrations (exit 2 when there is any)
  new NAME [--empty]
           create prisma/migrations/<timestamp>_NAME from the schema change, or empty for hand-written SQL
           (not applied; run deploy)
  reset [--force]
           development only: drop everything, re-apply all migrations, load the seed data; refuses while
           anything else (npm start, npm run demo, psql) is connected, unless --force ends those sessions`;

function printStatus(status: MigrationStatus): void {
  console.log(`${status.local.length} migration(s) in prisma/migrations`);
  if (!status.hasMigrationsTable) console.log('The database has no _prisma_migrations table yet (nothing applied).');
  for (const name of status.pending) console.log(`  pending:   ${name}`);
  for (const name of status.failed) console.log(`  FAILED:    ${name}`);
  for (const name of status.edited) console.log(`  edited after it was applied: ${name}`);
  for (const name of status.unknownToFolder) console.log(`  applied but not in prisma/migrations: ${name}`);
  if (status.upToDate) console.log('Database schema is up to date.');
  else if (status.pending.length) console.log('Run `npm run db:migrate` to apply pending migrations.');
  if (status.driftCheckError) console.log(`\nCould not compare schema.prisma with the migrations: ${status.driftCheckError}`);
  if (status.schemaDrift) {
    console.log('\nschema.prisma has changes that no migration captures yet (not applied):');
    console.log(status.schemaDrift);
    console.log('Create one with `npm run db:new -- <name>`.');
  }
}

type Command = 'deploy' | 'status' | 'diff' | 'new' | 'reset';

/** Runs one command with the engine; returns the exit code. */
interface Flags {
  name: string | undefined;
  empty: boolean;
  force: boolean;
}

async function run(command: Command, { name, empty }: Flags, engine: MigrationEngine, databaseUrl: string): Promise<number> {
  switch (command) {
    case 'deploy': {
      const applied = await applyPendingMigrations(engine);
      console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'No pending migrations.');
      return 0;
    }
    case 'status': {
      const status = await readMigrationStatus(engine);
      printStatus(status);
      return status.upToDate ? 0 : 1;
    }
    case 'diff': {
      const sql = await engine.diffScript('migrations', 'schema');
      console.log(sql || '-- schema.prisma and prisma/migrations agree: no migration needed.');
      return sql ? 2 : 0;
    }
    case 'new': {
      const created = await createMigration(engine, name!, { empty });
      console.log(
        created
          ? `Created prisma/migrations/${created}/migration.sql (apply it with npm run db:migrate)`
          : 'No schema changes: no migration created.',
      );
      return 0;
    }
    case 'reset': {
      await resetDatabase(engine);
      const applied = await applyPendingMigrations(engine);
      console.log(`Database reset; applied: ${applied.join(', ') || 'none'}`);
      await seedBaseData(databaseUrl);
      console.log('Seed data loaded.');
      return 0;
    }
  }
}

/** Why the command cannot run, or undefined. */
function refusal(command: string | undefined, { name }: Flags, production: boolean): string | undefined {
  if (command === 'reset' && production) return 'db:reset refuses to run with NODE_ENV=production: it deletes every row.';
  if (command === 'new' && !name) return 'db:new needs a name: npm run db:new -- add_user_preferences';
  if (!['deploy', 'status', 'diff', 'new', 'reset'].includes(command ?? '')) return `usage: ${USAGE}`;
  return undefined;
}

/**
 * Resetting under a running server or simulator would fail half-way (their queries against dropped tables)
 * and could leave migrations half-applied; the database's own session list says whether anyone is there.
 */
async function refuseResetWhileInUse(url: string, force: boolean): Promise<string | undefined> {
  const others = await otherSessions(url);
  if (!others.count) return undefined;
  if (!force) {
    return (
      `db:reset refuses: ${others.count} other connection(s) use this database: ${others.holders.join(', ')}.\n` +
      'Stop npm start / npm run demo first, or run `npm run db:reset -- --force` to end those sessions and reset anyway.'
    );
  }
  console.log(`Ending ${await endOtherSessions(url)} other session(s): ${others.holders.join(', ')}`);
  return undefined;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = commandLine(
    {
      usage: USAGE,
      help: HELP,
      positionals: true,
      options: { empty: { type: 'boolean', default: false }, force: { type: 'boolean', default: false } },
    },
    argv,
  );
  const [command, name, ...extra] = positionals;
  if (extra.length) {
    console.error(`Unexpected argument '${extra[0]}'; usage: ${USAGE}`);
    return 2;
  }
  const flags: Flags = { name, empty: values.empty, force: values.force };
  const config = loadConfig();
  const refused = refusal(command, flags, config.nodeEnv === 'production');
  if (refused) {
    console.error(refused);
    return 1;
  }
  const target = await openDatabaseTarget(config);
  try {
    if (command === 'reset') {
      const busy = await refuseResetWhileInUse(target.directUrl, flags.force);
      if (busy) {
        console.error(busy);
        return 1;
      }
    }
    return await withMigrationEngine(target.directUrl, (engine) => run(command as Command, flags, engine, target.url));
  } finally {
    await target.close();
  }
}

runCli(() => main(process.argv.slice(2)));
