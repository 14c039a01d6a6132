/**
 * The driver adapter the schema engine runs on: @prisma/adapter-pg, with the fixes migrations need from its
 * 7.10 release (each explained where it is made). Used only by the migration engine (src/tooling/migrate/); the application's own
 * client uses the adapter as it is.
 */
import { randomUUID } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { parseIntoClientConfig } from 'pg-connection-string';
import { runStatement } from '../../db/admin';
import { parsePoolSettings } from '../../db/url';

/**
 * pg clients for the engine only. Its schema introspection reads catalog columns of PostgreSQL's internal
 * `"char"` type (OID 18), which @prisma/adapter-pg 7.10 has no mapping for; their text form is a one-letter
 * string, so they are reported as text.
 */
class CatalogReadingClient extends pg.Client {
  override query(...args: unknown[]): never {
    const asText = (result: pg.QueryResult | undefined) => {
      for (const field of result?.fields ?? []) if (field.dataTypeID === PG_INTERNAL_CHAR_OID) field.dataTypeID = PG_TEXT_OID;
      return result;
    };
    // pg-pool calls query(config, values, callback); direct callers get a promise.
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === 'function') {
      const done = callback as (error: Error | null, result?: pg.QueryResult) => void;
      args[last] = (error: Error | null, result?: pg.QueryResult) => done(error, asText(result));
    }
    const query = super.query.bind(this) as (...a: unknown[]) => unknown;
    const pending = query(...args);
    return (pending instanceof Promise ? pending.then(asText) : pending) as never;
  }
}
const PG_INTERNAL_CHAR_OID = 18;
const PG_TEXT_OID = 25;

/**
 * Discrete connection settings rather than a connection string: the adapter opens its temporary shadow
 * database as `{ ...config, database }`, and a `connectionString` would silently override that `database`
 * and point the shadow work at the real database.
 */
export function migrationPoolConfig(databaseUrl: string): pg.PoolConfig {
  const { connectionString } = parsePoolSettings(databaseUrl);
  return { ...parseIntoClientConfig(connectionString), max: 2, Client: CatalogReadingClient };
}

type PgAdapter = Awaited<ReturnType<PrismaPg['connect']>>;

/**
 * @prisma/adapter-pg 7.10 runs a migration script by splitting it on every ";", which breaks any function,
 * trigger or string literal containing one. PostgreSQL takes the whole script in one simple-protocol query
 * (as the native engine sends it), which also makes a failing migration roll back as a unit.
 */
function wholeScripts(adapter: PgAdapter): PgAdapter {
  const internals = adapter as unknown as { onError?: (error: unknown) => never; executeScript?: unknown; underlyingDriver?: unknown };
  if (
    typeof internals.onError !== 'function' ||
    typeof internals.executeScript !== 'function' ||
    typeof internals.underlyingDriver !== 'function'
  ) {
    throw new Error(
      "A Prisma upgrade broke src/tooling/migrate/adapter.ts: @prisma/adapter-pg's adapter no longer has onError(), executeScript() and underlyingDriver()",
    );
  }
  const raiseAsAdapterError = internals.onError.bind(adapter);
  adapter.executeScript = async (script: string) => {
    try {
      await adapter.underlyingDriver().query(script);
    } catch (error) {
      raiseAsAdapterError(error);
    }
  };
  return adapter;
}

/**
 * The engine replays migrations in a temporary "shadow" database to compute diffs. @prisma/adapter-pg 7.10
 * drops that database while its own pool is still connected, which fails and leaves it behind; this one
 * closes the pool first, then drops it.
 */
export class MigrationAdapterFactory extends PrismaPg {
  /** Connections the engine opened; it does not close them when it stops, so `closeAll()` does. */
  private readonly open = new Set<{ dispose(): Promise<void> }>();

  constructor(private readonly settings: pg.PoolConfig) {
    super(settings);
  }

  override async connect() {
    const adapter = wholeScripts(await super.connect());
    const dispose = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      if (this.open.delete(adapter)) await dispose();
    };
    this.open.add(adapter);
    return adapter;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open].map((adapter) => adapter.dispose()));
  }

  override async connectToShadowDb() {
    const database = `prisma_migrate_shadow_db_${randomUUID()}`;
    await runStatement(this.settings, `CREATE DATABASE "${database}"`);
    const adapter = wholeScripts(await new PrismaPg({ ...this.settings, database }).connect());
    const closePool = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      await closePool();
      await runStatement(this.settings, `DROP DATABASE IF EXISTS "${database}"`);
    };
    return adapter;
  }
}
