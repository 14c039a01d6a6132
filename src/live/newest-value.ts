/**
 * An async iterator with one slot for an undelivered value: a value pushed while nobody waits goes in the slot,
 * and a newer push replaces it. A subscriber behind a slow socket therefore skips to the newest state instead of
 * queueing every intermediate one; the last state of a stream is the newest, so it is never the one skipped.
 * Stopping it delivers the value still in the slot first, then the end (or the error it was stopped with, once).
 *
 * The one stream primitive of live updates: every subscription's stream (src/live/stream.ts) and every member of
 * a shared execution (src/live/shared-executions.ts) is one. Hand-written rather than a Repeater with a sliding
 * buffer because every open subscription keeps one or two alive and every message passes through them, so
 * their size and allocations per message are the live path's cost (bench/results/live-2026-11-29.md).
 */
export const asError = (error: unknown) => (error instanceof Error ? error : new Error('the subscription failed', { cause: error }));

export class NewestValue<T> implements AsyncIterableIterator<T> {
  /** The value pushed and not yet taken. */
  private slot: T | undefined;
  private waiting: ((next: IteratorResult<T>) => void) | undefined;
  private failWaiting: ((error: Error) => void) | undefined;
  private ended = false;
  private error: Error | undefined;

  /** Hands `value` to a waiting `next`, else puts it in the slot in place of one not yet taken. Ignored once stopped. */
  push(value: T): void {
    if (this.ended) return;
    if (this.waiting) return this.hand({ value, done: false });
    if (this.slot !== undefined) this.slotEmptied();
    this.slot = value;
  }

  /** Ends the stream after the value still in the slot; with an error, the consumer gets that error then. */
  stop(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.error = error === undefined ? undefined : asError(error);
    if (this.waiting) this.deliverEnd();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.slot !== undefined) {
      const value = this.slot;
      this.slot = undefined;
      this.slotEmptied();
      return Promise.resolve({ value, done: false });
    }
    if (this.ended) {
      const error = this.error;
      this.error = undefined;
      return error ? Promise.reject(error) : Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failWaiting = reject;
    });
  }

  /** The consumer lets go: nothing in the slot is delivered, and the stream stops. */
  return(): Promise<IteratorResult<T>> {
    if (this.slot !== undefined) this.slotEmptied();
    this.slot = undefined;
    this.error = undefined;
    this.stop();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    void this.return();
    return Promise.reject(asError(error));
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  /** Whether a pushed value waits to be taken. */
  protected get full(): boolean {
    return this.slot !== undefined;
  }

  protected get stopped(): boolean {
    return this.ended;
  }

  /** Called when the slot's value was taken, replaced or dropped. */
  protected slotEmptied(): void {}

  private hand(next: IteratorResult<T>): void {
    const resolve = this.waiting!;
    this.waiting = this.failWaiting = undefined;
    resolve(next);
  }

  private deliverEnd(): void {
    const error = this.error;
    this.error = undefined;
    if (!error) return this.hand({ value: undefined, done: true });
    const reject = this.failWaiting!;
    this.waiting = this.failWaiting = undefined;
    reject(error);
  }
}
