/**
 * `npm run db:migrate | db:status | db:diff | db:new NAME | db:reset`: Prisma Migrate without the Prisma CLI's
 * native-engine download (see src/db/migrations.ts). Uses DIRECT_URL, then DATABASE_URL, else the embedded
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
} from '../src/db/migrate';
import { openDatabaseTarget } from '../src/db/target';
import { seedBaseData } from '../src/db/seed';
import { runCli } from './cli';

const USAGE = `usage: tsx scripts/migrate.ts <deploy | status | diff | new NAME | reset [--force]>
  deploy   apply pending migrations (prisma migrate deploy)
  status   show applied, pending and failed migrations, and schema changes with no migration (exit 1 if not up to date)
  diff     print the SQL that schema.prisma needs beyond prisma/migrations (exit 2 when there is any)
  new NAME [--empty]
           create prisma/migrations/<timestamp>_NAME from the schema change, or empty for hand-written SQL
           (not applied; run deploy)
  reset    development only: drop everything, re-apply all migrations, load the seed data`;

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
async function run(command: Command, rest: string[], engine: MigrationEngine, databaseUrl: string): Promise<number> {
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
      const created = await createMigration(engine, rest[0]!, { empty: rest.includes('--empty') });
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
function refusal(command: string | undefined, rest: string[], production: boolean): string | undefined {
  if (command === 'reset' && production) return 'db:reset refuses to run with NODE_ENV=production: it deletes every row.';
  if (command === 'new' && !rest[0]) return 'db:new needs a name: npm run db:new -- add_user_preferences';
  if (!['deploy', 'status', 'diff', 'new', 'reset'].includes(command ?? '')) return USAGE;
  return undefined;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const config = loadConfig();
  const refused = refusal(command, rest, config.nodeEnv === 'production');
  if (refused) {
    console.error(refused);
    return 1;
  }
  const target = await openDatabaseTarget(config);
  try {
    return await withMigrationEngine(target.directUrl, (engine) => run(command as Command, rest, engine, target.url));
  } finally {
    await target.close();
  }
}

runCli(() => main(process.argv.slice(2)));
