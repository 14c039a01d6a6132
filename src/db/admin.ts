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
