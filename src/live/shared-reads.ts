/**
 * How subscriptions read runs. Subscribers woken by the same event read the same run at the same moment:
 * identical reads (same owner, run and selection) share one query while it is in flight. Reads of different
 * runs with the same selection in the same tick (many subscriptions starting at once, a reconnect storm)
 * are batched into one query, each run still matched to its own user in the SQL. One instance per server.
 */
import { inSpan } from '../spans';
import DataLoader from 'dataloader';
import type { Database } from '../db/client';
import type { Prisma, Run } from '../generated/prisma/client';
import type { Owner } from '../auth/owner';

/** Runs per batched query: the statement stays modest. */
const MAX_BATCH = 500;

interface Read {
  owner: Owner;
  runId: string;
}

type RunQuery = { select?: Record<string, unknown> } & Record<string, unknown>;

export class SharedReads {
  private readonly inFlight = new Map<string, Promise<Run | null>>();
  /** One loader per selection while it has reads waiting: a loader is dropped once its batch is sent. */
  private readonly loaders = new Map<string, DataLoader<Read, Run | null>>();

  run(db: Database, owner: Owner, runId: string, query: object): Promise<Run | null> {
    const selection = JSON.stringify(query);
    const key = `${owner.userId}|${runId}|${selection}`;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.loaderFor(db, selection, query as RunQuery)
        .load({ owner, runId })
        .finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private loaderFor(db: Database, selection: string, query: RunQuery): DataLoader<Read, Run | null> {
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

/**
 * One query for the batch: for each user, that user's requested runs (so each run is still matched to its
 * own user in the SQL); each read gets its own row or null.
 *
 * Shaped so Prisma's plan cache serves it. Prisma compiles a plan per query shape, and its shape counts one
 * placeholder per distinct value: an OR of (id, user) pairs would be a new shape for every pattern of repeated
 * users, compiled anew each time (bench/results/live-2026-11-29.md measured it in a reconnect storm). Here each user's ids are
 * one list placeholder, and the groups are padded to a power of two with groups that match nothing, each
 * with values of its own (a repeated group would reuse placeholders and make a shape of its own again).
 */
function readBatch(db: Database, query: RunQuery, reads: readonly Read[]): Promise<Array<Run | null>> {
  return inSpan('subscription.refetch', { 'opportunity.reads': reads.length }, () => readRuns(db, query, reads));
}

async function readRuns(db: Database, query: RunQuery, reads: readonly Read[]): Promise<Array<Run | null>> {
  if (reads.length === 1) {
    const [{ owner, runId }] = reads as [Read];
    const row: unknown = await db.run.findFirst({ ...query, where: owner.run(runId) });
    return [row as Run | null];
  }
  const idsByUser = new Map<string, string[]>();
  for (const { owner, runId } of reads) {
    const ids = idsByUser.get(owner.userId);
    if (ids) ids.push(runId);
    else idsByUser.set(owner.userId, [runId]);
  }
  const groups: Prisma.RunWhereInput[] = [...idsByUser].map(([userId, ids]) => ({ userId, id: { in: ids } }));
  for (let pad = 0; groups.length & (groups.length - 1); pad++) groups.push(matchingNothing(pad));
  const select = query.select ? { ...query.select, id: true, userId: true } : undefined;
  const found: unknown[] = await db.run.findMany({ ...query, ...(select ? { select } : {}), where: { OR: groups } });
  const rows = found as Run[];
  const byOwner = new Map(rows.map((row) => [`${row.id}|${row.userId}`, row]));
  return reads.map(({ owner, runId }) => byOwner.get(`${runId}|${owner.userId}`) ?? null);
}

/**
 * A group with values of its own that no row has (ids are UUIDs). Even if one did, its row would answer no
 * read: rows are handed to reads by their (run, user) pair.
 */
function matchingNothing(pad: number): Prisma.RunWhereInput {
  return { userId: `padding:${pad}`, id: { in: [`padding:${pad}`] } };
}
