/**
 * Liveness (`/health`: the process answers) and readiness (`/ready`: the database answers and has applied
 * every migration folder this build ships). Readiness reads Prisma's `_prisma_migrations` table directly
 * instead of starting the schema engine on every probe.
 */
import { readdir } from 'node:fs/promises';
import type { Database } from '../db/client';
import type { EventSource, ListenerState } from '../db/events';
import { MIGRATIONS_DIR } from '../db/paths';

export interface Readiness {
  ready: boolean;
  checks: {
    database: 'ok' | 'unreachable';
    migrations: 'ok' | 'pending' | 'unknown';
    /** The LISTEN connection behind subscriptions. */
    events: ListenerState;
  };
  /** Why the server is not ready, for operators (no secrets). */
  reason?: string;
  pendingMigrations?: string[];
}

/** Migration folders shipped with this build, read once at start. */
export async function listShippedMigrations(dir = MIGRATIONS_DIR): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

export async function checkReadiness(db: Database, shipped: readonly string[], events: EventSource): Promise<Readiness> {
  const listener = events.state;
  try {
    await db.$queryRaw`SELECT 1`;
  } catch (error) {
    return {
      ready: false,
      checks: { database: 'unreachable', migrations: 'unknown', events: listener },
      reason: `database unreachable: ${error instanceof Error ? error.message.split('\n').at(-1) : String(error)}`,
    };
  }
  const applied = new Set<string>();
  try {
    const rows = await db.$queryRaw<{ migration_name: string }[]>`
      SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`;
    for (const row of rows) applied.add(row.migration_name);
  } catch {
    // No _prisma_migrations table: nothing has been applied.
  }
  const pending = shipped.filter((name) => !applied.has(name));
  if (pending.length) {
    return {
      ready: false,
      checks: { database: 'ok', migrations: 'pending', events: listener },
      reason: `${pending.length} migration(s) not applied; run npm run db:migrate`,
      pendingMigrations: pending,
    };
  }
  if (listener !== 'listening') {
    // Queries work, but live updates would silently stop: take this instance out of rotation until it is back.
    return {
      ready: false,
      checks: { database: 'ok', migrations: 'ok', events: listener },
      reason: `run event listener is ${listener}: subscriptions would miss changes`,
    };
  }
  return { ready: true, checks: { database: 'ok', migrations: 'ok', events: listener } };
}
