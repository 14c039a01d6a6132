/**
 * The deployment the design describes for serverless frontends: DATABASE_URL through PgBouncer in
 * transaction-pooling mode (`?pgbouncer=true&connection_limit=…`), DIRECT_URL straight to PostgreSQL for
 * migrations and LISTEN. A real PgBouncer (Debian's package) is started in front of the test server; on a
 * machine without it these tests are reported as skipped, with the reason printed.
 */
import pg from 'pg';
import {
  CreateRunDocument,
  DeleteRunDocument,
  MeDocument,
  RetryRunDocument,
  RunDetailDocument,
  RunProgressDocument,
  RunsDocument,
  SetCardStarredDocument,
} from '../graphql/generated/graphql';
import { startMain } from '../helpers/cli';
import { createEmptyDatabase, createTestDatabase, type TestDatabase } from '../helpers/database';
import { createCompletedRun, createRun } from '../helpers/fixtures';
import { codesOf, dataOf, execute } from '../helpers/graphql';
import { findPgBouncer, startPgBouncer, type PgBouncer } from '../../scripts/support/pgbouncer';
import { startTestServer, type TestServer } from '../helpers/server';
import { subscribeWs, wsClient } from '../helpers/subscriptions';
import { createSigner, type TestSigner } from '../helpers/tokens';

const binary = findPgBouncer();
if (!binary) {
  process.stdout.write('\nPgBouncer is not installed (apt-get install pgbouncer): the PgBouncer tests are SKIPPED\n');
}
const withPgBouncer = binary ? describe : describe.skip;

