/**
 * Live run progress. Each message is the run refetched with the selection of the subscription itself
 * (so the same ownership rules and field shapes as a query apply), triggered by the database's NOTIFY events.
 * Bursts coalesce: while a refetch runs or a message waits for its subscriber, further changes collapse into
 * one more refetch, so a subscriber always ends on the newest state and never receives an older state after
 * a newer one. Stopping a stream (unsubscribe, disconnect) takes effect at once, even while it waits for
 * the next change.
 */
import { queryFromInfo } from '@pothos/plugin-prisma';
import { Kind, type GraphQLError, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import { describeEnded, endsAccessOf } from '../auth/revocations';
import type { Signal } from '../db/events';
import type { Run as RunRow } from '../generated/prisma/client';
import { RunStatus } from '../generated/prisma/enums';
import { builder } from './builder';
import type { Context } from './context';
import { clientError, notFound } from './errors';
import { NewestValue } from './newest-value';
import { ownerOf, type Owner } from './owner';
import { Run, RunStatusEnum } from './run';

const TERMINAL = new Set<string>([RunStatus.COMPLETED, RunStatus.FAILED]);
/** The key of a pending resync among a watch's per-run signals (no run id looks like it). */
const RESYNC = '\u0000resync';

/**
 * The signals of one subscriber, registered the moment it is created (so a change between the first read
 * and the first event cannot be missed) and collected until taken: a burst is taken as one batch.
 */
class Watch {
  /**
   * What happened since the last take, one entry per run (its deletion, else its newest event) plus a
   * resync: however long a subscriber is stuck behind a slow socket, this holds at most one entry per run.
   */
  private pending: Map<string, Signal> | undefined; // only while something is pending: most watches wait
  private wake: (() => void) | undefined;
  private closed = false;
  private readonly unwatch: () => void;

  /** `register` subscribes the watch to its signals (all of a user's runs, or one run) and returns the unsubscribe. */
  constructor(register: (onSignal: (signal: Signal) => void) => () => void) {
    this.unwatch = register((signal) => {
      const key = signal.kind === 'resync' ? RESYNC : signal.event.runId;
      const pending = (this.pending ??= new Map<string, Signal>());
      const earlier = pending.get(key);
      if (earlier?.kind !== 'event' || earlier.event.change !== 'deleted') pending.set(key, signal);
      this.wake?.();
    });
  }

  /**
   * The signals since the last call, once there is at least one; undefined once closed. Not an async
   * function: a suspended one would be held by every waiting subscription.
   */
  take(): Promise<Signal[] | undefined> {
    if (this.pending || this.closed) return Promise.resolve(this.drain());
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        resolve(this.drain());
      };
    });
  }

  private drain(): Signal[] | undefined {
    if (this.closed || !this.pending) return undefined;
    const batch = [...this.pending.values()];
    this.pending = undefined;
    return batch;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unwatch();
    this.wake?.();
  }
}

type Push<T> = (value: T) => Promise<unknown>;

const TOKEN_EXPIRED = 'Session token expired: subscribe again with a fresh one';

/** The last message of a stream whose session was ended or revoked, or whose user was deleted, in Clerk. */
interface AccessEnded {
  accessEnded: string;
}

/**
 * The stream handed to GraphQL: `produce` pushes messages until it returns or the watch is closed. A push
 * resolves once its message is taken (or replaced), so a subscriber behind a slow socket holds one message,
 * and the watch coalesces what happens meanwhile. Stopping the stream (unsubscribe, disconnect) closes the
 * watch at once, which ends a wait for the next change; so does a subscriber that lets go before asking for
 * the first message (`produce` never starts then). When Clerk ends the operation's session or deletes its
 * user, the stream sends one UNAUTHENTICATED message instead of anything not yet taken, and ends: that closes
 * an SSE response (a WebSocket is closed as a whole, by the socket's own watch). An error thrown by `produce`
 * reaches the subscriber after the message it still holds.
 */
