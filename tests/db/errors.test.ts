/** The Prisma → client error table , against real constraint failures and as plain logic. */
import { Prisma } from '../../src/generated/prisma/client';
import { createPrismaClient } from '../../src/db/client';
import { fieldsFromIndexName, isDatabaseUnavailable, toClientError } from '../../src/db/errors';
import { logger } from '../../src/logger';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { createRun, createUser } from '../helpers/fixtures';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the database to refuse this');
}

describe('database failures mapped to client errors', () => {
  it('duplicate clerkId → P2002 → CONFLICT naming clerkId', async () => {
    const user = await createUser(db.prisma);
    const error = await failure(createUser(db.prisma, { clerkId: user.clerkId }));
    expect(error).toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
    expect((error as Prisma.PrismaClientKnownRequestError).code).toBe('P2002');
    expect(toClientError(error)).toEqual({
      code: 'CONFLICT',
      message: 'Duplicate entry on clerkId: a record with this value already exists',
      fields: ['clerkId'],
    });
  });

  it('duplicate email → P2002 → CONFLICT naming email', async () => {
    const user = await createUser(db.prisma);
    const error = await failure(createUser(db.prisma, { email: user.email }));
    expect(toClientError(error)).toMatchObject({ code: 'CONFLICT', fields: ['email'] });
    expect(toClientError(error).message).toContain('email');
  });

  it('a card for a missing run → P2003 → BAD_USER_INPUT (invalid reference)', async () => {
    const user = await createUser(db.prisma);
    const error = await failure(
      db.prisma.opportunityCard.create({
        data: {
          runId: '00000000-0000-4000-8000-000000000000',
          userId: user.id,
          number: 1,
          title: 't',
          tagline: 't',
          problem: 'p',
          solution: 's',
          why_now: 'w',
          target_segment: 't',
          quick_win: 'q',
        },
      }),
    );
    expect((error as Prisma.PrismaClientKnownRequestError).code).toBe('P2003');
    expect(toClientError(error)).toEqual({
      code: 'BAD_USER_INPUT',
      message: 'Invalid reference: the related record does not exist',
    });
  });

  it('updating a missing record → P2025 → NOT_FOUND', async () => {
    const error = await failure(db.prisma.run.update({ where: { id: '00000000-0000-4000-8000-000000000000' }, data: { currentStage: 1 } }));
    expect((error as Prisma.PrismaClientKnownRequestError).code).toBe('P2025');
    expect(toClientError(error)).toEqual({ code: 'NOT_FOUND', message: 'Run not found' });
  });

  it('a missing table → P2021 → internal error, with a log line that names npm run db:migrate', async () => {
    const user = await createUser(db.prisma);
    await createRun(db.prisma, user.id);
    await db.sql.query('ALTER TABLE "StageOutput" RENAME TO "StageOutput_hidden"');
    const lines: string[] = [];
    const spy = jest.spyOn(logger, 'error').mockImplementation((message) => void lines.push(message));
    try {
      const error = await failure(db.prisma.stageOutput.findMany());
      expect((error as Prisma.PrismaClientKnownRequestError).code).toBe('P2021');
      expect(toClientError(error)).toEqual({ code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' });
      expect(lines.join('\n')).toMatch(/not migrated.*npm run db:migrate/);
    } finally {
      spy.mockRestore();
      await db.sql.query('ALTER TABLE "StageOutput_hidden" RENAME TO "StageOutput"');
    }
  });
});

describe('the table as logic', () => {
  const known = (code: string, meta?: Record<string, unknown>) =>
    new Prisma.PrismaClientKnownRequestError('SELECT secret FROM "User" failed at /srv/app.ts:12', { code, clientVersion: 'test', meta });

  beforeEach(() => jest.spyOn(logger, 'error').mockImplementation(() => undefined));
  afterEach(() => jest.restoreAllMocks());

  it('reads the constraint fields from meta.target when Prisma puts them there', () => {
    expect(toClientError(known('P2002', { target: ['email'] }))).toMatchObject({ code: 'CONFLICT', fields: ['email'] });
  });

  it('turns Prisma index names into the fields they cover', () => {
    expect(fieldsFromIndexName('User_clerkId_key')).toEqual(['clerkId']);
    expect(fieldsFromIndexName('OpportunityCard_runId_why_now_key')).toEqual(['runId', 'why_now']);
    expect(fieldsFromIndexName('custom_index_name')).toEqual(['custom_index_name']);
  });

  it('never sends details of unknown Prisma errors or plain exceptions, and logs them', () => {
    for (const error of [known('P2034'), new Error('connection refused to 10.0.0.5 as admin'), 'a string']) {
      const mapped = toClientError(error);
      expect(mapped).toEqual({ code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' });
      expect(JSON.stringify(mapped)).not.toMatch(/secret|10\.0\.0\.5|app\.ts/);
    }
    expect(logger.error).toHaveBeenCalledTimes(3);
  });
});

describe('the database unavailable → SERVICE_UNAVAILABLE', () => {
  it('a server that refuses connections', async () => {
    const unreachable = createPrismaClient('postgresql://postgres@127.0.0.1:1/nowhere', { logQueries: false, production: false });
    try {
      const error = await failure(unreachable.user.count());
      expect(toClientError(error)).toEqual({ code: 'SERVICE_UNAVAILABLE', message: expect.stringMatching(/retry/) as unknown });
    } finally {
      await unreachable.$disconnect();
    }
  });

  it('a connection terminated mid-query (the server shutting down, a failover)', async () => {
    const client = createPrismaClient(db.url, { logQueries: false, production: false });
    try {
      const sleeping = failure(client.$queryRaw`SELECT pg_sleep(30), 'terminated by the test' AS marker`);
      // Terminated as soon as it is running: the statement's own text finds its backend.
      for (;;) {
        const { rowCount } = await db.sql.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%terminated by the test%' AND pid <> pg_backend_pid()`,
        );
        if (rowCount) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(toClientError(await sleeping).code).toBe('SERVICE_UNAVAILABLE');
    } finally {
      await client.$disconnect();
    }
  });

  it('is not claimed for other failures', () => {
    expect(isDatabaseUnavailable(new Error('boom'))).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error('admin shutdown'), { code: '57P01' }))).toBe(true);
    expect(isDatabaseUnavailable(new Error('wrapped', { cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) }))).toBe(
      true,
    );
  });
});