withPgBouncer('DATABASE_URL through PgBouncer (transaction pooling), DIRECT_URL direct', () => {
  let bouncer: PgBouncer;
  let db: TestDatabase;
  let signer: TestSigner;
  let server: TestServer;

  /** Transactions PgBouncer has pooled into this database so far (its admin console). */
  async function pooledTransactions(): Promise<number> {
    const admin = new pg.Client({ connectionString: bouncer.urlFor('pgbouncer') });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ database: string; total_xact_count: string }>('SHOW STATS');
      return Number(rows.find((row) => row.database === db.name)?.total_xact_count ?? 0);
    } finally {
      await admin.end();
    }
  }

  beforeAll(async () => {
    bouncer = await startPgBouncer(binary!, process.env.TEST_ADMIN_URL!);
    db = await createTestDatabase();
    signer = await createSigner();
    server = await startTestServer(db.url, {
      CLERK_JWT_KEY: signer.publicKeyPem,
      DATABASE_URL: `${bouncer.urlFor(db.name)}?pgbouncer=true&connection_limit=5`,
      DIRECT_URL: db.url,
      RATE_LIMIT_CREATE_RUN_PER_MINUTE: '3',
    });
  });
  afterAll(async () => {
    await server?.close();
    await db?.drop();
    await bouncer?.stop();
  });

  it('serves queries and every mutation, concurrently, with the pool behind PgBouncer', async () => {
    const before = await pooledTransactions();
    const token = await signer.sign({ sub: 'user_bouncer', expiresIn: 3600 });
    // Concurrent first requests of a new user: exactly one row.
    const firsts = await Promise.all(Array.from({ length: 8 }, () => execute(server.url, MeDocument, {}, { token })));
    const userId = dataOf(firsts[0]!).me.id;
    expect(new Set(firsts.map((r) => dataOf(r).me.id))).toEqual(new Set([userId]));

    const completed = await createCompletedRun(db.prisma, userId);
    const failed = await createCompletedRun(db.prisma, userId, { status: 'FAILED', errorMessage: 'boom' });
    const card = await db.prisma.opportunityCard.findFirstOrThrow({ where: { runId: completed.id, number: 1 } });

    const created = dataOf(
      await execute(
        server.url,
        CreateRunDocument,
        { input: { companyId: 'acme', companyName: 'Acme', documentName: 'r.pdf', documentUrl: 'https://x.test/r.pdf' } },
        { token },
      ),
    );
    expect(created.createRun.status).toBe('PENDING');
    expect(
      dataOf(await execute(server.url, SetCardStarredDocument, { id: card.id, starred: true }, { token })).setCardStarred.starred,
    ).toBe(true);
    expect(dataOf(await execute(server.url, RetryRunDocument, { id: failed.id }, { token })).retryRun.status).toBe('PENDING'); // a transaction
    expect(dataOf(await execute(server.url, DeleteRunDocument, { id: created.createRun.id }, { token })).deleteRun.deletedRunId).toBe(
      created.createRun.id,
    );

    // 60 requests at once on a pool of 5 connections to PgBouncer.
    const many = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        i % 2
          ? execute(server.url, RunsDocument, { first: 5 }, { token })
          : execute(server.url, RunDetailDocument, { id: completed.id }, { token }),
      ),
    );
    expect(many.filter((r) => r.errors)).toEqual([]);
    // PgBouncer's statistics are refreshed every second.
    let after = before;
    for (let i = 0; i < 50 && after <= before + 60; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await pooledTransactions();
    }
    expect(after).toBeGreaterThan(before + 60);
  });

  it('rate limits (raw upserts) hold through PgBouncer', async () => {
    const token = await signer.sign({ sub: 'user_bouncer_limits' });
    const input = { companyId: 'acme', companyName: 'Acme', documentName: 'r.pdf', documentUrl: 'https://x.test/r.pdf' };
    const results = await Promise.all(Array.from({ length: 5 }, () => execute(server.url, CreateRunDocument, { input }, { token })));
    expect(results.filter((r) => !r.errors)).toHaveLength(3);
    expect(results.filter((r) => codesOf(r).includes('RATE_LIMITED'))).toHaveLength(2);
  });

  it('subscriptions LISTEN on DIRECT_URL and see changes written through PgBouncer', async () => {
    const token = await signer.sign({ sub: 'user_bouncer_live' });
    const { me } = dataOf(await execute(server.url, MeDocument, {}, { token }));
    const run = await createRun(db.prisma, me.id);
    const client = wsClient(server.wsUrl, token);
    try {
      const sub = subscribeWs(client, RunProgressDocument, { id: run.id });
      await sub.waitFor((m) => m.data?.runUpdated.status === 'PENDING');
      // The pipeline's write, through PgBouncer: its NOTIFY is sent at commit like any other.
      const viaBouncer = new pg.Client({ connectionString: bouncer.urlFor(db.name) });
      await viaBouncer.connect();
      try {
        await viaBouncer.query(`UPDATE "Run" SET status = 'RUNNING', "currentStage" = 2, "updatedAt" = now() WHERE id = $1`, [run.id]);
        await sub.waitFor((m) => m.data?.runUpdated.currentStage === 2);
        await viaBouncer.query(`UPDATE "Run" SET status = 'COMPLETED', "currentStage" = 5, "updatedAt" = now() WHERE id = $1`, [run.id]);
      } finally {
        await viaBouncer.end();
      }
      await sub.ended;
      expect(sub.messages.at(-1)?.data?.runUpdated).toMatchObject({ status: 'COMPLETED', currentStage: 5 });
    } finally {
      await client.dispose();
    }
  });

  it('npm start migrates through DIRECT_URL and serves through PgBouncer', async () => {
    const empty = await createEmptyDatabase();
    const main = await startMain({
      DATABASE_URL: `${bouncer.urlFor(empty.name)}?pgbouncer=true&connection_limit=2`,
      DIRECT_URL: empty.url,
      CLERK_JWT_KEY: signer.publicKeyPem,
    });
    try {
      expect(main.output()).toContain('applied migrations');
      expect((await fetch(`${main.url}/ready`)).status).toBe(200);
      const token = await signer.sign({ sub: 'user_bouncer_main' });
      expect(dataOf(await execute(main.url, MeDocument, {}, { token })).me.id).toBeTruthy();
    } finally {
      expect(await main.stop()).toBe(0);
      await empty.drop();
    }
  });
});

if (!binary) {
  it.skip('PgBouncer tests: pgbouncer is not installed on this machine', () => undefined);
}
