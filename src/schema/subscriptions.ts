/**
 * Live run progress. Each message is the run refetched with the selection of the subscription itself
 * (so the same ownership rules and field shapes as a query apply), triggered by the database's NOTIFY events.
 * Bursts coalesce: while a refetch runs, further changes collapse into one more refetch, so a subscriber
 * always ends on the newest state and never receives an older state after a newer one.
 */
import { queryFromInfo } from '@pothos/plugin-prisma';
import type { GraphQLResolveInfo } from 'graphql';
import type { Signal } from '../db/events';
import type { Run as RunRow } from '../generated/prisma/client';
import { RunStatus } from '../generated/prisma/enums';
import { builder } from './builder';
import { currentUser, type Context } from './context';
import { clientError, notFound, withClientErrors } from './errors';
import { Run, RunStatusEnum } from './run';

const TERMINAL = new Set<string>([RunStatus.COMPLETED, RunStatus.FAILED]);

/**
 * Turns watcher callbacks into an async iterator of "something changed" ticks. Any number of signals that
 * arrive before the consumer asks again become one tick (carrying the events seen, for runsUpdated).
 */
class Ticks implements AsyncIterableIterator<Signal[]> {
  private pending: Signal[] = [];
  private waiting: ((result: IteratorResult<Signal[]>) => void) | undefined;
  private closed = false;

  push(signal: Signal): void {
    if (this.closed) return;
    this.pending.push(signal);
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: this.drain(), done: false });
    }
  }

  private drain(): Signal[] {
    const batch = this.pending;
    this.pending = [];
    return batch;
  }

  next(): Promise<IteratorResult<Signal[]>> {
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    if (this.pending.length) return Promise.resolve({ value: this.drain(), done: false });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<Signal[]>> {
    this.closed = true;
    this.waiting?.({ value: undefined, done: true });
    this.waiting = undefined;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator]() {
    return this;
  }
}

/**
 * Subscribers of the same run with the same selection share one refetch per change: concurrent identical
 * reads (they are woken by the same event) reuse one in-flight query.
 */
const inFlight = new Map<string, Promise<RunRow | null>>();

function fetchRun(ctx: Context, userId: string, runId: string, query: object): Promise<RunRow | null> {
  const key = `${userId}|${runId}|${JSON.stringify(query)}`;
  let pending = inFlight.get(key);
  if (!pending) {
    pending = withClientErrors(ctx.db.run.findFirst({ ...query, where: { id: runId, userId } }) as Promise<RunRow | null>).finally(() =>
      inFlight.delete(key),
    );
    inFlight.set(key, pending);
  }
  return pending;
}

/** Refuses a new subscription beyond the user's concurrent limit on this instance. */
function checkSubscriptionQuota(ctx: Context, userId: string): void {
  const max = ctx.maxSubscriptionsPerUser;
  if (ctx.events.watcherCountOf(userId) >= max) {
    throw clientError('RATE_LIMITED', `At most ${max} subscriptions may be open at once per user; close some first`, {
      limit: 'subscriptionsPerUser',
      max,
    });
  }
}

/** The subscription's own selection, plus what the stream itself needs (id and status). */
function selectionOf(ctx: Context, info: GraphQLResolveInfo): object {
  return queryFromInfo({ context: ctx, info, select: { id: true, status: true } });
}

async function* followRun(ctx: Context, userId: string, runId: string, query: object, ticks: Ticks, first: RunRow) {
  let run: RunRow | null = first;
  yield run;
  if (TERMINAL.has(run.status)) return;
  for await (const _signals of ticks) {
    run = await fetchRun(ctx, userId, runId, query);
    if (!run) return; // deleted: nothing more will happen to it
    yield run;
    if (TERMINAL.has(run.status)) return;
  }
}

builder.subscriptionType({ authScopes: { authenticated: true } });