class Stream<T> extends NewestValue<T | AccessEnded> {
  private started = false;
  /** Resolves the push whose message is held. */
  private taken: (() => void) | undefined;
  private accessEnded = false;
  private stopWatchingAccess: (() => void) | undefined;
  private expiry: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: Context,
    private readonly watch: Watch,
    private readonly produce: (push: Push<T>) => Promise<void>,
  ) {
    super();
  }

  override next(): Promise<IteratorResult<T | AccessEnded>> {
    if (!this.started) this.start();
    return super.next();
  }

  override stop(error?: unknown): void {
    this.stopWatchingAccess?.();
    clearTimeout(this.expiry);
    this.watch.close();
    super.stop(error);
  }

  protected override heldGone(): void {
    const taken = this.taken;
    this.taken = undefined;
    taken?.();
  }

  private start(): void {
    this.started = true;
    const { ctx } = this;
    const holder = { clerkId: ctx.user.clerkId, sessionId: ctx.sessionId };
    this.stopWatchingAccess = ctx.revocations.onEnded((access) => {
      if (endsAccessOf(access, holder)) this.endAccess(describeEnded(access));
    });
    if (ctx.liveUntil !== undefined) {
      this.expiry = setTimeout(() => this.endAccess(TOKEN_EXPIRED), Math.max(0, Math.min(ctx.liveUntil - Date.now(), 2 ** 31 - 1)));
      this.expiry.unref();
    }
    this.produce((value) => this.pushAndWait(value)).then(
      () => this.stop(),
      (error: unknown) => this.stop(error),
    );
  }

  /** Sends one UNAUTHENTICATED message instead of anything not yet taken, and ends the stream. */
  private endAccess(reason: string): void {
    if (this.accessEnded || this.stopped) return;
    this.push({ accessEnded: reason });
    // Nothing produced after the end of access is sent, even a read that was already under way.
    this.accessEnded = true;
    this.watch.close();
  }

  /** Pushes `value` (unless access ended) and resolves once it is taken or replaced. */
  private pushAndWait(value: T): Promise<void> {
    if (this.accessEnded || this.stopped) return Promise.resolve();
    this.push(value);
    return this.holding ? new Promise((resolve) => (this.taken = resolve)) : Promise.resolve();
  }
}

/** Resolves a stream's message: a run, or the UNAUTHENTICATED end of its access. */
function messageOf<T extends object>(update: T | AccessEnded): T {
  if ('accessEnded' in update) throw clientError('UNAUTHENTICATED', update.accessEnded);
  return update;
}

/** The refusal of a new subscription beyond the user's concurrent limit on this instance, if it is one. */
export function subscriptionQuotaError(ctx: Context): GraphQLError | undefined {
  const max = ctx.maxSubscriptionsPerUser;
  if (ctx.events.watcherCountOf(ctx.user.id) < max) return undefined;
  return clientError('RATE_LIMITED', `At most ${max} subscriptions may be open at once per user; close some first`, {
    limit: 'subscriptionsPerUser',
    max,
  });
}

function checkSubscriptionQuota(ctx: Context): void {
  const refused = subscriptionQuotaError(ctx);
  if (refused) throw refused;
}

interface Selection {
  /** What each refetch reads: the subscription's own selection, plus what the stream itself needs. */
  query: object;
  /** The state of a run as this subscriber sees it: only the fields it selected. */
  seen(run: RunRow): string;
}

/**
 * Whether the subscription's selection names `field` at its top level, through fragments too. A field under
 * @skip or @include counts as named: at worst a change of it is sent once more, never one missed.
 */
function namesField(info: GraphQLResolveInfo, field: string): boolean {
  const visited = new Set<string>();
  const inSet = (set: SelectionSetNode | undefined): boolean =>
    (set?.selections ?? []).some((selection) => {
      if (selection.kind === Kind.FIELD) return selection.name.value === field;
      if (selection.kind === Kind.INLINE_FRAGMENT) return inSet(selection.selectionSet);
      if (visited.has(selection.name.value)) return false;
      visited.add(selection.name.value);
      return inSet(info.fragments[selection.name.value]?.selectionSet);
    });
  return info.fieldNodes.some((node) => inSet(node.selectionSet));
}

/** The subscription's own selection, plus what the stream itself needs (id and status). */
function selectionOf(ctx: Context, info: GraphQLResolveInfo): Selection {
  const query = queryFromInfo({ context: ctx, info, select: { id: true, status: true } });
  // Read off the document rather than by a second queryFromInfo: that was a tenth of a subscribe's allocations.
  const hidden = ['id', 'status'].filter((field) => !namesField(info, field));
  return {
    query,
    seen: (run) => {
      const visible: Record<string, unknown> = { ...run };
      for (const field of hidden) delete visible[field];
      return JSON.stringify(visible);
    },
  };
}

/**
 * What each run last looked like to one `runsUpdated` subscriber. A refetch after a change the subscriber
 * did not select (a stage output it does not read, say) is the same message again; it is not sent.
 * Bounded: a run not seen among the last thousand is at worst sent once more.
 */
