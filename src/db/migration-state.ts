/**
 * Which migrations this build ships and which a database has applied, read from the folder and from Prisma's
 * `_prisma_migrations` table directly: readiness asks on every probe, and a production start asks once, without
 * starting the schema engine.
 */
import { readdir } from 'node:fs/promises';
import { MIGRATIONS_DIR } from './paths';

/** Migration folders shipped with this build, in the order they apply. */
export async function listShippedMigrations(dir = MIGRATIONS_DIR): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/** Runs one SQL statement without parameters and returns its rows. */
export type Query = (sql: string) => Promise<Array<Record<string, unknown>>>;

/** The shipped migrations `query`'s database has not applied (all of them when it has no migrations table). */
export async function pendingMigrations(query: Query, shipped: readonly string[]): Promise<string[]> {
  const applied = new Set<string>();
  try {
    const rows = await query('SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL');
    for (const row of rows) applied.add(String(row.migration_name));
  } catch (error) {
    // No _prisma_migrations table: nothing has been applied. Anything else (the database unreachable) is the caller's.
    if ((error as { code?: string }).code !== '42P01' && !/_prisma_migrations/.test(String(error))) throw error;
  }
  return shipped.filter((name) => !applied.has(name));
}
