/**
 * Row-level security for the benchmark's second peer (PostGraphile with JWT, scripts/bench/postgraphile-server.ts),
 * installed on the benchmark's scratch database only: a role that owns nothing (so the policies apply to it),
 * allowed to read the tables the patterns read, each restricted to the rows of the user whose Clerk id the
 * request's verified token carries (`jwt.claims.sub`, set by PostGraphile per request). `remove()` takes it all
 * away again, leaving the database as the API and the baseline read it (they connect as the tables' owner, which
 * policies do not restrict; their answers are compared equal after the install all the same).
 */
import { withClient } from '../../src/db/admin';

export interface RowLevelSecurity {
  /** The role PostGraphile's `pgSettings` switches to. */
  role: string;
  remove(): Promise<void>;
}

/** The tables the patterns read, with who owns a row: its own userId, its run's, or the user itself. */
const OWNED_ROWS: Array<{ table: string; using: string }> = [
  { table: 'User', using: `id = (SELECT bench_rls_user_id())` },
  { table: 'Run', using: `"userId" = (SELECT bench_rls_user_id())` },
  { table: 'OpportunityCard', using: `"userId" = (SELECT bench_rls_user_id())` },
  {
    table: 'InspirationReport',
    using: `EXISTS (SELECT 1 FROM "Run" r WHERE r.id = "runId" AND r."userId" = (SELECT bench_rls_user_id()))`,
  },
  { table: 'StageOutput', using: `EXISTS (SELECT 1 FROM "Run" r WHERE r.id = "runId" AND r."userId" = (SELECT bench_rls_user_id()))` },
];

/** Installs the role, its grants and the policies on `url`'s database (roles are the server's: named after the database). */
export async function installRowLevelSecurity(url: string): Promise<RowLevelSecurity> {
  return withClient(url, async (client) => {
    const database = (await client.query<{ name: string }>('SELECT current_database() AS name')).rows[0]!.name;
    const role = `${database}_reader`.slice(0, 63);
    await client.query(`DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN CREATE ROLE "${role}" NOLOGIN; END IF;
      END $$`);
    await client.query(`GRANT "${role}" TO CURRENT_USER`);
    await client.query(`GRANT USAGE ON SCHEMA public TO "${role}"`);
    // The user's id from the token's Clerk id, read as the function's owner (User's own policy calls it), and
    // called as an InitPlan (`(SELECT ...)`): once per statement, not once per row.
    await client.query(`CREATE OR REPLACE FUNCTION bench_rls_user_id() RETURNS text LANGUAGE sql STABLE SECURITY DEFINER
      SET search_path = public AS $$ SELECT id FROM "User" WHERE "clerkId" = current_setting('jwt.claims.sub', true) $$`);
    await client.query(`GRANT EXECUTE ON FUNCTION bench_rls_user_id() TO "${role}"`);
    for (const { table, using } of OWNED_ROWS) {
      await client.query(`GRANT SELECT ON "${table}" TO "${role}"`);
      await client.query(`ALTER TABLE "${table}" ENABLE ROW LEVEL SECURITY`);
      await client.query(`DROP POLICY IF EXISTS bench_own_rows ON "${table}"`);
      await client.query(`CREATE POLICY bench_own_rows ON "${table}" FOR SELECT TO "${role}" USING (${using})`);
    }
    return {
      role,
      remove: () =>
        withClient(url, async (admin) => {
          for (const { table } of OWNED_ROWS) {
            await admin.query(`DROP POLICY IF EXISTS bench_own_rows ON "${table}"`);
            await admin.query(`ALTER TABLE "${table}" DISABLE ROW LEVEL SECURITY`);
          }
          await admin.query('DROP FUNCTION IF EXISTS bench_rls_user_id()');
          await admin.query(`DROP OWNED BY "${role}"`);
          await admin.query(`DROP ROLE IF EXISTS "${role}"`);
        }),
    };
  });
}
