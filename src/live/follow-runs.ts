/**
 * The two live streams of runs: one run as it moves through the pipeline (`runUpdated`), and every run of a
 * user (`runsUpdated`). Each message is the run refetched with the subscription's own selection (so the same
 * ownership rules and field shapes as a query apply), triggered by the database's NOTIFY events.
 */
import type { GraphQLResolveInfo } from 'graphql';
import { ownerOf, type Owner } from '../auth/owner';
import type { Run } from '../generated/prisma/client';
import { RunStatus } from '../generated/prisma/enums';
import { TERMINAL_STATUSES } from '../runs/statuses';
import type { LiveContext } from './context';
import { LastSent, runSelectionOf } from './selection';
import { Changes, Stream } from './stream';
import type { Signal } from './watchers';

const isTerminal = (run: Run) => TERMINAL_STATUSES.has(run.status);

/** A message of `followRun` and `followRuns`: a run's newest state, or the id of a run just deleted. */
export type RunUpdate = Run | { deletedRunId: string };

/**
 * One run: its current state at once, then its newest state after each change of what the subscriber selected,
 * ending after COMPLETED, FAILED or CANCELLED (always sent), or with a last `{ deletedRunId }` when the run is
 * deleted. Null when the run does not exist or is not the user's. Throws SubscriptionLimitReached beyond the
 * user's limit.
 */
export async function followRun(ctx: LiveContext, runId: string, info: GraphQLResolveInfo): Promise<Stream<RunUpdate> | null> {
  const owner = ownerOf(ctx);
  const { subscriptionQuota, watchers, sharedReads, db } = ctx.services;
  const release = subscriptionQuota.claim(owner.userId);
  const selection = runSelectionOf(ctx, info);
  const changes = new Changes(watchers, { runId });
  const read = () => sharedReads.run(db, owner, runId, selection.query);
  const abandon = () => {
    changes.close();
    release();
  };
  let first: Run | null;
  try {
    first = await read();
  } catch (error) {
    abandon();
    throw error;
  }
  if (!first) {
    abandon();
    return null;
  }
  return new Stream<RunUpdate>(ctx, changes, release, async (push) => {
    let run: Run | null = first;
    // One run: what it last looked like to this subscriber is one string, not a LastSent.
    let sent = selection.seen(run);
    await push(run);
    while (!isTerminal(run)) {
      if (!(await changes.take())) return;
      run = await read();
      if (!run) {
        // Deleted: the subscriber is told so, and nothing more will happen to it.
        await push({ deletedRunId: runId });
        return;
      }
      const seen = selection.seen(run);
      // The last message (COMPLETED, FAILED or CANCELLED) is always sent: the stream ends with it.
      if (seen === sent && !isTerminal(run)) continue;
      sent = seen;
      await push(run);
    }
  });
}

/**
 * Every change to any of the user's runs, newest state only, each sent once per change of what the subscriber
 * selected; `statuses` keeps only runs now in one of them. Throws SubscriptionLimitReached beyond the limit.
 */
export function followRuns(ctx: LiveContext, statuses: readonly string[] | null | undefined, info: GraphQLResolveInfo): Stream<RunUpdate> {
  const owner = ownerOf(ctx);
  const { subscriptionQuota, watchers, sharedReads, db } = ctx.services;
  const release = subscriptionQuota.claim(owner.userId);
  const selection = runSelectionOf(ctx, info);
  const wanted = statuses?.length ? new Set<string>(statuses) : undefined;
  const changes = new Changes(watchers, { userId: owner.userId });
  const sent = new LastSent(selection);
  return new Stream<RunUpdate>(ctx, changes, release, async (push) => {
    for (;;) {
      const signals = await changes.take();
      if (!signals) return;
      const { changed, deleted } = await affectedRuns(ctx, owner, signals);
      for (const runId of deleted) {
        sent.forget(runId);
        await push({ deletedRunId: runId });
      }
      for (const runId of changed) {
        const run = await sharedReads.run(db, owner, runId, selection.query);
        if (run && (!wanted || wanted.has(run.status)) && sent.changed(run)) await push(run);
      }
    }
  });
}

/** Which runs a batch of signals concerns: deleted ones (reported as such) and changed ones (refetched). */
async function affectedRuns(ctx: LiveContext, owner: Owner, signals: Signal[]) {
  const changed = new Set<string>();
  const deleted = new Set<string>();
  for (const signal of signals) {
    if (signal.kind === 'resync') {
      for (const id of await recentlyChangedRunIds(ctx, owner)) changed.add(id);
    } else if (signal.event.change === 'deleted') {
      deleted.add(signal.event.runId);
      changed.delete(signal.event.runId);
    } else if (!deleted.has(signal.event.runId)) {
      changed.add(signal.event.runId);
    }
  }
  return { changed, deleted };
}

/** After a reconnect: the runs that may have changed while no notifications could arrive. */
async function recentlyChangedRunIds(ctx: LiveContext, owner: Owner): Promise<string[]> {
  const since = new Date(Date.now() - 60_000);
  const rows = await ctx.services.db.run.findMany({
    where: owner.runs({ OR: [{ updatedAt: { gte: since } }, { status: { in: [RunStatus.PENDING, RunStatus.RUNNING] } }] }),
    select: { id: true },
    orderBy: { updatedAt: 'desc' },
    take: 100,
  });
  return rows.map((row) => row.id);
}
