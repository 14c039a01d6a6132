/**
 * Per-request batch loaders for what the Prisma plugin cannot fold into the parent query efficiently.
 * Prisma's `_count` of a relation compiles to a LEFT JOIN on a GROUP BY over the whole related table, which
 * grows with every user's data; these count only the rows of the runs on the page, through the index.
 */
import DataLoader from 'dataloader';
import type { Database } from '../db/client';

export interface Loaders {
  /** Number of opportunity cards per run id. */
  cardCountByRun: DataLoader<string, number>;
}

export function createLoaders(db: Database): Loaders {
  return {
    // No cache: a subscription's context lives for many messages, and each must count afresh.
    cardCountByRun: new DataLoader(
      async (runIds) => {
        const rows = await db.opportunityCard.groupBy({
          by: ['runId'],
          where: { runId: { in: [...runIds] } },
          _count: { _all: true },
        });
        const counts = new Map(rows.map((row) => [row.runId, row._count._all]));
        return runIds.map((id) => counts.get(id) ?? 0);
      },
      { cache: false },
    ),
  };
}