class LastSent {
  // A Map, not lru-cache: an LRUCache allocates its arrays for `max` entries up front, ~24 KB per
  // subscription, while a dashboard's subscription usually remembers a few runs.
  private readonly states = new Map<string, string>();

  constructor(
    private readonly selection: Selection,
    private readonly max = 1000,
  ) {}

  /** True, and remembered, when `run` differs from what this subscriber was last sent for it. */
  changed(run: RunRow): boolean {
    const state = this.selection.seen(run);
    if (this.states.get(run.id) === state) return false;
    // Re-inserted last: the Map's first key is then the run whose state was sent longest ago.
    this.states.delete(run.id);
    this.states.set(run.id, state);
    if (this.states.size > this.max) this.states.delete(this.states.keys().next().value!);
    return true;
  }

  forget(runId: string): void {
    this.states.delete(runId);
  }
}

builder.subscriptionType({ description: 'Live changes to your runs (graphql-ws or SSE)', authScopes: { authenticated: true } });

builder.subscriptionField('runUpdated', (t) =>
  t.field({
    type: Run,
    description:
      'One of your runs as it moves through the pipeline: the current state at once, then the newest state after ' +
      'every change of status, stage, error or outputs (bursts may arrive as one message). Completes after ' +
      'sending COMPLETED or FAILED, or when the run is deleted. NOT_FOUND when the run does not exist or is not yours.',
    args: { id: t.arg.id({ required: true, description: "The run's id" }) },
    subscribe: async (_root, { id }, ctx, info) => {
      const owner = ownerOf(ctx);
      checkSubscriptionQuota(ctx);
      const selection = selectionOf(ctx, info);
      const watch = new Watch((onSignal) => ctx.events.watchRun(owner.userId, id, onSignal));
      const read = () => ctx.sharedReads.run(ctx.db, owner, id, selection.query);
      let first: RunRow | null;
      try {
        first = await read();
      } catch (error) {
        watch.close();
        throw error;
      }
      if (!first) {
        watch.close();
        throw notFound('Run');
      }
      return new Stream<RunRow>(ctx, watch, async (push) => {
        let run: RunRow | null = first;
        // One run: what it last looked like to this subscriber is one string, not a LastSent.
        let sent = selection.seen(run);
        await push(run);
        while (!TERMINAL.has(run.status)) {
          if (!(await watch.take())) return;
          run = await read();
          if (!run) return; // deleted: nothing more will happen to it
          const seen = selection.seen(run);
          // The last message (COMPLETED or FAILED) is always sent: the stream ends with it.
          if (seen === sent && !TERMINAL.has(run.status)) continue;
          sent = seen;
          await push(run);
        }
      });
    },
    resolve: (update) => messageOf(update),
  }),
);

type RunUpdate = RunRow | { deletedRunId: string };

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
      const owner = ownerOf(ctx);
      checkSubscriptionQuota(ctx);
      const selection = selectionOf(ctx, info);
      const wanted = status?.length ? new Set<string>(status) : undefined;
      const watch = new Watch((onSignal) => ctx.events.watch(owner.userId, onSignal));
      const sent = new LastSent(selection);
      return new Stream<RunUpdate>(ctx, watch, async (push) => {
        for (;;) {
          const signals = await watch.take();
          if (!signals) return;
          const { changed, deleted } = await affectedRuns(ctx, owner, signals);
          for (const runId of deleted) {
            sent.forget(runId);
            await push({ deletedRunId: runId });
          }
          for (const runId of changed) {
            const run = await ctx.sharedReads.run(ctx.db, owner, runId, selection.query);
            if (run && (!wanted || wanted.has(run.status)) && sent.changed(run)) await push(run);
          }
        }
      });
    },
    resolve: (message) => {
      const update = messageOf(message);
      if ('deletedRunId' in update) {
        throw clientError('NOT_FOUND', `Run ${update.deletedRunId} was deleted`, { deleted: true, runId: update.deletedRunId });
      }
      return update;
    },
  }),
);

/** Which runs a batch of signals concerns: deleted ones (reported as such) and changed ones (refetched). */
async function affectedRuns(ctx: Context, owner: Owner, signals: Signal[]) {
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
async function recentlyChangedRunIds(ctx: Context, owner: Owner): Promise<string[]> {
  const since = new Date(Date.now() - 60_000);
  const rows = await ctx.db.run.findMany({
    where: owner.runs({ OR: [{ updatedAt: { gte: since } }, { status: { in: [RunStatus.PENDING, RunStatus.RUNNING] } }] }),
    select: { id: true },
    orderBy: { updatedAt: 'desc' },
    take: 100,
  });
  return rows.map((row) => row.id);
}
