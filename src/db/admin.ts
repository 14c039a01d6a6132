/** A short-lived connection for one-off statements (create or drop a database, a check): opened, used, closed. */
import pg from 'pg';

export async function withClient<T>(connection: string | pg.ClientConfig, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(typeof connection === 'string' ? { connectionString: connection } : connection);
  client.on('error', () => undefined); // a dropped connection surfaces as the failing query instead
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Runs one statement on its own connection. */
export async function runStatement(connection: string | pg.ClientConfig, sql: string): Promise<void> {
  await withClient(connection, (client) => client.query(sql));
}

export interface OtherSessions {
  /** Connections to this database other than the caller's own. */
  count: number;
  /** Who holds them: application names (the server, the simulator, psql …), or client addresses. */
  holders: string[];
}

/** Who else is connected to the database `url` names, as PostgreSQL itself sees it. */
export async function otherSessions(url: string): Promise<OtherSessions> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ holder: string; count: number }>(
      `SELECT coalesce(nullif(application_name, ''), host(client_addr), 'local') AS holder, count(*)::int AS count
       FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
       GROUP BY 1 ORDER BY 2 DESC`,
    );
    return { count: rows.reduce((sum, row) => sum + row.count, 0), holders: rows.map((row) => `${row.holder} (${row.count})`) };
  });
}

/** Ends every other session on the database `url` names (their clients see the connection drop and reconnect). */
export async function endOtherSessions(url: string): Promise<number> {
  return withClient(url, async (client) => {
    const { rowCount } = await client.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
    );
    return rowCount ?? 0;
  });
}
