/**
 * One subscription's stream, and where its coalescing happens. Two things collapse bursts, both here:
 * - `Changes`: the signals a subscription has not yet acted on, one per run (its deletion, else its newest
 *   event) plus a resync, taken as one batch; however long the subscriber is busy, it holds one entry per run.
 * - `Stream`: what GraphQL iterates, a NewestValue (one slot, src/live/newest-value.ts); the producer's push
 *   resolves once its message is taken or replaced, so a subscriber behind a slow socket holds one message
 *   while `Changes` collects what happens meanwhile.
 * A subscriber therefore always ends on the newest state and never receives an older state after a newer one.
 */
import { describeEnded, endsAccessOf } from '../auth/revocations';
import type { LiveContext } from './context';
import { NewestValue } from './newest-value';
import type { Signal, Watchers } from './watchers';

/** The key of a pending resync among the per-run signals (no run id looks like it). */
const RESYNC = '\u0000resync';

/** What a subscription is watching: one run (runUpdated) or every run of its user (runsUpdated). */
export type Watched = { runId: string } | { userId: string };

/**
 * The signals of one subscription, registered the moment it is created (so a change between the first read
 * and the first event cannot be missed) and collected until taken.
 */
export class Changes {
  /** What happened since the last take; only while something is pending: most subscriptions wait. */
  private pending: Map<string, Signal> | undefined;
  private wake: (() => void) | undefined;
  private closed = false;
  private readonly unwatch: () => void;

  constructor(watchers: Watchers, watched: Watched) {
    const onSignal = (signal: Signal) => {
      const key = signal.kind === 'resync' ? RESYNC : signal.event.runId;
      const pending = (this.pending ??= new Map<string, Signal>());
      const earlier = pending.get(key);
      if (earlier?.kind !== 'event' || earlier.event.change !== 'deleted') pending.set(key, signal);
      this.wake?.();
    };
    this.unwatch = 'runId' in watched ? watchers.watchRun(watched.runId, onSignal) : watchers.watchUser(watched.userId, onSignal);
  }

  /**
   * The signals since the last call, once there is at least one; undefined once closed. Not an async
   * function: a suspended one would be kept alive by every waiting subscription.
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

export type Push<T> = (value: T) => Promise<unknown>;

const TOKEN_EXPIRED = 'Session token expired: subscribe again with a fresh one';

/** The last message of a stream whose session was ended or revoked, or whose user was deleted, in Clerk. */
export interface AccessEnded {
  accessEnded: string;
}

/**
 * The stream handed to GraphQL: `produce` pushes messages until it returns or the stream stops. Stopping it
 * (unsubscribe, disconnect) closes its `Changes` at once, which ends a wait for the next change, and gives back
 * its place in the user's quota; so does a subscriber that lets go before asking for the first message
 * (`produce` never starts then). When Clerk ends the operation's session or deletes its user, the stream sends
 * one `AccessEnded` message instead of anything not yet taken, and ends: that closes an SSE response (a
 * WebSocket is closed as a whole, by the socket's own check). An error thrown by `produce` reaches the
 * subscriber after the message still in the slot.
 */
export class Stream<T> extends NewestValue<T | AccessEnded> {
  private started = false;
  /** Resolves the push whose message is in the slot. */
  private taken: (() => void) | undefined;
  private accessEnded = false;
  private stopWatchingAccess: (() => void) | undefined;
  private expiry: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: LiveContext,
    private readonly changes: Changes,
    private readonly releaseQuota: () => void,
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
    this.changes.close();
    this.releaseQuota();
    super.stop(error);
  }

  protected override slotEmptied(): void {
    const taken = this.taken;
    this.taken = undefined;
    taken?.();
  }

  private start(): void {
    this.started = true;
    const { ctx } = this;
    const session = { clerkId: ctx.user.clerkId, sessionId: ctx.sessionId };
    this.stopWatchingAccess = ctx.services.revocations.onEnded((access) => {
      if (endsAccessOf(access, session)) this.endAccess(describeEnded(access));
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

  /** Sends one AccessEnded message instead of anything not yet taken, and ends the stream. */
  private endAccess(reason: string): void {
    if (this.accessEnded || this.stopped) return;
    this.push({ accessEnded: reason });
    // Nothing produced after the end of access is sent, even a read that was already under way.
    this.accessEnded = true;
    this.changes.close();
  }

  /** Pushes `value` (unless access ended) and resolves once it is taken or replaced. */
  private pushAndWait(value: T): Promise<void> {
    if (this.accessEnded || this.stopped) return Promise.resolve();
    this.push(value);
    return this.full ? new Promise((resolve) => (this.taken = resolve)) : Promise.resolve();
  }
}
