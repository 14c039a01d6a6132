/**
 * Liveness (`/health`: the process answers) and readiness (`/ready`: the database answers and has applied
 * every migration folder this build ships, src/db/migration-state.ts).
 */
import type { Database } from '../db/client';
import type { EventSource, ListenerState } from '../db/events';
import { pendingMigrations } from '../db/migration-state';

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
  const pending = await pendingMigrations((sql) => db.$queryRawUnsafe<Array<Record<string, unknown>>>(sql), shipped).catch(() => [
    ...shipped,
  ]);
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