builder.subscriptionField('runUpdated', (t) =>
  t.field({
    type: Run,
    description:
      'One of your runs as it moves through the pipeline: the current state at once, then the newest state after ' +
      'every change of status, stage, error or outputs (bursts may arrive as one message). Completes after ' +
      'sending COMPLETED or FAILED, or when the run is deleted. NOT_FOUND when the run does not exist or is not yours.',
    args: { id: t.arg.id({ required: true }) },
    subscribe: async (_root, { id }, ctx, info) => {
      const userId = currentUser(ctx).id;
      checkSubscriptionQuota(ctx, userId);
      const query = selectionOf(ctx, info);
      // Watch before reading, so a change between the read and the first event cannot be missed.
      const ticks = new Ticks();
      const unwatch = ctx.events.watch(userId, (signal) => {
        if (signal.kind === 'resync' || signal.event.runId === id) ticks.push(signal);
      });
      try {
        const first = await fetchRun(ctx, userId, id, query);
        if (!first) throw notFound('Run');
        return stream(followRun(ctx, userId, id, query, ticks, first), ticks, unwatch);
      } catch (error) {
        unwatch();
        throw error;
      }
    },
    resolve: (run) => run as RunRow,
  }),
);

builder.subscriptionField('runsUpdated', (t) =>
  t.field({
    type: Run,
    description:
      'Every change to any of your runs (including runs just created by you or by the pipeline), newest state ' +
      'first, for a dashboard list; `status` keeps only runs now in one of these statuses. A deleted run arrives ' +
      'as a message with `data: null` and one error whose extensions are ' +
      '`{ code: "NOT_FOUND", deleted: true, runId }`: remove that run from the list. After the server reconnects ' +
      'to the database it resends the current state of your runs that changed in the last minute.',
    args: { status: t.arg({ type: [RunStatusEnum], description: 'Only runs now in one of these statuses' }) },
    subscribe: (_root, { status }, ctx, info) => {
      const userId = currentUser(ctx).id;
      checkSubscriptionQuota(ctx, userId);
      const query = selectionOf(ctx, info);
      const wanted = status?.length ? new Set<string>(status) : undefined;
      const ticks = new Ticks();
      const unwatch = ctx.events.watch(userId, (signal) => ticks.push(signal));
      return stream(followUserRuns(ctx, userId, query, wanted, ticks), ticks, unwatch);
    },
    resolve: (update) => {
      if ('deletedRunId' in update) {
        throw clientError('NOT_FOUND', `Run ${update.deletedRunId} was deleted`, { deleted: true, runId: update.deletedRunId });
      }
      return update;
    },
  }),
);

type RunUpdate = RunRow | { deletedRunId: string };

async function* followUserRuns(ctx: Context, userId: string, query: object, wanted: Set<string> | undefined, ticks: Ticks) {
  for await (const signals of ticks) {
    const changed = new Set<string>();
    const deleted = new Set<string>();
    for (const signal of signals) {
      if (signal.kind === 'resync') {
        for (const id of await recentlyChangedRunIds(ctx, userId)) changed.add(id);
      } else if (signal.event.change === 'deleted') {
        deleted.add(signal.event.runId);
        changed.delete(signal.event.runId);
      } else if (!deleted.has(signal.event.runId)) {
        changed.add(signal.event.runId);
      }
    }
    for (const runId of deleted) yield { deletedRunId: runId } satisfies RunUpdate;
    for (const runId of changed) {
      const run = await fetchRun(ctx, userId, runId, query);
      if (run && (!wanted || wanted.has(run.status))) yield run satisfies RunUpdate;
    }
  }
}

/** After a reconnect: the runs that may have changed while no notifications could arrive. */
async function recentlyChangedRunIds(ctx: Context, userId: string): Promise<string[]> {
  const since = new Date(Date.now() - 60_000);
  const rows = await withClientErrors(
    ctx.db.run.findMany({
      where: { userId, OR: [{ updatedAt: { gte: since } }, { status: { in: [RunStatus.PENDING, RunStatus.RUNNING] } }] },
      select: { id: true },
      orderBy: { updatedAt: 'desc' },
      take: 100,
    }),
  );
  return rows.map((row) => row.id);
}

/**
 * The iterator handed to GraphQL, and the one place a stream lets go of its watcher and ticks, however it ends.
 * Stopping it (unsubscribe, disconnect) must take effect even while the stream waits for the next change: an
 * async generator would queue `return()` behind that wait, keeping the watcher alive until some event arrived.
 * Closing the ticks first ends the wait at once.
 */
function stream<T>(source: AsyncGenerator<T>, ticks: Ticks, unwatch: () => void): AsyncIterableIterator<T> {
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    unwatch();
    void ticks.return();
  };
  return {
    async next() {
      const result = await source.next();
      if (result.done) finish();
      return result;
    },
    async return() {
      finish();
      return source.return(undefined);
    },
    async throw(error?: unknown) {
      finish();
      return source.throw(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
