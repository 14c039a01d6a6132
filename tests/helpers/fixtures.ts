/** Small builders for rows a test needs; every value can be overridden, ids and emails are unique. */
import { randomUUID } from 'node:crypto';
import type { Database } from '../../src/db/client';
import type { Prisma } from '../../src/generated/prisma/client';

export async function createUser(db: Database, data: Partial<Prisma.UserCreateInput> = {}) {
  const suffix = randomUUID().slice(0, 8);
  return db.user.create({
    data: { clerkId: `user_${suffix}`, email: `${suffix}@example.com`, name: `User ${suffix}`, ...data },
  });
}

export async function createRun(db: Database, userId: string, data: Partial<Prisma.RunUncheckedCreateInput> = {}) {
  return db.run.create({
    data: {
      userId,
      companyId: 'lactalis-canada',
      companyName: 'Lactalis',
      documentName: 'trend-report-q1-2025.pdf',
      documentUrl: 'https://example.com/trend-report-q1-2025.pdf',
      ...data,
    },
  });
}

/** A completed run with everything the pipeline writes: report, five stage outputs, five cards. */
export async function createCompletedRun(db: Database, userId: string, data: Partial<Prisma.RunUncheckedCreateInput> = {}) {
  const run = await createRun(db, userId, { status: 'COMPLETED', currentStage: 5, completedAt: new Date(), ...data });
  await db.inspirationReport.create({
    data: {
      runId: run.id,
      inspiration1Title: 'Convenience as a ritual',
      inspiration1Content: 'Quick meals become moments.',
      inspiration1Elements: ['convenience', 'ritual'],
      inspiration2Title: 'Local pride',
      inspiration2Content: 'Provenance stories.',
      inspiration2Elements: ['provenance'],
    },
  });
  await db.stageOutput.createMany({
    data: [1, 2, 3, 4, 5].map((stageNumber) => ({
      runId: run.id,
      stageNumber,
      markdownOutput: `# Stage ${stageNumber}`,
      jsonOutput: { stage: stageNumber },
    })),
  });
  await db.opportunityCard.createMany({
    data: [1, 2, 3, 4, 5].map((number) => ({
      runId: run.id,
      userId,
      number,
      title: `Opportunity ${number}`,
      tagline: `Tagline ${number}`,
      problem: 'Problem',
      solution: 'Solution',
      why_now: 'Why now',
      target_segment: 'Segment',
      quick_win: 'Quick win',
    })),
  });
  return run;
}
