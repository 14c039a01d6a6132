/** The migrated schema behaves as designed: cascades, indexes, constraints. */
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { createCompletedRun, createUser } from '../helpers/fixtures';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

async function countRows(runIds: string[], userId: string) {
  const p = db.prisma;
  return {
    runs: await p.run.count({ where: { userId } }),
    cards: await p.opportunityCard.count({ where: { runId: { in: runIds } } }),
    reports: await p.inspirationReport.count({ where: { runId: { in: runIds } } }),
    outputs: await p.stageOutput.count({ where: { runId: { in: runIds } } }),
  };
}

describe('cascading deletes', () => {
  it('deleting a user removes its runs, cards, inspiration reports and stage outputs', async () => {
    const user = await createUser(db.prisma);
    const other = await createUser(db.prisma);
    const runs = [await createCompletedRun(db.prisma, user.id), await createCompletedRun(db.prisma, user.id)];
    const otherRun = await createCompletedRun(db.prisma, other.id);
    const runIds = runs.map((r) => r.id);
    expect(await countRows(runIds, user.id)).toEqual({ runs: 2, cards: 10, reports: 2, outputs: 10 });

    await db.prisma.user.delete({ where: { id: user.id } });

    expect(await countRows(runIds, user.id)).toEqual({ runs: 0, cards: 0, reports: 0, outputs: 0 });
    expect(await countRows([otherRun.id], other.id)).toEqual({ runs: 1, cards: 5, reports: 1, outputs: 5 });
  });

  it('deleting a run removes only its own children, not the user or sibling runs', async () => {
    const user = await createUser(db.prisma);
    const [doomed, kept] = [await createCompletedRun(db.prisma, user.id), await createCompletedRun(db.prisma, user.id)];

    await db.prisma.run.delete({ where: { id: doomed.id } });

    expect(await countRows([doomed.id], user.id)).toEqual({ runs: 1, cards: 0, reports: 0, outputs: 0 });
    expect(await countRows([kept.id], user.id)).toEqual({ runs: 1, cards: 5, reports: 1, outputs: 5 });
    expect(await db.prisma.user.findUnique({ where: { id: user.id } })).not.toBeNull();
  });

  it('cascades for writers that bypass Prisma too (the foreign keys live in the database)', async () => {
    const user = await createUser(db.prisma);
    const run = await createCompletedRun(db.prisma, user.id);
    await db.sql.query('DELETE FROM "User" WHERE id = $1', [user.id]);
    expect(await countRows([run.id], user.id)).toEqual({ runs: 0, cards: 0, reports: 0, outputs: 0 });
  });
});

