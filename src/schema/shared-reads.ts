/**
 * How subscriptions read runs. Subscribers woken by the same event read the same run at the same moment:
 * identical reads (same owner, run and selection) share one query while it is in flight. Reads of different
 * runs with the same selection in the same tick (many subscriptions starting at once, a reconnect storm)
 * are batched into one query, each run still matched to its own user in the SQL. One instance per server.
 */
import DataLoader from 'dataloader';
import type { Database } from '../db/client';
import type { Run } from '../generated/prisma/client';
import type { Owner } from './owner';

/** Runs per batched query: the OR of (id, userId) pairs stays a modest statement. */
const MAX_BATCH = 512;

interface Read {
  owner: Owner;
  runId: string;
}

type Selection = { select?: Record<string, unknown> } & Record<string, unknown>;

export class SharedReads {
  private readonly inFlight = new Map<string, Promise<Run | null>>();
  /** One loader per selection while it has reads waiting: a loader is dropped once its batch is sent. */
  private readonly loaders = new Map<string, DataLoader<Read, Run | null>>();

  run(db: Database, owner: Owner, runId: string, query: object): Promise<Run | null> {
    const selection = JSON.stringify(query);
    const key = `${owner.userId}|${runId}|${selection}`;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.loaderFor(db, selection, query as Selection)
        .load({ owner, runId })
        .finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private loaderFor(db: Database, selection: string, query: Selection): DataLoader<Read, Run | null> {
    let loader = this.loaders.get(selection);
    if (!loader) {
      const created = new DataLoader<Read, Run | null>(
        (reads) => {
          if (this.loaders.get(selection) === created) this.loaders.delete(selection);
          return readBatch(db, query, reads);
        },
        // At the end of this turn of the event loop: every subscribe and every wake-up handled in it joins.
        { cache: false, maxBatchSize: MAX_BATCH, batchScheduleFn: (send) => setImmediate(send) },
      );
      loader = created;
      this.loaders.set(selection, loader);
    }
    return loader;
  }
}

/** One query for the batch, filtered by each (run, owner) pair; each read gets its own row or null. */
async function readBatch(db: Database, query: Selection, reads: readonly Read[]): Promise<Array<Run | null>> {
  if (reads.length === 1) {
    const [{ owner, runId }] = reads as [Read];
    const row: unknown = await db.run.findFirst({ ...query, where: owner.run(runId) });
    return [row as Run | null];
  }
  const select = query.select ? { ...query.select, id: true, userId: true } : undefined;
  const pairs = reads.map(({ owner, runId }) => owner.run(runId));
  // Padded to a power of two with repeats of the last pair (which match nothing more): Prisma caches the
  // plan it compiles per query shape, and an OR of every length from 2 to 500 would be that many shapes,
  // each compiled anew (6% of the server's time in a reconnect storm).
  while (pairs.length & (pairs.length - 1)) pairs.push(pairs.at(-1)!);
  const found: unknown[] = await db.run.findMany({ ...query, ...(select ? { select } : {}), where: { OR: pairs } });
  const rows = found as Run[];
  const byOwner = new Map(rows.map((row) => [`${row.id}|${row.userId}`, row]));
  return reads.map(({ owner, runId }) => byOwner.get(`${runId}|${owner.userId}`) ?? null);
}