describe('indexes', () => {
  it('has exactly the indexes schema.prisma declares (plus primary keys)', async () => {
    const { rows } = await db.sql.query<{ tablename: string; indexname: string; indexdef: string }>(
      `SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'
       ORDER BY tablename, indexname`,
    );
    const columns = (def: string) => def.slice(def.indexOf('(') + 1, def.lastIndexOf(')')).replace(/"/g, '');
    const found = Object.fromEntries(
      rows.map((r) => [r.indexname, `${r.tablename}${r.indexdef.includes('UNIQUE') ? ' unique' : ''} (${columns(r.indexdef)})`]),
    );
    expect(found).toEqual({
      // @@id
      User_pkey: 'User unique (id)',
      Run_pkey: 'Run unique (id)',
      OpportunityCard_pkey: 'OpportunityCard unique (id)',
      InspirationReport_pkey: 'InspirationReport unique (id)',
      StageOutput_pkey: 'StageOutput unique (id)',
      // @unique
      User_clerkId_key: 'User unique (clerkId)',
      User_email_key: 'User unique (email)',
      InspirationReport_runId_key: 'InspirationReport unique (runId)',
      // @@index
      User_clerkId_idx: 'User (clerkId)',
      User_email_idx: 'User (email)',
      Run_userId_createdAt_idx: 'Run (userId, createdAt)',
      Run_status_idx: 'Run (status)',
      Run_companyId_idx: 'Run (companyId)',
      OpportunityCard_userId_starred_idx: 'OpportunityCard (userId, starred)',
      OpportunityCard_userId_createdAt_idx: 'OpportunityCard (userId, createdAt)',
      OpportunityCard_runId_number_idx: 'OpportunityCard (runId, number)',
      InspirationReport_runId_idx: 'InspirationReport (runId)',
      StageOutput_runId_stageNumber_idx: 'StageOutput (runId, stageNumber)',
      // Added later: this user's runs by status or company, newest first (migration run_list_indexes)
      Run_userId_status_createdAt_idx: 'Run (userId, status, createdAt)',
      Run_userId_companyId_createdAt_idx: 'Run (userId, companyId, createdAt)',
      // Added later: the rate-limit counters (migration rate_limits).
      RateLimitCounter_pkey: 'RateLimitCounter unique (key, windowStart)',
      RateLimitCounter_windowStart_idx: 'RateLimitCounter (windowStart)',
      // Added later: Clerk's user lifecycle (migration clerk_webhooks).
      ProcessedWebhook_pkey: 'ProcessedWebhook unique (id)',
      ProcessedWebhook_processedAt_idx: 'ProcessedWebhook (processedAt)',
      ClerkUserState_pkey: 'ClerkUserState unique (clerkId)',
      RevokedSession_pkey: 'RevokedSession unique (sessionId)',
      RevokedSession_forgetAfter_idx: 'RevokedSession (forgetAfter)',
      // Added later: how often each run was retried (migration run_retries).
      RunRetries_pkey: 'RunRetries unique (runId)',
      // Added later: pipeline leases and createRun's idempotency keys (migration run_lifecycle).
      RunLease_pkey: 'RunLease unique (runId)',
      IdempotencyKey_pkey: 'IdempotencyKey unique (userId, key)',
      IdempotencyKey_createdAt_idx: 'IdempotencyKey (createdAt)',
      IdempotencyKey_runId_idx: 'IdempotencyKey (runId)',
    });
  });

  it('stores the snake_case card columns and markdown as text, JSON as jsonb', async () => {
    const { rows } = await db.sql.query<{ table_name: string; column_name: string; data_type: string }>(
      `SELECT table_name, column_name, data_type FROM information_schema.columns
       WHERE table_schema = 'public' AND column_name IN ('why_now', 'target_segment', 'quick_win', 'markdownOutput', 'jsonOutput', 'inspiration1Elements')
       ORDER BY table_name, column_name`,
    );
    expect(rows).toEqual([
      { table_name: 'InspirationReport', column_name: 'inspiration1Elements', data_type: 'ARRAY' },
      { table_name: 'OpportunityCard', column_name: 'quick_win', data_type: 'text' },
      { table_name: 'OpportunityCard', column_name: 'target_segment', data_type: 'text' },
      { table_name: 'OpportunityCard', column_name: 'why_now', data_type: 'text' },
      { table_name: 'StageOutput', column_name: 'jsonOutput', data_type: 'jsonb' },
      { table_name: 'StageOutput', column_name: 'markdownOutput', data_type: 'text' },
    ]);
  });
});

describe('defaults', () => {
  it('a new run starts PENDING at stage 0 with createdAt and updatedAt set', async () => {
    const user = await createUser(db.prisma);
    const run = await db.prisma.run.create({
      data: { userId: user.id, companyId: 'acme', companyName: 'Acme', documentName: 'a.pdf', documentUrl: 'https://x.test/a.pdf' },
    });
    expect(run).toMatchObject({ status: 'PENDING', currentStage: 0, errorMessage: null, completedAt: null });
    expect(run.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(run.updatedAt.getTime()).toBeGreaterThanOrEqual(run.createdAt.getTime());
  });
});

describe('updatedAt', () => {
  /** A writer that is not Prisma (the pipeline's SQL), in a session whose time zone is not UTC. */
  async function updateWithoutUpdatedAt(sql: string, params: unknown[]) {
    const client = await db.sql.connect();
    try {
      await client.query("SET TIME ZONE 'America/New_York'");
      await client.query(sql, params);
    } finally {
      client.release();
    }
  }

  it('is set by the database when an UPDATE leaves it as it was, in UTC like the values Prisma writes', async () => {
    const user = await createUser(db.prisma);
    const run = await createCompletedRun(db.prisma, user.id);
    const [card] = await db.prisma.opportunityCard.findMany({ where: { runId: run.id }, take: 1 });
    const report = await db.prisma.inspirationReport.findUniqueOrThrow({ where: { runId: run.id } });
    const past = new Date('2020-01-01T00:00:00.000Z');
    await db.sql.query(`UPDATE "Run" SET "updatedAt" = $1 WHERE id = $2`, [past, run.id]);
    await db.sql.query(`UPDATE "User" SET "updatedAt" = $1 WHERE id = $2`, [past, user.id]);
    await db.sql.query(`UPDATE "OpportunityCard" SET "updatedAt" = $1 WHERE id = $2`, [past, card!.id]);
    await db.sql.query(`UPDATE "InspirationReport" SET "updatedAt" = $1 WHERE id = $2`, [past, report.id]);

    const before = Date.now();
    await updateWithoutUpdatedAt(`UPDATE "Run" SET "errorMessage" = 'noted' WHERE id = $1`, [run.id]);
    await updateWithoutUpdatedAt(`UPDATE "User" SET email = $2 WHERE id = $1`, [user.id, `moved-${user.id}@example.com`]);
    await updateWithoutUpdatedAt(`UPDATE "OpportunityCard" SET starred = true WHERE id = $1`, [card!.id]);
    await updateWithoutUpdatedAt(`UPDATE "InspirationReport" SET "inspiration1Title" = 'revised' WHERE id = $1`, [report.id]);

    const updated = [
      (await db.prisma.run.findUniqueOrThrow({ where: { id: run.id } })).updatedAt,
      (await db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).updatedAt,
      (await db.prisma.opportunityCard.findUniqueOrThrow({ where: { id: card!.id } })).updatedAt,
      (await db.prisma.inspirationReport.findUniqueOrThrow({ where: { id: report.id } })).updatedAt,
    ];
    for (const updatedAt of updated) {
      // The clocks of this process and the database's may differ a little; a time zone mistake would be hours.
      expect(Math.abs(updatedAt.getTime() - before)).toBeLessThan(60_000);
    }
  });

  it('keeps the value an UPDATE sets itself (Prisma sets it on the client)', async () => {
    const user = await createUser(db.prisma);
    const run = await createCompletedRun(db.prisma, user.id);
    const chosen = new Date('2021-06-01T12:00:00.000Z');
    await db.prisma.run.update({ where: { id: run.id }, data: { errorMessage: 'x', updatedAt: chosen } });
    expect((await db.prisma.run.findUniqueOrThrow({ where: { id: run.id } })).updatedAt).toEqual(chosen);
  });
});
